package apiserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
)

// cacheEvent is one change the watch cache saw.
type cacheEvent[T meta.Object] struct {
	typ  meta.EventType // Added, Modified, Deleted or Bookmark
	obj  T              // as stored (for Deleted: the last state, with the delete's resourceVersion)
	prev T              // the state before, for Modified and Deleted
	rev  int64
}

// cacheWatcher is one client watch fed by a watch cache.
type cacheWatcher[T meta.Object] struct {
	ch        chan cacheEvent[T] // closed when the cache drops the watcher
	filter    func(cacheEvent[T]) (cacheEvent[T], bool)
	bookmarks bool
}

// watchBufferSize is the number of events a client watch may fall behind
// before the cache ends it (the client then resumes from its last
// resourceVersion, with no gap).
const watchBufferSize = 1024

// watchCache is kube-apiserver's cacher for one resource: one store
// watch keeps a copy of every object and a window of recent events, and
// fans them out to every client watch.
type watchCache[T meta.Object] struct {
	r *resource[T]

	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever rev moves
	loaded  bool
	// loadedC is closed when the cache has loaded for the first time.
	loadedC chan struct{}
	objects map[string]T // "namespace/name" -> object (shared, read-only)
	rev     int64        // every change up to rev is reflected
	// window holds the most recent events in a ring; every event after
	// oldest is in it.
	window   []cacheEvent[T]
	head, n  int
	oldest   int64
	watchers map[*cacheWatcher[T]]struct{}
}

func newWatchCache[T meta.Object](r *resource[T], size int) *watchCache[T] {
	return &watchCache[T]{
		r:        r,
		changed:  make(chan struct{}),
		loadedC:  make(chan struct{}),
		objects:  map[string]T{},
		window:   make([]cacheEvent[T], size),
		watchers: map[*cacheWatcher[T]]struct{}{},
	}
}

func objectKey(m *meta.ObjectMeta) string { return m.Namespace + "/" + m.Name }

// run keeps the cache in step with the store until ctx is done: it lists,
// then watches from the list's revision, and lists again when the watch
// fails (its revision compacted, say).
func (c *watchCache[T]) run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := c.sync(ctx)
		if ctx.Err() != nil {
			break
		}
		c.r.s.log.Warn("apiserver: watch cache restarts", "resource", c.r.t.GroupResource(), "err", err)
		t := c.r.s.clock.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C():
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	c.mu.Lock()
	for w := range c.watchers {
		c.dropLocked(w)
	}
	c.mu.Unlock()
}

// sync loads the cache from one list and follows one watch.
func (c *watchCache[T]) sync(ctx context.Context) error {
	list, err := c.r.st.List(ctx, meta.ListOptions{})
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	rev, _ := meta.ParseResourceVersion(list.ResourceVersion)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := c.r.st.Watch(wctx, meta.ListOptions{ResourceVersion: list.ResourceVersion, AllowWatchBookmarks: true})
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	c.reset(list.Items, rev)
	progress := c.r.s.clock.NewTicker(c.r.s.cfg.BookmarkInterval)
	defer progress.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-progress.C():
			// Move the revision of an idle resource forward, so that
			// NotOlderThan reads and bookmarks keep up with the KV.
			if err := c.r.s.cfg.KV.RequestProgress(wctx); err != nil && ctx.Err() == nil {
				c.r.s.log.Debug("apiserver: progress request failed", "resource", c.r.t.GroupResource(), "err", err)
			}
		case ev, ok := <-ch:
			if !ok {
				return errors.New("the store watch ended")
			}
			if ev.Type == meta.Error {
				return ev.Err
			}
			c.apply(ev)
		}
	}
}

// reset replaces the cache's content with a fresh list, ending every
// client watch (they resume from their last resourceVersion).
func (c *watchCache[T]) reset(items []T, rev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.objects = make(map[string]T, len(items))
	for _, o := range items {
		c.objects[objectKey(o.GetObjectMeta())] = o
	}
	c.head, c.n = 0, 0
	clear(c.window)
	c.oldest = rev
	for w := range c.watchers {
		c.dropLocked(w)
	}
	if !c.loaded {
		close(c.loadedC)
	}
	c.loaded = true
	c.setRevLocked(rev)
	c.r.s.metrics.storageObjects.WithLabelValues(c.r.t.GroupResource()).Set(float64(len(c.objects)))
}

func (c *watchCache[T]) setRevLocked(rev int64) {
	if rev > c.rev {
		c.rev = rev
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

// apply takes one store event into the cache and sends it to the
// watchers.
func (c *watchCache[T]) apply(ev meta.WatchEvent[T]) {
	rev, err := meta.ParseResourceVersion(ev.Object.GetObjectMeta().ResourceVersion)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ev.Type == meta.Bookmark {
		// Every bookmark goes out, even one at the revision the cache
		// already has: a watch whose selector skipped the latest events
		// learns from it how far it is.
		if rev < c.rev {
			return
		}
		c.setRevLocked(rev)
		c.dispatchLocked(cacheEvent[T]{typ: meta.Bookmark, rev: rev})
		return
	}
	key := objectKey(ev.Object.GetObjectMeta())
	prev, had := c.objects[key]
	ce := cacheEvent[T]{typ: ev.Type, obj: ev.Object, prev: prev, rev: rev}
	switch ev.Type {
	case meta.Deleted:
		if !had {
			return // never seen: nothing to delete
		}
		// The store may send only the name of a deleted object; its last
		// state is the one the cache holds.
		obj := meta.DeepCopy(prev)
		obj.GetObjectMeta().ResourceVersion = ev.Object.GetObjectMeta().ResourceVersion
		ce.obj = obj
		delete(c.objects, key)
	case meta.Added, meta.Modified:
		if had {
			ce.typ = meta.Modified
		} else {
			ce.typ = meta.Added
		}
		c.objects[key] = ev.Object
	default:
		return
	}
	c.pushLocked(ce)
	c.setRevLocked(rev)
	c.r.s.metrics.storageObjects.WithLabelValues(c.r.t.GroupResource()).Set(float64(len(c.objects)))
	c.dispatchLocked(ce)
}

func (c *watchCache[T]) pushLocked(ev cacheEvent[T]) {
	size := len(c.window)
	if c.n == size {
		c.oldest = c.window[c.head].rev
		c.window[c.head] = ev
		c.head = (c.head + 1) % size
		return
	}
	c.window[(c.head+c.n)%size] = ev
	c.n++
}

// dispatchLocked sends ev to every watcher that wants it. A watcher whose
// buffer is full is dropped; a bookmark it has no room for is skipped.
func (c *watchCache[T]) dispatchLocked(ev cacheEvent[T]) {
	for w := range c.watchers {
		if ev.typ == meta.Bookmark {
			if w.bookmarks {
				select {
				case w.ch <- ev:
				default:
				}
			}
			continue
		}
		out, ok := w.filter(ev)
		if !ok {
			continue
		}
		select {
		case w.ch <- out:
		default:
			c.r.s.log.Debug("apiserver: dropping a slow watch", "resource", c.r.t.GroupResource())
			c.dropLocked(w)
		}
	}
}

func (c *watchCache[T]) dropLocked(w *cacheWatcher[T]) {
	if _, ok := c.watchers[w]; ok {
		delete(c.watchers, w)
		close(w.ch)
	}
}

// stop removes a watcher the caller no longer reads.
func (c *watchCache[T]) stop(w *cacheWatcher[T]) {
	c.mu.Lock()
	c.dropLocked(w)
	c.mu.Unlock()
}

// waitFor waits until the cache has loaded and reflects revision rev
// (0: just loaded). It fails with a Timeout after the freshness timeout.
func (c *watchCache[T]) waitFor(ctx context.Context, rev int64) error {
	timer := c.r.s.clock.NewTimer(c.r.s.cfg.FreshnessTimeout)
	defer timer.Stop()
	for {
		c.mu.Lock()
		ok := c.loaded && c.rev >= rev
		changed := c.changed
		c.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return store.FromKVError(ctx.Err(), c.r.t.GroupResource(), "")
		case <-timer.C():
			if rev == 0 {
				return meta.NewTimeout(fmt.Sprintf("the watch cache of %s is still loading", c.r.t.GroupResource()), 1)
			}
			return &meta.StatusError{Reason: meta.ReasonTimeout, RetryAfterSeconds: 1,
				Message: fmt.Sprintf("Too large resource version: %d, current: %d", rev, c.currentRev()),
				Causes:  []meta.Cause{{Type: meta.CauseTypeResourceVersionTooLarge, Message: "Too large resource version"}}}
		}
	}
}

func (c *watchCache[T]) currentRev() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rev
}

// waitFresh waits until the cache reflects every write made before the
// call: it reads the KV's current revision (a linearizable read on Raft),
// asks for a progress notification, and waits for the cache to get there.
// This is how kube-apiserver serves consistent reads from its cache
// (KEP-2340).
func (c *watchCache[T]) waitFresh(ctx context.Context) error {
	resp, err := c.r.s.cfg.KV.Range(ctx, kv.RangeRequest{Key: c.r.prefix, End: kv.PrefixEnd(c.r.prefix), CountOnly: true})
	if err != nil {
		return store.FromKVError(err, c.r.t.GroupResource(), "")
	}
	c.mu.Lock()
	fresh := c.loaded && c.rev >= resp.Revision
	c.mu.Unlock()
	if fresh {
		return nil
	}
	if err := c.r.s.cfg.KV.RequestProgress(ctx); err != nil {
		return store.FromKVError(err, c.r.t.GroupResource(), "")
	}
	return c.waitFor(ctx, resp.Revision)
}

// get returns the named object from the cache.
func (c *watchCache[T]) get(namespace, name string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.objects[namespace+"/"+name]
	return o, ok
}

// list returns the objects that match, sorted by namespace and name, and
// the revision they reflect.
func (c *watchCache[T]) list(match func(T) bool) ([]T, int64) {
	c.mu.Lock()
	out := make([]T, 0, len(c.objects))
	for _, o := range c.objects {
		if match(o) {
			out = append(out, o)
		}
	}
	rev := c.rev
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b T) int {
		return strings.Compare(objectKey(a.GetObjectMeta()), objectKey(b.GetObjectMeta()))
	})
	return out, rev
}

// errTooOld is the 410 a watch from a revision older than the window gets.
func errTooOld(rev, oldest int64) error {
	return &meta.StatusError{Reason: meta.ReasonExpired,
		Message: fmt.Sprintf("too old resource version: %d (%d)", rev, oldest)}
}

// subscribe registers a watch. With initial, the events to send first are
// the current objects as ADDED (at the returned revision); otherwise they
// are the window's events after from, which must not be older than the
// window (Expired). The watcher gets every later event that filter
// passes.
func (c *watchCache[T]) subscribe(from int64, initial bool, bookmarks bool,
	filter func(cacheEvent[T]) (cacheEvent[T], bool)) ([]cacheEvent[T], int64, *cacheWatcher[T], error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first []cacheEvent[T]
	if initial {
		keys := make([]string, 0, len(c.objects))
		for k := range c.objects {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			o := c.objects[k]
			rv, _ := meta.ParseResourceVersion(o.GetObjectMeta().ResourceVersion)
			if ev, ok := filter(cacheEvent[T]{typ: meta.Added, obj: o, rev: rv}); ok {
				first = append(first, ev)
			}
		}
	} else {
		if from < c.oldest {
			return nil, 0, nil, errTooOld(from, c.oldest)
		}
		for i := 0; i < c.n; i++ {
			ev := c.window[(c.head+i)%len(c.window)]
			if ev.rev <= from {
				continue
			}
			if out, ok := filter(ev); ok {
				first = append(first, out)
			}
		}
	}
	w := &cacheWatcher[T]{ch: make(chan cacheEvent[T], watchBufferSize), filter: filter, bookmarks: bookmarks}
	c.watchers[w] = struct{}{}
	return first, c.rev, w, nil
}
