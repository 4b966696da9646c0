package workqueue

import (
	"context"
	"sync"

	"github.com/governor-io/governor/clock"
)

// Options configures a [Queue]. The zero value gives a plain FIFO queue on
// the wall clock, with [DefaultControllerRateLimiter] and no metrics.
type Options[T comparable] struct {
	// Name is the value of the metrics label "name".
	Name string
	// Clock drives delays, the default rate limiter and metrics. Nil means
	// [clock.Real].
	Clock clock.Clock
	// RateLimiter decides the delay of AddRateLimited. Nil means the
	// default controller limiter on Clock (see [DefaultControllerRateLimiter]).
	RateLimiter RateLimiter[T]
	// Metrics receives the queue's metrics. Nil means no metrics, at no
	// cost: the queue then reads no clock and keeps no timestamps for them.
	Metrics MetricsProvider
	// Tenant maps an item to its tenant (a namespace, say). Nil turns
	// fair sharing off. When set, Get serves the tenant with the fewest
	// items in processing first, and among equals the one served longest
	// ago, so that one noisy tenant cannot keep every worker to itself.
	Tenant func(T) string
	// PriorityStep is how many places in line one level of priority is
	// worth. An item added with priority p is handed out before every item
	// that is added more than (q-p)*PriorityStep enqueues after it with a
	// priority q, which bounds how long any item can wait. Zero or less
	// means [DefaultPriorityStep].
	PriorityStep int
}

// DefaultPriorityStep is the [Options.PriorityStep] used when none is set.
const DefaultPriorityStep = 16

// MaxPriority bounds the priorities a [Queue] distinguishes. Priorities
// above MaxPriority, or below -MaxPriority, are treated as MaxPriority and
// -MaxPriority.
const MaxPriority = 1 << 20

const maxPriorityStep = 1 << 20

// flags record where an item is. A key in processing is never queued at the
// same time; flagDirty is only set together with flagProcessing.
type flags uint8

const (
	flagQueued     flags = 1 << iota // in a lane, waiting for Get
	flagProcessing                   // handed out by Get, Done not called yet
	flagDirty                        // added again while processing
)

// entry is the state of one item that is queued or in processing. Entries
// stay put while they are in use, so that a lane slot points at its entry
// and Get needs no lookup by key; a finished entry goes to a free list and
// serves the next new item.
type entry[T comparable] struct {
	item  T
	seq   uint64   // tag of the item's live lane slot, valid while queued
	lane  *lane[T] // the tenant lane, nil without fair sharing
	prio  int32    // priority of the live slot, or the pending one while dirty
	flags flags
}

// Queue is a work queue of comparable items, as controllers use: an item
// that is added while queued is queued once, an item that is added while it
// is being processed is queued again only after [Queue.Done], and no item
// is ever handed to two workers at once. Otherwise items come out in the
// order they were added, unless priorities or fair sharing say otherwise.
//
// A Queue is safe for concurrent use. Create one with [New].
type Queue[T comparable] struct {
	mu   sync.Mutex
	cond sync.Cond // signalled when an item is queued and on shutdown

	items map[T]*entry[T]
	free  []*entry[T]  // finished entries for reuse; like items, it keeps its peak size
	main  lane[T]      // the only lane when Tenant is nil
	fair  *fairness[T] // non-nil when Tenant is set

	seq        uint64 // last enqueue tag handed out
	step       int64
	queued     int // items that Get can hand out (Len)
	processing int
	waiters    int // goroutines blocked in Get

	shuttingDown bool
	draining     bool
	drained      chan struct{} // closed when processing reaches zero while draining

	clock   clock.Clock
	limiter RateLimiter[T]
	metrics *recorder[T] // nil without metrics

	delay delayState[T]
}

// New returns an empty [Queue] configured by opts. A queue that never
// delays an item starts no goroutine.
func New[T comparable](opts Options[T]) *Queue[T] {
	clk := clock.OrReal(opts.Clock)
	q := &Queue[T]{
		items:   make(map[T]*entry[T]),
		clock:   clk,
		limiter: opts.RateLimiter,
		step:    DefaultPriorityStep,
	}
	q.cond.L = &q.mu
	if opts.PriorityStep > 0 {
		q.step = int64(min(opts.PriorityStep, maxPriorityStep))
	}
	if q.limiter == nil {
		q.limiter = DefaultControllerRateLimiter[T](clk)
	}
	if opts.Tenant != nil {
		q.fair = newFairness(opts.Tenant)
	}
	if opts.Metrics != nil {
		q.metrics = newRecorder(q, opts.Name, opts.Metrics)
	}
	return q
}

func clampPriority(p int) int32 {
	return int32(max(-MaxPriority, min(MaxPriority, p)))
}

// rank is an enqueue's place in line: lower goes first. A priority moves an
// item step places ahead per level, so waiting items age past newer ones.
func (q *Queue[T]) rank(seq uint64, prio int32) int64 {
	return int64(seq) - int64(prio)*q.step
}

// Add queues item with priority 0. It does nothing after [Queue.ShutDown].
func (q *Queue[T]) Add(item T) {
	q.mu.Lock()
	q.addLocked(item, 0)
	q.mu.Unlock()
}

// AddWithPriority queues item with the given priority: a higher priority is
// handed out earlier, 0 is the priority of [Queue.Add]. Waiting items age
// (see [Options.PriorityStep]), so that no item starves. Adding an item that
// is already queued keeps whichever of its two places is further ahead; an
// item added while it is processed is queued again after Done with the
// highest priority it was added with.
func (q *Queue[T]) AddWithPriority(item T, priority int) {
	q.mu.Lock()
	q.addLocked(item, clampPriority(priority))
	q.mu.Unlock()
}

func (q *Queue[T]) addLocked(item T, prio int32) {
	if q.shuttingDown {
		return
	}
	e, ok := q.items[item]
	switch {
	case !ok:
		e = q.newEntry(item)
		if q.fair != nil {
			e.lane = q.fair.laneFor(item)
		}
		q.enqueueLocked(e, prio)
		q.items[item] = e
		if q.metrics != nil {
			q.metrics.added(item)
		}
	case e.flags&flagProcessing != 0:
		if e.flags&flagDirty == 0 {
			e.flags |= flagDirty
			e.prio = prio
			if q.metrics != nil {
				q.metrics.added(item)
			}
		} else if prio > e.prio {
			e.prio = prio
		}
	case prio > e.prio && q.rank(q.seq+1, prio) < q.rank(e.seq, e.prio):
		// A better place: the old slot goes stale and is skipped by Get.
		q.queued--
		q.laneOf(e).queued--
		q.enqueueLocked(e, prio)
	}
}

// newEntry returns a cleared entry for item, from the free list if it can.
func (q *Queue[T]) newEntry(item T) *entry[T] {
	if n := len(q.free); n > 0 {
		e := q.free[n-1]
		q.free[n-1] = nil
		q.free = q.free[:n-1]
		e.item = item
		return e
	}
	return &entry[T]{item: item}
}

// enqueueLocked puts e's item in its lane under a fresh tag and wakes a
// waiter.
func (q *Queue[T]) enqueueLocked(e *entry[T], prio int32) {
	q.seq++
	e.seq = q.seq
	e.prio = prio
	e.flags = flagQueued
	l := q.laneOf(e)
	l.push(e, q.seq, q.rank(q.seq, prio), prio)
	l.queued++
	q.queued++
	if q.fair != nil {
		q.fair.queuedIn(l)
	}
	if q.waiters > 0 {
		q.cond.Signal()
	}
}

func (q *Queue[T]) laneOf(e *entry[T]) *lane[T] {
	if e.lane != nil {
		return e.lane
	}
	return &q.main
}

// Get blocks until an item is queued and hands it out; the caller must call
// [Queue.Done] with it when finished. After [Queue.ShutDown], Get keeps
// handing out what is still queued, then returns shutdown = true.
func (q *Queue[T]) Get() (item T, shutdown bool) {
	q.mu.Lock()
	for q.queued == 0 && !q.shuttingDown {
		q.waiters++
		q.cond.Wait()
		q.waiters--
	}
	if q.queued == 0 {
		q.mu.Unlock()
		return item, true
	}
	item = q.popLocked()
	q.mu.Unlock()
	return item, false
}

// GetContext is [Queue.Get] that also gives up when ctx is done, returning
// ctx.Err(). It reports shutdown = true, with a nil error, once the queue is
// shut down and empty.
func (q *Queue[T]) GetContext(ctx context.Context) (item T, shutdown bool, err error) {
	if err := ctx.Err(); err != nil {
		return item, false, err
	}
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		q.cond.Broadcast()
		q.mu.Unlock()
	})
	defer stop()
	q.mu.Lock()
	for q.queued == 0 && !q.shuttingDown {
		if err := ctx.Err(); err != nil {
			q.mu.Unlock()
			return item, false, err
		}
		q.waiters++
		q.cond.Wait()
		q.waiters--
	}
	if q.queued == 0 {
		q.mu.Unlock()
		return item, true, nil
	}
	item = q.popLocked()
	q.mu.Unlock()
	return item, false, nil
}

// popLocked hands out the next live item; q.queued must be positive.
func (q *Queue[T]) popLocked() T {
	l := &q.main
	if q.fair != nil {
		l = q.fair.next()
	}
	for {
		s := l.pop()
		e := s.e
		if e.flags != flagQueued || e.seq != s.seq {
			continue // superseded by a better place, or finished
		}
		e.flags = flagProcessing
		q.queued--
		q.processing++
		l.queued--
		if q.fair != nil {
			q.fair.served(l)
		}
		if q.metrics != nil {
			q.metrics.got(e.item)
		}
		return e.item
	}
}

// Done marks item as processed. If it was added again while processing, it
// is queued again now. Done of an item that is not in processing does
// nothing.
func (q *Queue[T]) Done(item T) {
	q.mu.Lock()
	e, ok := q.items[item]
	if !ok || e.flags&flagProcessing == 0 {
		q.mu.Unlock()
		return
	}
	q.processing--
	if q.fair != nil {
		q.fair.finished(e.lane)
	}
	if q.metrics != nil {
		q.metrics.done(item)
	}
	if e.flags&flagDirty != 0 {
		q.enqueueLocked(e, e.prio)
	} else {
		delete(q.items, item)
		if q.fair != nil {
			q.fair.release(e.lane)
		}
		*e = entry[T]{} // its stale slots, if any, no longer match
		q.free = append(q.free, e)
	}
	if q.processing == 0 && q.drained != nil {
		close(q.drained)
		q.drained = nil
	}
	q.mu.Unlock()
}

// Len returns the number of items waiting to be handed out by Get. Items in
// processing and items waiting for a delay are not counted.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.queued
}

// Processing returns the number of items handed out by Get and not yet
// marked Done. With [Queue.Len] it tells whether the queue has any work:
// an item moves from queued to processing under one lock, so a caller that
// reads Len and then Processing never misses an item that Get handed out
// between the two reads.
func (q *Queue[T]) Processing() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.processing
}

// ShutDown stops the queue: later adds are dropped, delayed items are
// dropped, and Get hands out what is still queued, then reports shutdown.
// It does not wait for items in processing; see [Queue.ShutDownWithDrain].
func (q *Queue[T]) ShutDown() {
	q.mu.Lock()
	q.shutdownLocked()
	q.mu.Unlock()
	q.delay.wait()
}

func (q *Queue[T]) shutdownLocked() {
	if !q.shuttingDown {
		q.shuttingDown = true
		q.stopDelayLocked()
	}
	q.cond.Broadcast()
}

// ShutDownWithDrain shuts the queue down as [Queue.ShutDown] does, then
// waits until every item in processing is marked Done.
func (q *Queue[T]) ShutDownWithDrain() {
	_ = q.ShutDownWithDrainContext(context.Background())
}

// ShutDownWithDrainContext is [Queue.ShutDownWithDrain] that stops waiting
// when ctx is done and then returns ctx.Err(). The queue is shut down
// either way.
func (q *Queue[T]) ShutDownWithDrainContext(ctx context.Context) error {
	q.mu.Lock()
	q.draining = true
	q.shutdownLocked()
	var wait chan struct{}
	if q.processing > 0 {
		if q.drained == nil {
			q.drained = make(chan struct{})
		}
		wait = q.drained
	}
	q.mu.Unlock()
	q.delay.wait()
	if wait == nil {
		return nil
	}
	select {
	case <-wait:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ShuttingDown reports whether ShutDown or ShutDownWithDrain was called.
func (q *Queue[T]) ShuttingDown() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shuttingDown
}

// AddRateLimited adds item after the delay that the queue's [RateLimiter]
// gives it.
func (q *Queue[T]) AddRateLimited(item T) {
	q.AddAfter(item, q.limiter.When(item))
}

// Forget tells the rate limiter that item is finished with, so that its
// next failure starts a fresh backoff. It does not remove item from the
// queue.
func (q *Queue[T]) Forget(item T) { q.limiter.Forget(item) }

// NumRequeues returns how often the rate limiter has delayed item since it
// was last forgotten.
func (q *Queue[T]) NumRequeues(item T) int { return q.limiter.NumRequeues(item) }
