package reconcile

import (
	"context"
	"sync"
	"time"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/store/meta"
)

// Freshness gives controllers read-your-own-writes. A reconcile that writes
// through a [Client] records, under its request, the resourceVersion that
// each write returned. Before the controller reconciles that request again,
// it waits until the informer caches have caught up: each written object is
// in the cache at that resourceVersion or later, or its deletion has been
// seen. The wait is driven by the informers' events (no polling) and bounded
// by the controller's FreshnessTimeout, after which the reconcile goes ahead
// and the timeout is counted.
//
// Without it, a reconcile that runs right after its own write can read the
// cache from before the write and act twice (create a second child, say).
// Share one Freshness among the controllers and clients of a process; its
// zero value is not usable, call [NewFreshness].
type Freshness struct {
	mu    sync.Mutex
	byReq map[any]*reqWrites
	byObj map[objRef]map[*expectation]struct{}
}

// NewFreshness returns an empty Freshness.
func NewFreshness() *Freshness {
	return &Freshness{byReq: make(map[any]*reqWrites), byObj: make(map[objRef]map[*expectation]struct{})}
}

// objRef names one object in one cache.
type objRef struct {
	cache *cacheID
	key   string
}

// cacheID is the identity of one informer cache among the clients.
type cacheID struct{ _ byte }

// expectation is one write a request waits to see in the cache.
type expectation struct {
	req  any
	obj  objRef
	rv   int64
	gone bool        // a delete: wait until the object leaves the cache
	seen func() bool // reads the cache: has it caught up already?
}

// reqWrites are the writes of one request not yet seen in the caches.
type reqWrites struct {
	pending map[*expectation]struct{}
	caught  chan struct{} // closed when pending empties
}

type requestKey struct{}

type requestValue struct {
	f   *Freshness
	req any
}

func withRequest[Req comparable](ctx context.Context, f *Freshness, req Req) context.Context {
	return context.WithValue(ctx, requestKey{}, requestValue{f: f, req: req})
}

// record notes that the request in ctx (if any) wrote obj at rv.
func (f *Freshness) record(ctx context.Context, ref objRef, rv int64, gone bool, seen func() bool) {
	v, ok := ctx.Value(requestKey{}).(requestValue)
	if !ok || v.f != f {
		return // a write outside a reconcile of this Freshness
	}
	e := &expectation{req: v.req, obj: ref, rv: rv, gone: gone, seen: seen}
	f.mu.Lock()
	defer f.mu.Unlock()
	// A newer write to the same object replaces the older expectation.
	for old := range f.byObj[ref] {
		if old.req == v.req {
			f.dropLocked(old, false)
		}
	}
	rw := f.byReq[v.req]
	if rw == nil {
		rw = &reqWrites{pending: make(map[*expectation]struct{}), caught: make(chan struct{})}
		f.byReq[v.req] = rw
	}
	rw.pending[e] = struct{}{}
	objs := f.byObj[ref]
	if objs == nil {
		objs = make(map[*expectation]struct{})
		f.byObj[ref] = objs
	}
	objs[e] = struct{}{}
}

// observe is called for each cache event: the object key of cache is now
// at rv, or deleted.
func (f *Freshness) observe(cache *cacheID, key string, rv int64, deleted bool) {
	ref := objRef{cache: cache, key: key}
	f.mu.Lock()
	defer f.mu.Unlock()
	for e := range f.byObj[ref] {
		if deleted || (!e.gone && rv >= e.rv) {
			f.dropLocked(e, true)
		}
	}
}

// dropLocked removes e; when it was the last write its request waited for,
// the waiter wakes.
func (f *Freshness) dropLocked(e *expectation, wake bool) {
	if objs := f.byObj[e.obj]; objs != nil {
		delete(objs, e)
		if len(objs) == 0 {
			delete(f.byObj, e.obj)
		}
	}
	rw := f.byReq[e.req]
	if rw == nil {
		return
	}
	delete(rw.pending, e)
	if len(rw.pending) == 0 {
		delete(f.byReq, e.req)
		if wake {
			close(rw.caught)
		}
	}
}

// Pending returns the number of writes not yet seen in the caches, over
// all requests.
func (f *Freshness) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, rw := range f.byReq {
		n += len(rw.pending)
	}
	return n
}

type waitResult int

const (
	waitNone     waitResult = iota // nothing to wait for
	waitCaughtUp                   // waited, and the caches caught up
	waitTimedOut                   // gave up at the timeout (or ctx done)
)

// wait blocks until the caches have seen every recorded write of req, for
// at most timeout.
func (f *Freshness) wait(ctx context.Context, req any, clk clock.Clock, timeout time.Duration) waitResult {
	f.mu.Lock()
	rw := f.byReq[req]
	if rw == nil {
		f.mu.Unlock()
		return waitNone
	}
	for e := range rw.pending {
		if e.seen() {
			f.dropLocked(e, false)
		}
	}
	if len(rw.pending) == 0 {
		f.mu.Unlock()
		return waitNone
	}
	caught := rw.caught
	f.mu.Unlock()

	t := clk.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-caught:
		return waitCaughtUp
	case <-t.C():
	case <-ctx.Done():
	}
	f.mu.Lock()
	if rw := f.byReq[req]; rw != nil && rw.caught == caught {
		for e := range rw.pending {
			f.dropLocked(e, false)
		}
	}
	f.mu.Unlock()
	select {
	case <-caught:
		return waitCaughtUp
	default:
		return waitTimedOut
	}
}

// rvOf parses obj's resourceVersion; 0 when it is not a revision.
func rvOf[T meta.Object](obj T) int64 {
	rv, err := meta.ParseResourceVersion(obj.GetObjectMeta().ResourceVersion)
	if err != nil {
		return 0
	}
	return rv
}
