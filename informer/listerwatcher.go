package informer

import (
	"context"
	"errors"

	"github.com/governor-io/governor/store/meta"
)

// ListerWatcher is the source an [Informer] keeps its cache in step with.
//
// List returns one page of items and the resourceVersion the list read at
// (paginated when the source honours ListOptions.Limit and returns a
// Continue token). Watch starts after ListOptions.ResourceVersion and
// delivers ADDED, MODIFIED, DELETED, BOOKMARK and ERROR events on a channel
// that closes when ctx is done, when the source ends the watch, or after an
// ERROR event.
//
// The in-process *[github.com/governor-io/governor/store.Store] satisfies
// ListerWatcher directly; [FuncListerWatcher] adapts plain functions (an
// HTTP client, a database poller), and [Project] changes the item type.
type ListerWatcher[T any] interface {
	List(ctx context.Context, opts meta.ListOptions) (*meta.List[T], error)
	Watch(ctx context.Context, opts meta.ListOptions) (<-chan meta.WatchEvent[T], error)
}

// ErrMissingFunc is returned by a [FuncListerWatcher] whose ListFunc or
// WatchFunc is nil.
var ErrMissingFunc = errors.New("informer: FuncListerWatcher has a nil ListFunc or WatchFunc")

// FuncListerWatcher is a [ListerWatcher] made of two functions, so that any
// source can feed an informer.
type FuncListerWatcher[T any] struct {
	ListFunc  func(ctx context.Context, opts meta.ListOptions) (*meta.List[T], error)
	WatchFunc func(ctx context.Context, opts meta.ListOptions) (<-chan meta.WatchEvent[T], error)
}

// List calls ListFunc.
func (f FuncListerWatcher[T]) List(ctx context.Context, opts meta.ListOptions) (*meta.List[T], error) {
	if f.ListFunc == nil {
		return nil, ErrMissingFunc
	}
	return f.ListFunc(ctx, opts)
}

// Watch calls WatchFunc.
func (f FuncListerWatcher[T]) Watch(ctx context.Context, opts meta.ListOptions) (<-chan meta.WatchEvent[T], error) {
	if f.WatchFunc == nil {
		return nil, ErrMissingFunc
	}
	return f.WatchFunc(ctx, opts)
}

// Project returns a [ListerWatcher] that passes every listed and watched
// object of lw through f. Its main use is memory: an informer over the
// projection caches only the compact Out values, and the full In objects
// become garbage as soon as they are projected.
//
// f must copy what it keeps and must not return a value that aliases
// mutable parts of its argument. A projected Out must keep the
// ResourceVersion of its In (bookmarks are projected too), because the
// informer resumes watches from it. ERROR events pass through with a zero
// Object.
func Project[In, Out any](lw ListerWatcher[In], f func(In) Out) ListerWatcher[Out] {
	return projection[In, Out]{lw: lw, f: f}
}

type projection[In, Out any] struct {
	lw ListerWatcher[In]
	f  func(In) Out
}

func (p projection[In, Out]) List(ctx context.Context, opts meta.ListOptions) (*meta.List[Out], error) {
	l, err := p.lw.List(ctx, opts)
	if err != nil {
		return nil, err
	}
	out := &meta.List[Out]{ResourceVersion: l.ResourceVersion, Continue: l.Continue, Items: make([]Out, len(l.Items))}
	for i, it := range l.Items {
		out.Items[i] = p.f(it)
	}
	return out, nil
}

func (p projection[In, Out]) Watch(ctx context.Context, opts meta.ListOptions) (<-chan meta.WatchEvent[Out], error) {
	in, err := p.lw.Watch(ctx, opts)
	if err != nil {
		return nil, err
	}
	out := make(chan meta.WatchEvent[Out], 64)
	go func() {
		defer close(out)
		for ev := range in {
			o := meta.WatchEvent[Out]{Type: ev.Type, Err: ev.Err}
			if ev.Type != meta.Error {
				o.Object = p.f(ev.Object)
			}
			select {
			case out <- o:
			case <-ctx.Done():
				// Drain so that the source's sender is never stuck; it
				// closes its channel once it sees ctx is done.
				for range in {
				}
				return
			}
		}
	}()
	return out, nil
}
