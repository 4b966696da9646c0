package informer

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/store/meta"
)

// notifySink is a Cache that signals every change.
type notifySink struct {
	*Cache[*widget]
	ch chan struct{}
}

func newNotifySink() *notifySink {
	return &notifySink{Cache: NewCache(CacheOptions[*widget]{}), ch: make(chan struct{}, 1)}
}

func (s *notifySink) poke() {
	select {
	case s.ch <- struct{}{}:
	default:
	}
}
func (s *notifySink) Replace(items []*widget, rv string) { s.Cache.Replace(items, rv); s.poke() }
func (s *notifySink) Add(w *widget)                      { s.Cache.Add(w); s.poke() }
func (s *notifySink) Update(w *widget)                   { s.Cache.Update(w); s.poke() }
func (s *notifySink) Delete(w *widget)                   { s.Cache.Delete(w); s.poke() }

func (s *notifySink) waitKeys(t *testing.T, want ...string) {
	t.Helper()
	slices.Sort(want)
	deadline := time.After(10 * time.Second)
	for {
		got := s.ListKeys()
		slices.Sort(got)
		if slices.Equal(got, want) {
			return
		}
		select {
		case <-s.ch:
		case <-deadline:
			t.Fatalf("cache keys = %v, want %v", got, want)
		}
	}
}

// reflectorEvents maps a test's reflector to the channel its afterEvent
// hook signals.
var reflectorEvents sync.Map

// hookReflector makes r signal every event it handles, for waitRV. Call it
// before r runs.
func hookReflector[T meta.Object](r *Reflector[T]) {
	ch := make(chan struct{}, 1)
	r.afterEvent = func(meta.EventType) {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	reflectorEvents.Store(r, ch)
}

func (r *Reflector[T]) afterEventCh() <-chan struct{} {
	ch, _ := reflectorEvents.Load(r)
	return ch.(chan struct{})
}

type reflectorRun struct {
	r      *Reflector[*widget]
	sink   *notifySink
	clk    *clocktest.Fake
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	errs   []error
}

func startReflector(t *testing.T, src *fakeSource, opts ReflectorOptions) *reflectorRun {
	t.Helper()
	rr := &reflectorRun{sink: newNotifySink(), clk: clocktest.New(time.Unix(1000, 0)), done: make(chan struct{})}
	opts.Clock = rr.clk
	opts.Name = "widgets"
	opts.WatchErrorHandler = func(err error) {
		rr.mu.Lock()
		rr.errs = append(rr.errs, err)
		rr.mu.Unlock()
	}
	rr.r = NewReflector(ListerWatcher[*widget](src), Sink[*widget](rr.sink), opts)
	hookReflector(rr.r)
	ctx, cancel := context.WithCancel(context.Background())
	rr.cancel = cancel
	go func() { defer close(rr.done); rr.r.Run(ctx) }()
	t.Cleanup(rr.stop)
	return rr
}

func (rr *reflectorRun) stop() {
	rr.cancel()
	<-rr.done
}

func (rr *reflectorRun) errors() []error {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return append([]error(nil), rr.errs...)
}

func seeded(n int) *fakeSource {
	src := newFakeSource()
	for _, name := range []string{"a", "b", "c", "d", "e"}[:n] {
		src.create(newWidget("ns", name, "v1", nil))
	}
	return src
}

func noWatchOpened(t *testing.T, src *fakeSource) {
	t.Helper()
	select {
	case o := <-src.watches:
		t.Fatalf("unexpected watch %+v", o)
	default:
	}
}

func TestReflectorListsThenWatchesFromTheListRV(t *testing.T) {
	src := seeded(3)
	rr := startReflector(t, src, ReflectorOptions{})
	w := src.nextWatch(t)
	if w.ResourceVersion != "3" || !w.AllowWatchBookmarks || w.SendInitialEvents {
		t.Errorf("first watch options = %+v, want RV 3 with bookmarks", w)
	}
	rr.sink.waitKeys(t, "ns/a", "ns/b", "ns/c")
	src.create(newWidget("ns", "d", "v1", nil))
	rr.sink.waitKeys(t, "ns/a", "ns/b", "ns/c", "ns/d")
	waitRV(t, rr.r, "4")
}

func TestReflectorRewatchesFromLastRVWhenAWatchEnds(t *testing.T) {
	src := seeded(1)
	rr := startReflector(t, src, ReflectorOptions{})
	src.nextWatch(t)
	src.update(newWidget("ns", "a", "v2", nil))
	rr.sink.waitKeys(t, "ns/a")
	waitRV(t, rr.r, "2")
	src.dropWatches()
	if w := src.nextWatch(t); w.ResourceVersion != "2" {
		t.Errorf("rewatch from %q, want 2", w.ResourceVersion)
	}
	if n := src.listCount(); n != 1 {
		t.Errorf("lists = %d, want 1 (a normal end must not relist)", n)
	}
}

func waitRV[T meta.Object](t *testing.T, r *Reflector[T], want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for r.LastSyncResourceVersion() != want {
		select {
		case <-r.afterEventCh():
		case <-deadline:
			t.Fatalf("LastSyncResourceVersion = %q, want %q", r.LastSyncResourceVersion(), want)
		}
	}
}

func TestReflectorBookmarksMoveTheRV(t *testing.T) {
	src := seeded(1)
	rr := startReflector(t, src, ReflectorOptions{ListOptions: meta.ListOptions{Namespace: "ns"}})
	src.nextWatch(t)
	src.create(newWidget("other", "x", "", nil)) // rev 2, filtered out
	src.bookmark()
	waitRV(t, rr.r, "2")
	src.dropWatches()
	if w := src.nextWatch(t); w.ResourceVersion != "2" || w.Namespace != "ns" {
		t.Errorf("rewatch = %+v, want RV 2 in ns", w)
	}
}

func TestReflectorRelistsOnExpired(t *testing.T) {
	writes := func(src *fakeSource) {
		src.remove(newWidget("ns", "a", "", nil)) // rev 3
		src.create(newWidget("ns", "c", "", nil)) // rev 4
	}
	tests := []struct {
		name   string
		expire func(t *testing.T, src *fakeSource, rr *reflectorRun)
	}{
		{"watch start fails with Expired", func(t *testing.T, src *fakeSource, rr *reflectorRun) {
			writes(src)
			rr.sink.waitKeys(t, "ns/b", "ns/c")
			waitRV(t, rr.r, "4")
			src.mu.Lock()
			src.watchErr = []error{meta.NewExpired("gone")}
			src.mu.Unlock()
			src.dropWatches()
			if w := src.nextWatch(t); w.ResourceVersion != "4" {
				t.Fatalf("rewatch from %q, want 4", w.ResourceVersion)
			}
		}},
		{"Error event with Expired", func(t *testing.T, src *fakeSource, rr *reflectorRun) {
			writes(src)
			rr.sink.waitKeys(t, "ns/b", "ns/c")
			src.expire()
		}},
		{"history compacted while disconnected", func(t *testing.T, src *fakeSource, rr *reflectorRun) {
			src.mu.Lock()
			src.watchErr = []error{errors.New("connection refused")}
			src.mu.Unlock()
			src.dropWatches()
			src.nextWatch(t) // fails; the reflector backs off
			writes(src)
			src.compact()
			if err := rr.clk.BlockUntilWaiters(context.Background(), 1); err != nil {
				t.Fatal(err)
			}
			next, _ := rr.clk.NextDeadline()
			rr.clk.SetTime(next)
			if w := src.nextWatch(t); w.ResourceVersion != "2" {
				t.Fatalf("retry watch from %q, want 2", w.ResourceVersion)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := seeded(2)
			rr := startReflector(t, src, ReflectorOptions{})
			src.nextWatch(t)
			rr.sink.waitKeys(t, "ns/a", "ns/b")
			tt.expire(t, src, rr)
			if w := src.nextWatch(t); w.ResourceVersion != "4" {
				t.Errorf("watch after relist from %q, want 4", w.ResourceVersion)
			}
			rr.sink.waitKeys(t, "ns/b", "ns/c")
			if n := src.listCount(); n != 2 {
				t.Errorf("lists = %d, want 2", n)
			}
		})
	}
}

func TestReflectorBacksOffAfterErrors(t *testing.T) {
	src := seeded(1)
	src.listErr = []error{errors.New("boom")}
	rr := startReflector(t, src, ReflectorOptions{Backoff: Backoff{Initial: time.Second, Jitter: -1}})
	if err := rr.clk.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if errs := rr.errors(); len(errs) != 1 || errs[0].Error() == "" {
		t.Fatalf("WatchErrorHandler got %v, want the list error", errs)
	}
	noWatchOpened(t, src)
	rr.clk.Step(999 * time.Millisecond)
	noWatchOpened(t, src)
	rr.clk.Step(time.Millisecond)
	src.nextWatch(t)
	rr.sink.waitKeys(t, "ns/a")

	// A failing watch start backs off too, by twice as long now.
	src.mu.Lock()
	src.watchErr = []error{errors.New("refused")}
	src.mu.Unlock()
	src.dropWatches()
	src.nextWatch(t)
	if err := rr.clk.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	next, _ := rr.clk.NextDeadline()
	if d := next.Sub(rr.clk.Now()); d != 2*time.Second {
		t.Errorf("second backoff = %v, want 2s", d)
	}
	rr.clk.SetTime(next)
	if w := src.nextWatch(t); w.ResourceVersion != "1" {
		t.Errorf("watch after backoff from %q, want 1", w.ResourceVersion)
	}
	if n := src.listCount(); n != 2 {
		t.Errorf("lists = %d, want 2 (a failed watch start must not relist)", n)
	}
}

func TestReflectorWatchTimesOutAndResumes(t *testing.T) {
	src := seeded(1)
	rr := startReflector(t, src, ReflectorOptions{MinWatchTimeout: time.Minute})
	src.nextWatch(t)
	if err := rr.clk.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	next, _ := rr.clk.NextDeadline()
	if d := next.Sub(rr.clk.Now()); d < time.Minute || d >= 2*time.Minute {
		t.Errorf("watch timeout = %v, want in [1m, 2m)", d)
	}
	rr.clk.SetTime(next)
	if w := src.nextWatch(t); w.ResourceVersion != "1" {
		t.Errorf("rewatch from %q, want 1", w.ResourceVersion)
	}
	if n := src.listCount(); n != 1 {
		t.Errorf("lists = %d, want 1", n)
	}
}

func TestReflectorPaginates(t *testing.T) {
	tests := []struct {
		name      string
		listErr   []error
		wantLists int
	}{
		{"pages are followed", nil, 3},
		{"an expired continue token restarts in one page", []error{nil, meta.NewExpired("token")}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := seeded(5)
			src.listErr = tt.listErr
			rr := startReflector(t, src, ReflectorOptions{PageSize: 2})
			src.nextWatch(t)
			rr.sink.waitKeys(t, "ns/a", "ns/b", "ns/c", "ns/d", "ns/e")
			if n := src.listCount(); n != tt.wantLists {
				t.Errorf("lists = %d, want %d", n, tt.wantLists)
			}
		})
	}
}

func TestReflectorStreamsTheInitialList(t *testing.T) {
	tests := []struct {
		name          string
		streaming     bool
		wantLists     int
		wantRewatchRV string
	}{
		{"source streams: no list", true, 0, "3"},
		{"source cannot: falls back to list", false, 1, "3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := seeded(3)
			src.streaming = tt.streaming
			rr := startReflector(t, src, ReflectorOptions{StreamInitialList: true})
			if w := src.nextWatch(t); !w.SendInitialEvents || w.ResourceVersion != "" {
				t.Errorf("first watch = %+v, want a SendInitialEvents watch", w)
			}
			if !tt.streaming {
				if w := src.nextWatch(t); w.SendInitialEvents || w.ResourceVersion != "3" {
					t.Errorf("fallback watch = %+v, want RV 3", w)
				}
			}
			rr.sink.waitKeys(t, "ns/a", "ns/b", "ns/c")
			src.create(newWidget("ns", "d", "", nil))
			rr.sink.waitKeys(t, "ns/a", "ns/b", "ns/c", "ns/d")
			src.dropWatches()
			w := src.nextWatch(t)
			if w.SendInitialEvents || w.ResourceVersion != "4" {
				t.Errorf("rewatch = %+v, want a plain watch from 4", w)
			}
			if n := src.listCount(); n != tt.wantLists {
				t.Errorf("lists = %d, want %d", n, tt.wantLists)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	now := time.Unix(0, 0)
	half := func() float64 { return 0.5 }
	s := newBackoffState(Backoff{Initial: time.Second, Max: 5 * time.Second, Factor: 2, Jitter: 1, ResetAfter: time.Minute}, half)
	var got []time.Duration
	for range 5 {
		now = now.Add(time.Second)
		got = append(got, s.delay(now))
	}
	want := []time.Duration{1500 * time.Millisecond, 3 * time.Second, 6 * time.Second, 7500 * time.Millisecond, 7500 * time.Millisecond}
	if !slices.Equal(got, want) {
		t.Errorf("delays = %v, want %v", got, want)
	}
	if d := s.delay(now.Add(time.Minute)); d != 1500*time.Millisecond {
		t.Errorf("delay after a quiet minute = %v, want 1.5s (reset)", d)
	}
	s.delay(now.Add(time.Minute + time.Second))
	s.reset()
	if d := s.delay(now.Add(time.Minute + 2*time.Second)); d != 1500*time.Millisecond {
		t.Errorf("delay after reset = %v, want 1.5s", d)
	}
	d := Backoff{}.withDefaults()
	if d.Initial != 800*time.Millisecond || d.Max != 30*time.Second || d.Factor != 2 || d.Jitter != 1 || d.ResetAfter != 2*time.Minute {
		t.Errorf("defaults = %+v", d)
	}
}

func TestReflectorBacksOffWhenWatchesEndAtOnce(t *testing.T) {
	src := seeded(1)
	watches := make(chan struct{}, 100)
	lw := FuncListerWatcher[*widget]{ListFunc: src.List, WatchFunc: func(context.Context, meta.ListOptions) (<-chan meta.WatchEvent[*widget], error) {
		watches <- struct{}{}
		ch := make(chan meta.WatchEvent[*widget])
		close(ch) // a source that ends every watch at once
		return ch, nil
	}}
	clk := newTimerClock()
	r := NewReflector[*widget](lw, newNotifySink(), ReflectorOptions{Clock: clk, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	// The first watch follows the list; then maxEmptyWatches in a row are
	// retried at once, and the next waits for the backoff.
	for i := range 1 + maxEmptyWatches {
		select {
		case <-watches:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d watches", i)
		}
	}
	// The reflector arms a timer only to back off: once it has, every
	// watch it opened before is in the channel.
	select {
	case <-clk.armed:
	case <-time.After(10 * time.Second):
		t.Fatal("no backoff after the empty watches")
	}
	select {
	case <-watches:
		t.Fatal("watched again without backing off")
	default:
	}
	clk.fireArmed()
	select {
	case <-watches:
	case <-time.After(10 * time.Second):
		t.Fatal("no watch after the backoff")
	}
}
