package informer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// flakyWatch is one watch flakyLW has handed out: cancel ends it, and done
// closes once it forwards nothing more.
type flakyWatch struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// flakyLW wraps a source so that the test can end every open watch, and
// hold new watches back while it writes and compacts behind the
// informer's back.
type flakyLW struct {
	lw ListerWatcher[*widget]

	lists   atomic.Int64  // full reads done: Lists and SendInitialEvents watches
	relist  chan struct{} // signalled (buffer 1) after each full read is counted
	mu      sync.Mutex
	cancels map[int]flakyWatch
	next    int
	paused  chan struct{} // non-nil: Watch waits until it is closed
}

func (f *flakyLW) List(ctx context.Context, opts meta.ListOptions) (*meta.List[*widget], error) {
	list, err := f.lw.List(ctx, opts)
	if opts.Continue == "" {
		// Counted once it has read: a list still reading when the test
		// pauses may see writes made after the pause, and must count
		// after them.
		f.listed()
	}
	return list, err
}

func (f *flakyLW) Watch(ctx context.Context, opts meta.ListOptions) (<-chan meta.WatchEvent[*widget], error) {
	// A watch is registered for drop before it reaches the source, and only
	// while no pause is in force, both under one lock: a pause followed by a
	// drop therefore leaves no watch of the old stream open, however the
	// calls interleave.
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var id int
	for {
		f.mu.Lock()
		p := f.paused
		if p == nil {
			id = f.next
			f.next++
			f.cancels[id] = flakyWatch{cancel, done}
			f.mu.Unlock()
			if opts.SendInitialEvents {
				// A streamed list reads once it is past any pause.
				f.listed()
			}
			break
		}
		f.mu.Unlock()
		select {
		case <-p:
		case <-ctx.Done():
			cancel()
			return nil, ctx.Err()
		}
	}
	ch, err := f.lw.Watch(wctx, opts)
	if err != nil {
		f.mu.Lock()
		delete(f.cancels, id)
		f.mu.Unlock()
		cancel()
		close(done)
		return nil, err
	}
	out := make(chan meta.WatchEvent[*widget])
	go func() {
		defer close(out)
		defer func() {
			f.mu.Lock()
			delete(f.cancels, id)
			f.mu.Unlock()
			cancel()
		}()
		stop := func() {
			close(done) // drop may return: nothing more is forwarded
			for range ch {
			}
		}
		for ev := range ch {
			// A dropped watch forwards nothing more, even an event that is
			// ready at the same moment as the cancellation.
			if wctx.Err() != nil {
				stop()
				return
			}
			select {
			case out <- ev:
			case <-wctx.Done():
				stop()
				return
			}
		}
		close(done)
	}()
	return out, nil
}

// listed counts a full read and signals it.
func (f *flakyLW) listed() {
	f.lists.Add(1)
	select {
	case f.relist <- struct{}{}:
	default:
	}
}

// drop ends every open watch, as a lost connection would, and returns once
// none of them forwards anything more: a write made after drop returns
// reaches the informer only through a new watch.
func (f *flakyLW) drop() {
	f.mu.Lock()
	open := make([]flakyWatch, 0, len(f.cancels))
	for _, w := range f.cancels {
		w.cancel()
		open = append(open, w)
	}
	f.mu.Unlock()
	for _, w := range open {
		<-w.done
	}
}

func (f *flakyLW) pause() {
	f.mu.Lock()
	f.paused = make(chan struct{})
	f.mu.Unlock()
}

func (f *flakyLW) resume() {
	f.mu.Lock()
	close(f.paused)
	f.paused = nil
	f.mu.Unlock()
}

// view is a handler that keeps its own copy of the collection by applying
// what it is told, and records every rule the notifications break.
type view struct {
	mu     sync.Mutex
	objs   map[string]*widget
	lastRV map[string]int64 // per key, including deleted keys
	errs   []string
	latest bool // LatestPerKey: a relist delete may carry a state the handler never saw
}

func newView() *view {
	return &view{objs: make(map[string]*widget), lastRV: make(map[string]int64)}
}

func (v *view) fail(format string, args ...any) {
	if len(v.errs) < 20 {
		v.errs = append(v.errs, fmt.Sprintf(format, args...))
	}
}

func (v *view) advance(key string, obj *widget, allowEqual bool) {
	rv := rvOf(obj)
	if last := v.lastRV[key]; rv < last || (rv == last && !allowEqual) {
		v.fail("%s: rv %d after rv %d", key, rv, last)
	}
	v.lastRV[key] = rv
}

func (v *view) OnAdd(obj *widget, _ bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := obj.Key()
	if _, ok := v.objs[key]; ok {
		v.fail("%s: add of a key the handler has", key)
	}
	v.advance(key, obj, false)
	v.objs[key] = obj
}

func (v *view) OnUpdate(old, obj *widget) {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := obj.Key()
	if cur, ok := v.objs[key]; !ok || cur != old {
		v.fail("%s: update whose old object (rv %s) is not the one the handler last saw (%v, %v)", key, old.ResourceVersion, ok, cur)
	}
	v.advance(key, obj, false)
	v.objs[key] = obj
}

func (v *view) OnDelete(obj *widget, known bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := obj.Key()
	cur, ok := v.objs[key]
	switch {
	case !ok:
		v.fail("%s: delete of a key the handler does not have (a second delete?)", key)
	case !known && cur != obj && !v.latest:
		v.fail("%s: delete with unknown final state does not carry the last known object", key)
	}
	v.advance(key, obj, !known)
	delete(v.objs, key)
}

func (v *view) state() map[string]string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return summary(v.objs)
}

func summary(objs map[string]*widget) map[string]string {
	out := make(map[string]string, len(objs))
	for k, w := range objs {
		out[k] = w.ResourceVersion + ":" + w.Spec
	}
	return out
}

func TestChurnAgainstTheMemoryStore(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options[*widget]
		seed uint64
	}{
		{"list and watch", Options[*widget]{}, 1},
		{"paginated list", Options[*widget]{PageSize: 7}, 2},
		{"streamed initial list", Options[*widget]{StreamInitialList: true}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) { churn(t, tc.seed, tc.opts) })
	}
}

func churn(t *testing.T, seed uint64, opts Options[*widget]) {
	rng := rand.New(rand.NewPCG(seed, seed))
	engine := mvcc.New(mvcc.Options{})
	t.Cleanup(func() { engine.Close() })
	st := store.New[*widget](engine, store.Resource[*widget]{Name: "widgets", Namespaced: true, AllowUnconditionalUpdate: true})
	src := &flakyLW{lw: st, cancels: make(map[int]flakyWatch), relist: make(chan struct{}, 1)}
	ctx := context.Background()

	keyspace := make([]*widget, 40)
	for i := range keyspace {
		keyspace[i] = newWidget(fmt.Sprintf("ns%d", i%3), fmt.Sprintf("w%d", i), "", nil)
	}
	mutate := func() {
		w := keyspace[rng.IntN(len(keyspace))]
		if _, err := st.Get(ctx, w.Namespace, w.Name); err != nil {
			if _, err := st.Create(ctx, newWidget(w.Namespace, w.Name, fmt.Sprint(rng.IntN(1000)), nil)); err != nil {
				t.Fatalf("create: %v", err)
			}
			return
		}
		if rng.IntN(4) == 0 {
			if _, err := st.Delete(ctx, w.Namespace, w.Name, meta.DeleteOptions{}); err != nil {
				t.Fatalf("delete: %v", err)
			}
			return
		}
		if _, err := st.Update(ctx, newWidget(w.Namespace, w.Name, fmt.Sprint(rng.IntN(1000)), nil)); err != nil {
			t.Fatalf("update: %v", err)
		}
	}
	for range 20 {
		mutate()
	}

	clk := newTimerClock()
	opts.Clock, opts.Logger = clk, quiet
	inf := New[*widget](src, opts)
	type member struct {
		v   *view
		reg *Registration
	}
	var members, removed []member
	addHandler := func() {
		v := newView()
		var hopts HandlerOptions
		if rng.IntN(2) == 0 {
			hopts.LatestPerKey = true
			v.latest = true
		}
		reg, err := inf.AddHandlerWithOptions(v, hopts)
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, member{v, reg})
	}
	addHandler()
	addHandler()
	stop := run(t, inf)
	waitSynced(t, inf)

	compactions := 0
	for step := range 1500 {
		mutate()
		if step%50 != 0 {
			continue
		}
		switch rng.IntN(5) {
		case 0:
			src.drop()
		case 1:
			// Writes the informer cannot see, then compaction: its watch
			// must fail with Expired, and it must relist.
			before := src.lists.Load()
			src.pause()
			src.drop()
			for range 5 {
				mutate()
			}
			if err := engine.Compact(ctx, engine.Revision()); err != nil {
				t.Fatal(err)
			}
			src.resume()
			compactions++
			// The informer's next watch starts from a compacted revision
			// and must end in a relist. Wait for it, firing the backoff
			// timers the reflector arms, so that every compaction forces
			// its own relist whatever the scheduling.
			timeout := time.After(30 * time.Second)
			for src.lists.Load() == before {
				select {
				case <-src.relist:
				case <-clk.armed:
					clk.fireArmed()
				case <-timeout:
					t.Fatalf("no relist within 30s after compaction %d", compactions)
				}
			}
		case 2:
			addHandler()
		case 3:
			if len(members) > 1 {
				i := rng.IntN(len(members))
				if err := inf.RemoveHandler(members[i].reg); err != nil {
					t.Fatal(err)
				}
				removed = append(removed, members[i])
				members = append(members[:i], members[i+1:]...)
			}
		case 4:
			clk.Step(10 * time.Minute) // end the current watch by its timeout
		}
	}

	list, err := st.List(ctx, meta.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := make(map[string]*widget, len(list.Items))
	for _, w := range list.Items {
		want[w.Key()] = w
	}
	wantSum := summary(want)
	converged := func() bool {
		if diff := cmp.Diff(wantSum, summary(cacheMap(inf))); diff != "" {
			return false
		}
		for _, m := range members {
			if diff := cmp.Diff(wantSum, m.v.state()); diff != "" {
				return false
			}
		}
		return true
	}
	deadline := time.After(30 * time.Second)
	for {
		// Every change to the cache or to a handler's view ends with the
		// informer's activity: take it before checking.
		act := inf.Activity()
		if converged() {
			break
		}
		select {
		case <-act:
		case <-clk.armed:
			// The reflector waits out a backoff: fire it.
			clk.fireArmed()
		case <-deadline:
			t.Errorf("cache (-store +cache):\n%s", cmp.Diff(wantSum, summary(cacheMap(inf))))
			for i, m := range members {
				t.Errorf("handler %d (-store +view):\n%s", i, cmp.Diff(wantSum, m.v.state()))
			}
			t.FailNow()
		}
	}
	stop()
	for i, m := range append(members, removed...) {
		m.v.mu.Lock()
		for _, e := range m.v.errs {
			t.Errorf("handler %d: %s", i, e)
		}
		m.v.mu.Unlock()
	}
	relists := src.lists.Load() - 1
	if compactions < 3 || relists < int64(compactions) {
		t.Errorf("the informer relisted %d times after %d compactions; each compaction must force a relist, and the seed should give several", relists, compactions)
	}
	t.Logf("revision %d, %d objects, %d handlers (%d removed), %d compactions, %d relists", engine.Revision(), len(want), len(members), len(removed), compactions, relists)
}

func cacheMap(inf *Informer[*widget]) map[string]*widget {
	out := make(map[string]*widget)
	for _, w := range inf.cache.List() {
		out[w.Key()] = w
	}
	return out
}
