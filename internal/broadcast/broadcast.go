// Package broadcast wakes every goroutine waiting for the next change of
// some state, so that a waiter needs no polling.
//
// A component owns a [Signal] and bumps it whenever its state changes; a
// waiter takes [Signal.Next] before it reads the state, and waits on that
// channel if the state is not what it wants. No change between the read and
// the wait can be missed. [Await] is that loop.
//
// The informer's handlers and the reconcile controller use it to say when
// they may have become idle.
package broadcast

import (
	"context"
	"sync"
	"sync/atomic"
)

// Signal is a broadcast of "something changed". The zero value is ready to
// use; a Signal must not be copied after first use.
type Signal struct {
	mu      sync.Mutex
	ch      chan struct{}
	waiting atomic.Bool // someone holds ch: Bump must close it
}

// Bump wakes every waiter. It costs one atomic load when none waits, so a
// hot path may call it on every change.
func (s *Signal) Bump() {
	if !s.waiting.Load() {
		return
	}
	s.mu.Lock()
	if s.waiting.Load() {
		close(s.ch)
		s.ch = nil
		s.waiting.Store(false)
	}
	s.mu.Unlock()
}

// Next returns a channel that is closed at the first Bump after the call.
func (s *Signal) Next() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	s.waiting.Store(true)
	return s.ch
}

// Await returns nil once done reports true, checking it at first and then
// each time the channel from next is closed, or returns ctx.Err() once ctx
// is done. next must give a channel that is closed at the next change that
// can make done true, such as a [Signal]'s Next.
func Await(ctx context.Context, next func() <-chan struct{}, done func() bool) error {
	for {
		ch := next() // before the check, so that no change is missed
		if done() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
