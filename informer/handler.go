package informer

import (
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/governor-io/governor/internal/broadcast"
)

// Handler receives an informer's notifications. Each Handler has its own
// buffer and goroutine: its methods are called one at a time, in event
// order, and a slow Handler delays nobody else.
//
// The objects passed in are shared and read-only (see [Cache]).
type Handler[T any] interface {
	// OnAdd is called for an object new to the handler. isInInitialList
	// is true for the objects of the first list (and for the synthetic
	// adds that a handler added late receives).
	OnAdd(obj T, isInInitialList bool)
	// OnUpdate is called when an object changes, and with oldObj ==
	// newObj on a resync.
	OnUpdate(oldObj, newObj T)
	// OnDelete is called once per deleted object. obj is the last known
	// state of the object, never a tombstone. finalStateKnown is false
	// when the informer learnt of the delete by relisting, so that obj is
	// the last state it saw rather than the state at deletion.
	OnDelete(obj T, finalStateKnown bool)
}

// HandlerFuncs is a [Handler] made of optional functions; nil ones are
// skipped.
type HandlerFuncs[T any] struct {
	AddFunc    func(obj T, isInInitialList bool)
	UpdateFunc func(oldObj, newObj T)
	DeleteFunc func(obj T, finalStateKnown bool)
}

// OnAdd calls AddFunc if it is set.
func (h HandlerFuncs[T]) OnAdd(obj T, isInInitialList bool) {
	if h.AddFunc != nil {
		h.AddFunc(obj, isInInitialList)
	}
}

// OnUpdate calls UpdateFunc if it is set.
func (h HandlerFuncs[T]) OnUpdate(oldObj, newObj T) {
	if h.UpdateFunc != nil {
		h.UpdateFunc(oldObj, newObj)
	}
}

// OnDelete calls DeleteFunc if it is set.
func (h HandlerFuncs[T]) OnDelete(obj T, finalStateKnown bool) {
	if h.DeleteFunc != nil {
		h.DeleteFunc(obj, finalStateKnown)
	}
}

// HandlerOptions configure one handler in [Informer.AddHandlerWithOptions].
// The zero value gives the defaults.
type HandlerOptions struct {
	// Name names the handler in metrics (label "handler") and logs. The
	// default is "handler-N" in the order handlers were added.
	Name string
	// ResyncPeriod is how often the handler gets OnUpdate(obj, obj) for
	// every cached object. Zero means the informer's [Options].ResyncPeriod;
	// a negative value turns resync off for this handler.
	ResyncPeriod time.Duration
	// LatestPerKey switches the handler to bounded delivery: instead of a
	// log of every event, the handler's buffer holds at most one pending
	// entry per key, and events on a key that is still pending are merged
	// into it. A lagging handler then holds memory proportional to the
	// number of keys, not to the number of events.
	//
	// The merged notifications keep the handler's view consistent: an add
	// followed by updates arrives as one OnAdd of the latest state, a run
	// of updates as one OnUpdate from the state the handler last saw to the
	// latest, an add then delete of an object the handler never saw as
	// nothing, and a delete then re-create as OnDelete then OnAdd.
	// Reconcilers, which only need keys, should use it.
	LatestPerKey bool
}

// handlerConfig is a handler's settled configuration.
type handlerConfig struct {
	name   string
	resync time.Duration // > 0: on
	latest bool
}

type noteKind uint8

const (
	noteAdd noteKind = iota
	noteUpdate
	noteDelete
)

// note is one buffered notification. flag is isInInitialList for adds and
// finalStateKnown for deletes.
type note[T any] struct {
	kind noteKind
	flag bool
	old  T
	obj  T
}

// pending is the merged state of one key in LatestPerKey mode.
type pending[T any] struct {
	// prev is what the handler last saw of the key, if hasPrev.
	prev    T
	hasPrev bool
	// gone is the object whose delete must be delivered, if hasGone.
	gone      T
	goneKnown bool
	hasGone   bool
	// cur is the latest state, if exists.
	cur     T
	exists  bool
	initial bool // an add from an initial list
	// syncCounts: delivering this entry counts towards HasSynced.
	syncCounts bool
}

// listener buffers notifications for one handler and runs it in its own
// goroutine.
type listener[T any] struct {
	h   Handler[T]
	cfg handlerConfig
	log *slog.Logger
	reg *Registration
	// check, if set, is the mutation detector's check of the objects a
	// call was given, run once the call returns.
	check  func(where string, objs ...T)
	wake   chan struct{} // capacity 1: "there is work"
	stopCh chan struct{}
	// act is bumped when the handler gets work and when it becomes idle;
	// informerAct is its informer's signal, bumped when it becomes idle.
	act         broadcast.Signal
	informerAct *broadcast.Signal

	mu      sync.Mutex
	stopped bool
	// busy: the goroutine holds notifications it has taken from the
	// buffer and not finished handling. Set in the critical section that
	// takes them, so that a notification is always buffered or in hand.
	busy bool
	// FIFO mode: buf is filled by the informer, spare is the drained
	// batch that the goroutine hands back for reuse.
	buf, spare []note[T]
	// LatestPerKey mode: queue holds each pending key once, in the order
	// it became pending.
	pend  map[string]*pending[T]
	queue []string
	qhead int
	pool  []*pending[T]

	// Sync tracking. FIFO: synced once processed reaches syncTarget.
	// LatestPerKey: synced once syncLeft entries marked syncCounts are
	// delivered.
	syncSet    bool
	syncTarget atomic.Uint64 // math.MaxUint64 until the sync point
	syncLeft   int
	syncedFlag atomic.Bool
	syncedCh   chan struct{}

	enqueued  atomic.Uint64
	processed atomic.Uint64
	backlog   atomic.Int64

	nextResync time.Time // guarded by the informer's lock
}

func newListener[T any](h Handler[T], cfg handlerConfig, log *slog.Logger, informerAct *broadcast.Signal) *listener[T] {
	l := &listener[T]{
		h:           h,
		cfg:         cfg,
		log:         log,
		wake:        make(chan struct{}, 1),
		stopCh:      make(chan struct{}),
		syncedCh:    make(chan struct{}),
		informerAct: informerAct,
	}
	l.syncTarget.Store(math.MaxUint64)
	if cfg.latest {
		l.pend = make(map[string]*pending[T])
	}
	return l
}

func (l *listener[T]) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// push buffers one notification. key is the object's cache key.
func (l *listener[T]) push(kind noteKind, key string, old, obj T, flag bool) {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return
	}
	l.enqueued.Add(1)
	if !l.cfg.latest {
		l.buf = append(l.buf, note[T]{kind: kind, flag: flag, old: old, obj: obj})
		l.backlog.Add(1)
	} else {
		l.merge(kind, key, old, obj, flag)
	}
	l.mu.Unlock()
	l.signal()
	l.act.Bump()
}

// merge folds one notification into the key's pending entry.
func (l *listener[T]) merge(kind noteKind, key string, old, obj T, flag bool) {
	p := l.pend[key]
	if p == nil {
		if n := len(l.pool); n > 0 {
			p = l.pool[n-1]
			l.pool = l.pool[:n-1]
		} else {
			p = new(pending[T])
		}
		switch kind {
		case noteUpdate:
			p.prev, p.hasPrev = old, true
		case noteDelete:
			p.prev, p.hasPrev = obj, true
		}
		l.pend[key] = p
		l.queue = append(l.queue, key)
		l.backlog.Add(1)
	}
	var zero T
	switch kind {
	case noteAdd:
		p.cur, p.exists = obj, true
		p.initial = p.initial || flag
	case noteUpdate:
		p.cur, p.exists = obj, true
	case noteDelete:
		if p.hasPrev && !p.hasGone {
			p.gone, p.goneKnown, p.hasGone = obj, flag, true
		}
		p.cur, p.exists = zero, false
		p.initial = false
	}
}

// markSyncPoint records that everything buffered so far belongs to the
// initial state: the handler is synced once it has handled all of it.
func (l *listener[T]) markSyncPoint() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.syncSet {
		return
	}
	l.syncSet = true
	if !l.cfg.latest {
		target := l.enqueued.Load()
		l.syncTarget.Store(target)
		if l.processed.Load() >= target {
			l.setSynced()
		}
		return
	}
	for _, p := range l.pend {
		p.syncCounts = true
		l.syncLeft++
	}
	if l.syncLeft == 0 {
		l.setSynced()
	}
}

func (l *listener[T]) setSynced() {
	if l.syncedFlag.CompareAndSwap(false, true) {
		close(l.syncedCh)
	}
}

// stop discards what is buffered and ends the goroutine after the
// notification in progress, if any.
func (l *listener[T]) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return
	}
	l.stopped = true
	l.buf, l.spare, l.pend, l.queue, l.pool = nil, nil, nil, nil, nil
	l.backlog.Store(0)
	close(l.stopCh)
	l.act.Bump() // idle now, unless a call is in progress
}

// run delivers notifications until stop.
func (l *listener[T]) run() {
	for {
		select {
		case <-l.stopCh:
			return
		case <-l.wake:
		}
		if l.cfg.latest {
			l.drainLatest()
		} else {
			l.drainFIFO()
		}
		// Out of work or stopped: nothing is in hand any more.
		l.mu.Lock()
		l.busy = false
		l.mu.Unlock()
		l.act.Bump()
		l.informerAct.Bump()
	}
}

// idle reports whether the handler has nothing buffered and is not
// handling a notification. A stopped handler is idle once the call in
// progress, if any, returns.
func (l *listener[T]) idle() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.busy && len(l.buf) == 0 && l.qhead == len(l.queue)
}

func (l *listener[T]) isStopped() bool {
	select {
	case <-l.stopCh:
		return true
	default:
		return false
	}
}

func (l *listener[T]) drainFIFO() {
	for {
		l.mu.Lock()
		batch := l.buf
		if len(batch) == 0 || l.stopped {
			l.mu.Unlock()
			return
		}
		l.buf = l.spare
		l.spare = nil
		l.busy = true
		l.mu.Unlock()
		var zero note[T]
		for i := range batch {
			if l.isStopped() {
				return
			}
			l.deliver(&batch[i])
			batch[i] = zero // let the objects go
			l.backlog.Add(-1)
			if n := l.processed.Add(1); n >= l.syncTarget.Load() && !l.syncedFlag.Load() {
				l.setSynced()
			}
		}
		l.mu.Lock()
		if !l.stopped && cap(batch) <= 4096 {
			l.spare = batch[:0]
		}
		l.mu.Unlock()
	}
}

func (l *listener[T]) drainLatest() {
	var zero pending[T]
	for !l.isStopped() {
		l.mu.Lock()
		if l.stopped || l.qhead == len(l.queue) {
			if !l.stopped {
				l.queue, l.qhead = l.queue[:0], 0
			}
			l.mu.Unlock()
			return
		}
		key := l.queue[l.qhead]
		l.queue[l.qhead] = ""
		l.qhead++
		p := l.pend[key]
		delete(l.pend, key)
		l.busy = true
		e := *p
		*p = zero
		if len(l.pool) < 1024 {
			l.pool = append(l.pool, p)
		}
		l.mu.Unlock()

		if e.hasGone {
			l.deliver(&note[T]{kind: noteDelete, obj: e.gone, flag: e.goneKnown})
			if e.exists {
				l.deliver(&note[T]{kind: noteAdd, obj: e.cur, flag: e.initial})
			}
		} else if e.exists && e.hasPrev {
			l.deliver(&note[T]{kind: noteUpdate, old: e.prev, obj: e.cur})
		} else if e.exists {
			l.deliver(&note[T]{kind: noteAdd, obj: e.cur, flag: e.initial})
		}
		l.backlog.Add(-1) // after the calls: the entry in hand is not yet handled
		l.processed.Add(1)
		if e.syncCounts {
			l.mu.Lock()
			l.syncLeft--
			if l.syncLeft == 0 {
				l.setSynced()
			}
			l.mu.Unlock()
		}
	}
}

// deliver calls the handler, recovering a panic so that one bad event
// does not stop the handler's goroutine.
func (l *listener[T]) deliver(n *note[T]) {
	if l.check != nil {
		// Deferred before the recover, so that it runs after it: a panic
		// it reports with is not taken for the handler's and recovered.
		defer l.afterCall(n)
	}
	defer func() {
		if r := recover(); r != nil {
			l.log.Error("informer: handler panicked", "handler", l.cfg.name, "panic", r)
		}
	}()
	switch n.kind {
	case noteAdd:
		l.h.OnAdd(n.obj, n.flag)
	case noteUpdate:
		l.h.OnUpdate(n.old, n.obj)
	case noteDelete:
		l.h.OnDelete(n.obj, n.flag)
	}
}

// afterCall runs the mutation detector's check on the objects of n.
func (l *listener[T]) afterCall(n *note[T]) {
	switch n.kind {
	case noteAdd:
		l.check(fmt.Sprintf("after handler %q returned from OnAdd", l.cfg.name), n.obj)
	case noteUpdate:
		l.check(fmt.Sprintf("after handler %q returned from OnUpdate", l.cfg.name), n.old, n.obj)
	case noteDelete:
		l.check(fmt.Sprintf("after handler %q returned from OnDelete", l.cfg.name), n.obj)
	}
}
