package reconcile

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/store/meta"
)

// PriorityLow is the priority at which an informer source enqueues the
// objects of its initial list when asked to (see [InformerOptions]). Live
// events use priority 0, so that after a restart fresh changes go first;
// the queue ages waiting items, so the initial list is never starved.
const PriorityLow = -100

// Queue is the part of a controller's work queue that a [Source] feeds.
type Queue[Req comparable] interface {
	// Add enqueues req at the default priority.
	Add(req Req)
	// AddWithPriority enqueues req at priority (higher first).
	AddWithPriority(req Req, priority int)
	// AddAfter enqueues req once d has passed.
	AddAfter(req Req, d time.Duration)
}

// Source feeds requests to a controller's queue. A controller starts each
// of its sources before its workers and waits for them to sync.
type Source[Req comparable] interface {
	// Start feeds q until ctx is done, then returns nil, or returns an
	// error at once if the source cannot start.
	Start(ctx context.Context, q Queue[Req]) error
	// WaitForSync blocks until the source has delivered its initial
	// state (for an informer, its initial list), or ctx is done.
	WaitForSync(ctx context.Context) error
}

// InformerOptions tune an informer [Source].
type InformerOptions[T meta.Object] struct {
	// Predicates filter the events; all must pass.
	Predicates []Predicate[T]
	// LowPriorityInitialList enqueues the objects of the initial list at
	// [PriorityLow].
	LowPriorityInitialList bool
	// Name names the source's handler in the informer's metrics and logs.
	Name string
}

// informerSource is a Source fed by an informer's events.
type informerSource[T meta.Object, Req comparable] struct {
	inf    *informer.Informer[T]
	mapper Mapper[T, Req]
	pred   Predicate[T]
	lowPri bool
	name   string
	reg    chan *informer.Registration // receives the registration once
	regPtr atomic.Pointer[informer.Registration]
}

// Pending returns the number of events buffered for the source's handler
// and not yet handled.
func (s *informerSource[T, Req]) Pending() int {
	if r := s.regPtr.Load(); r != nil {
		return r.Backlog()
	}
	return 0
}

// FromInformer returns a [Source] that maps each event of inf through m,
// after the predicates in opts. Add events of the initial list may go at
// low priority. The source registers its own handler on inf, so one
// informer can feed many controllers.
func FromInformer[T meta.Object, Req comparable](inf *informer.Informer[T], m Mapper[T, Req], opts InformerOptions[T]) Source[Req] {
	var pred Predicate[T]
	if len(opts.Predicates) > 0 {
		pred = And(opts.Predicates...)
	}
	name := opts.Name
	if name == "" {
		name = "reconcile"
	}
	return &informerSource[T, Req]{inf: inf, mapper: m, pred: pred, lowPri: opts.LowPriorityInitialList,
		name: name, reg: make(chan *informer.Registration, 1)}
}

func (s *informerSource[T, Req]) Start(ctx context.Context, q Queue[Req]) error {
	add := q.Add
	addLow := add
	if s.lowPri {
		addLow = func(r Req) { q.AddWithPriority(r, PriorityLow) }
	}
	h := informer.HandlerFuncs[T]{
		AddFunc: func(obj T, initial bool) {
			if s.pred != nil && !s.pred.Create(obj, initial) {
				return
			}
			if initial {
				s.mapper(obj, addLow)
				return
			}
			s.mapper(obj, add)
		},
		UpdateFunc: func(oldObj, newObj T) {
			if s.pred != nil && !s.pred.Update(oldObj, newObj) {
				return
			}
			// Both: an object that changes owner or labels must reach the
			// old owner's request and the new one's, but once each.
			var seen [4]Req
			n := 0
			s.mapper(newObj, func(r Req) {
				if n < len(seen) {
					seen[n] = r
					n++
				}
				add(r)
			})
			s.mapper(oldObj, func(r Req) {
				for _, x := range seen[:n] {
					if x == r {
						return
					}
				}
				add(r)
			})
		},
		DeleteFunc: func(obj T, _ bool) {
			if s.pred != nil && !s.pred.Delete(obj) {
				return
			}
			s.mapper(obj, add)
		},
	}
	reg, err := s.inf.AddHandlerWithOptions(h, informer.HandlerOptions{Name: s.name})
	if err != nil {
		return fmt.Errorf("reconcile: add informer handler: %w", err)
	}
	s.regPtr.Store(reg)
	s.reg <- reg
	<-ctx.Done()
	if err := s.inf.RemoveHandler(reg); err != nil {
		return fmt.Errorf("reconcile: remove informer handler: %w", err)
	}
	return nil
}

func (s *informerSource[T, Req]) WaitForSync(ctx context.Context) error {
	var reg *informer.Registration
	select {
	case reg = <-s.reg:
		s.reg <- reg
	case <-ctx.Done():
		return ctx.Err()
	}
	if !informer.WaitForCacheSync(ctx, reg) {
		return fmt.Errorf("reconcile: informer source did not sync: %w", context.Cause(ctx))
	}
	return nil
}

// channelSource feeds the requests that a mapper makes of each value
// received from a channel.
type channelSource[E any, Req comparable] struct {
	ch <-chan E
	m  func(E, func(Req))
}

// Channel returns a [Source] that enqueues every request received on ch,
// for events that do not come from the store (a webhook, a timer, another
// system). It stops when ch is closed or the controller stops.
func Channel[Req comparable](ch <-chan Req) Source[Req] {
	return &channelSource[Req, Req]{ch: ch, m: func(r Req, emit func(Req)) { emit(r) }}
}

// ChannelOf returns a [Source] that maps every value received on ch to
// requests through m.
func ChannelOf[E any, Req comparable](ch <-chan E, m func(ev E, emit func(Req))) Source[Req] {
	return &channelSource[E, Req]{ch: ch, m: m}
}

func (s *channelSource[E, Req]) Start(ctx context.Context, q Queue[Req]) error {
	add := q.Add
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-s.ch:
			if !ok {
				return nil
			}
			s.m(ev, add)
		}
	}
}

func (s *channelSource[E, Req]) WaitForSync(context.Context) error { return nil }

// periodicSource enqueues a list of requests every period.
type periodicSource[Req comparable] struct {
	period time.Duration
	list   func() []Req
	clk    clock.Clock

	started   chan struct{} // closed once the ticker is armed
	startOnce sync.Once

	mu      sync.Mutex
	next    time.Time // when the next tick is due; zero before Start
	running bool
}

// Pending returns 1 while a tick is due and not yet handled, so that the
// controller is not idle between a (fake) clock firing the ticker and the
// source enqueueing what the tick asks for.
func (s *periodicSource[Req]) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running || s.clk.Now().Before(s.next) {
		return 0
	}
	return 1
}

// Periodic returns a [Source] that enqueues every request that list returns,
// every period of clk (nil means the wall clock): a resync that makes a
// controller revisit everything even when no event comes. A period <= 0
// gives an error matching [ErrInvalidOptions] when the source starts.
func Periodic[Req comparable](period time.Duration, list func() []Req, clk clock.Clock) Source[Req] {
	return &periodicSource[Req]{period: period, list: list, clk: clock.OrReal(clk), started: make(chan struct{})}
}

func (s *periodicSource[Req]) Start(ctx context.Context, q Queue[Req]) error {
	if s.period <= 0 || s.list == nil {
		return fmt.Errorf("%w: periodic source needs a positive period and a list function", ErrInvalidOptions)
	}
	s.mu.Lock()
	s.next, s.running = s.clk.Now().Add(s.period), true
	s.mu.Unlock()
	t := s.clk.NewTicker(s.period)
	defer t.Stop()
	s.startOnce.Do(func() { close(s.started) })
	defer func() {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
			for _, r := range s.list() {
				q.Add(r)
			}
			// A ticker drops the ticks its reader is too slow for: the
			// next one is the first period boundary still ahead.
			s.mu.Lock()
			for now := s.clk.Now(); !s.next.After(now); {
				s.next = s.next.Add(s.period)
			}
			s.mu.Unlock()
			if a, ok := q.(interface{ noteActivity() }); ok {
				a.noteActivity() // no longer due, even if the list was empty
			}
		}
	}
}

// WaitForSync waits until the ticker is armed, so that time moved after the
// controller has synced (a test's fake clock) counts towards the first
// period.
func (s *periodicSource[Req]) WaitForSync(ctx context.Context) error {
	select {
	case <-s.started:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("reconcile: periodic source did not start: %w", context.Cause(ctx))
	}
}
