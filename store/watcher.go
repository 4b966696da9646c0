package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
)

// watchBuffer is the capacity of a Watch's channel.
const watchBuffer = 64

// Watch streams the changes to the objects that opts select, as Kubernetes'
// watch does:
//
//   - ResourceVersion "" or "0": first a synthetic ADDED event for each
//     object that exists now, then every change after that state.
//   - ResourceVersion "N": every change after revision N. A revision that
//     has been compacted gives an Error event with an Expired error.
//   - SendInitialEvents: the current objects as ADDED events (from a state
//     at least as new as ResourceVersion), then a BOOKMARK annotated with
//     [meta.InitialEventsEndAnnotation] "true", then changes.
//   - AllowWatchBookmarks: BOOKMARK events, whose object carries only a
//     resourceVersion, say that every change up to it has been sent. They
//     come from the KV's progress notifications, which the Store requests
//     every bookmark interval (see [Options].BookmarkInterval).
//
// With selectors, an object that stops matching arrives as DELETED (with
// its last matching state and the new resourceVersion) and one that starts
// matching as ADDED. DELETED events carry the object as last stored, with
// the resourceVersion of the delete.
//
// Bad options are returned as an error at once. Otherwise the channel is
// closed when ctx is done or after an Error event. Every object sent is
// fresh and owned by the receiver. A watch whose engine watch lags is
// resumed where it stopped, without a gap.
func (s *Store[T]) Watch(ctx context.Context, opts meta.ListOptions) (<-chan meta.WatchEvent[T], error) {
	sel, err := s.selection(opts)
	if err != nil {
		return nil, err
	}
	prefix, err := s.listPrefix(opts.Namespace)
	if err != nil {
		return nil, err
	}
	if opts.Continue != "" {
		return nil, meta.NewBadRequest("a watch does not take a continue token")
	}
	rv, err := meta.ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return nil, err
	}
	w := &watcher[T]{
		s:      s,
		opts:   opts,
		sel:    sel,
		prefix: prefix,
		out:    make(chan meta.WatchEvent[T], watchBuffer),
	}
	initial := rv == 0 || opts.SendInitialEvents
	start := rv + 1
	if initial {
		resp, err := s.kv.Range(ctx, kv.RangeRequest{Key: prefix, End: kv.PrefixEnd(prefix)})
		if err != nil {
			return nil, s.kvErr(err, opts.Namespace, "")
		}
		if rv > resp.Revision {
			return nil, FromKVError(fmt.Errorf("watch from %d: %w", rv, kv.ErrFutureRevision), s.res.Name, "")
		}
		w.initial = resp.KVs
		start = resp.Revision + 1
	}
	w.req = kv.WatchRequest{
		Key:            prefix,
		End:            kv.PrefixEnd(prefix),
		StartRevision:  start,
		PrevKV:         !sel.empty(),
		ProgressNotify: opts.AllowWatchBookmarks,
	}
	wctx, cancel := context.WithCancel(ctx)
	kch, err := s.kv.Watch(wctx, w.req)
	if err != nil && !isCompacted(err) {
		cancel()
		return nil, s.kvErr(err, opts.Namespace, "")
	}
	go w.run(ctx, wctx, cancel, kch, err)
	return w.out, nil
}

type watcher[T meta.Object] struct {
	s       *Store[T]
	opts    meta.ListOptions
	sel     *selection[T]
	prefix  string
	req     kv.WatchRequest
	initial []kv.KeyValue
	out     chan meta.WatchEvent[T]
	lastRev int64 // every change up to it has been sent
}

func (w *watcher[T]) send(ctx context.Context, ev meta.WatchEvent[T]) bool {
	select {
	case w.out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

func (w *watcher[T]) fail(ctx context.Context, err error) {
	w.send(ctx, meta.WatchEvent[T]{Type: meta.Error, Err: err})
}

func (w *watcher[T]) bookmark(rev int64, annotations map[string]string) T {
	obj := w.s.res.newObject()
	w.s.res.setTypeMeta(obj)
	m := obj.GetObjectMeta()
	m.ResourceVersion = meta.FormatResourceVersion(rev)
	m.Annotations = annotations
	return obj
}

func (w *watcher[T]) run(ctx, wctx context.Context, cancel context.CancelFunc, kch <-chan kv.WatchResponse, openErr error) {
	defer close(w.out)
	defer cancel()
	if openErr != nil { // compacted
		w.fail(ctx, w.s.kvErr(openErr, w.opts.Namespace, ""))
		return
	}
	w.lastRev = w.req.StartRevision - 1
	for i := range w.initial {
		obj, err := w.s.decode(&w.initial[i])
		if err != nil {
			w.fail(ctx, err)
			return
		}
		if w.sel.matches(obj) && !w.send(ctx, meta.WatchEvent[T]{Type: meta.Added, Object: obj}) {
			return
		}
	}
	w.initial = nil
	if w.opts.SendInitialEvents {
		ev := meta.WatchEvent[T]{Type: meta.Bookmark, Object: w.bookmark(w.lastRev, map[string]string{meta.InitialEventsEndAnnotation: "true"})}
		if !w.send(ctx, ev) {
			return
		}
	}
	var tick <-chan struct{}
	if w.opts.AllowWatchBookmarks && w.s.opts.BookmarkInterval > 0 {
		tick = progressTicks(wctx, w.s.opts.Clock, w.s.opts.BookmarkInterval)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			if err := w.s.kv.RequestProgress(wctx); err != nil && wctx.Err() == nil {
				w.s.opts.Logger.Debug("store: progress request failed", "resource", w.s.res.Name, "err", err)
			}
		case resp, ok := <-kch:
			if !ok {
				if ctx.Err() == nil {
					w.fail(ctx, meta.NewServiceUnavailable(w.s.res.Name+": the storage watch ended"))
				}
				return
			}
			if resp.Err != nil {
				var lag *kv.LaggingError
				if errors.As(resp.Err, &lag) {
					w.s.opts.Logger.Debug("store: watch lagged; resuming", "resource", w.s.res.Name, "revision", lag.ResumeRevision)
					req := w.req
					req.StartRevision = lag.ResumeRevision
					next, err := w.s.kv.Watch(wctx, req)
					if err != nil {
						w.fail(ctx, w.s.kvErr(err, w.opts.Namespace, ""))
						return
					}
					kch = next
					continue
				}
				w.fail(ctx, w.s.kvErr(resp.Err, w.opts.Namespace, ""))
				return
			}
			if resp.ProgressNotify {
				if w.opts.AllowWatchBookmarks && resp.Revision > 0 && resp.Revision >= w.lastRev {
					w.lastRev = resp.Revision
					if !w.send(ctx, meta.WatchEvent[T]{Type: meta.Bookmark, Object: w.bookmark(resp.Revision, nil)}) {
						return
					}
				}
				continue
			}
			for i := range resp.Events {
				ev, ok, err := w.convert(&resp.Events[i])
				if err != nil {
					w.fail(ctx, err)
					return
				}
				if ok && !w.send(ctx, ev) {
					return
				}
				w.lastRev = resp.Events[i].KV.ModRevision
			}
		}
	}
}

// progressTicks sends on the returned channel every d until ctx is done.
func progressTicks(ctx context.Context, c clock.Clock, d time.Duration) <-chan struct{} {
	ch := make(chan struct{})
	t := c.NewTicker(d)
	go func() {
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C():
				select {
				case ch <- struct{}{}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return ch
}

// convert turns one KV event into the watch event a receiver sees, if any.
func (w *watcher[T]) convert(ev *kv.Event) (meta.WatchEvent[T], bool, error) {
	var none meta.WatchEvent[T]
	rev := ev.KV.ModRevision
	if ev.Type == kv.EventDelete {
		var prev T
		if ev.PrevKV != nil {
			p, err := w.s.decode(ev.PrevKV)
			if err != nil {
				return none, false, err
			}
			prev = p
		} else {
			prev = w.objectForKey(ev.KV.Key)
		}
		if !w.sel.matches(prev) {
			return none, false, nil
		}
		prev.GetObjectMeta().ResourceVersion = meta.FormatResourceVersion(rev)
		return meta.WatchEvent[T]{Type: meta.Deleted, Object: prev}, true, nil
	}
	obj, err := w.s.decode(&ev.KV)
	if err != nil {
		return none, false, err
	}
	cur := w.sel.matches(obj)
	if w.sel.empty() || ev.PrevKV == nil {
		if !cur {
			return none, false, nil
		}
		if ev.KV.CreateRevision == ev.KV.ModRevision || ev.PrevKV == nil && !w.sel.empty() {
			return meta.WatchEvent[T]{Type: meta.Added, Object: obj}, true, nil
		}
		return meta.WatchEvent[T]{Type: meta.Modified, Object: obj}, true, nil
	}
	prev, err := w.s.decode(ev.PrevKV)
	if err != nil {
		return none, false, err
	}
	was := w.sel.matches(prev)
	switch {
	case cur && was:
		return meta.WatchEvent[T]{Type: meta.Modified, Object: obj}, true, nil
	case cur:
		return meta.WatchEvent[T]{Type: meta.Added, Object: obj}, true, nil
	case was:
		prev.GetObjectMeta().ResourceVersion = meta.FormatResourceVersion(rev)
		return meta.WatchEvent[T]{Type: meta.Deleted, Object: prev}, true, nil
	}
	return none, false, nil
}

// objectForKey builds an object that carries only the name and namespace
// encoded in key, for a delete whose previous value is unknown.
func (w *watcher[T]) objectForKey(key string) T {
	obj := w.s.res.newObject()
	w.s.res.setTypeMeta(obj)
	m := obj.GetObjectMeta()
	rest := strings.TrimPrefix(key, w.s.prefix)
	if ns, name, ok := strings.Cut(rest, "/"); ok && w.s.res.Namespaced {
		m.Namespace, m.Name = ns, name
	} else {
		m.Name = rest
	}
	return obj
}
