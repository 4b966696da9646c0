package gc

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store/meta"
)

// source feeds the graph with one resource's informer events and the
// collector's queue with the requests the graph makes due.
type source[T meta.Object] struct {
	inf *informer.Informer[T]
	g   *graph
	res int
	reg chan *informer.Registration // receives the registration once
	ptr atomic.Pointer[informer.Registration]
}

func newSource[T meta.Object](inf *informer.Informer[T], g *graph, res int) *source[T] {
	return &source[T]{inf: inf, g: g, res: res, reg: make(chan *informer.Registration, 1)}
}

// Pending returns the events buffered for the source's handler and not yet
// handled, so that the controller is not idle while the graph is behind.
func (s *source[T]) Pending() int {
	if r := s.ptr.Load(); r != nil {
		return r.Backlog()
	}
	return 0
}

func (s *source[T]) Start(ctx context.Context, q reconcile.Queue[Request]) error {
	add := func(reqs []Request) {
		for _, r := range reqs {
			q.Add(r)
		}
	}
	h := informer.HandlerFuncs[T]{
		AddFunc:    func(obj T, _ bool) { add(s.g.upsert(s.res, obj.GetObjectMeta())) },
		UpdateFunc: func(_, obj T) { add(s.g.upsert(s.res, obj.GetObjectMeta())) },
		DeleteFunc: func(obj T, _ bool) { add(s.g.remove(s.res, obj.GetObjectMeta())) },
	}
	reg, err := s.inf.AddHandlerWithOptions(h, informer.HandlerOptions{Name: "garbage-collector"})
	if err != nil {
		return fmt.Errorf("gc: watch %s: %w", s.g.res[s.res], err)
	}
	s.ptr.Store(reg)
	s.reg <- reg
	<-ctx.Done()
	if err := s.inf.RemoveHandler(reg); err != nil {
		return fmt.Errorf("gc: stop watching %s: %w", s.g.res[s.res], err)
	}
	return nil
}

func (s *source[T]) WaitForSync(ctx context.Context) error {
	var reg *informer.Registration
	select {
	case reg = <-s.reg:
		s.reg <- reg
	case <-ctx.Done():
		return ctx.Err()
	}
	if !informer.WaitForCacheSync(ctx, reg) {
		return fmt.Errorf("gc: %s did not sync: %w", s.g.res[s.res], context.Cause(ctx))
	}
	return nil
}
