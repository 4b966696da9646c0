package informer

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/store/meta"
)

var quiet = slog.New(slog.DiscardHandler)

func newTestInformer(src *fakeSource, opts Options[*widget]) *Informer[*widget] {
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	if opts.Clock == nil {
		opts.Clock = clocktest.New(time.Unix(1000, 0))
	}
	inf := New[*widget](src, opts)
	hookReflector(inf.refl)
	return inf
}

func kinds(evs []rec) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.kind + " " + e.key + " " + e.obj.Spec
	}
	return out
}

func TestInformerDeliversEventsInOrder(t *testing.T) {
	src := seeded(2)
	inf := newTestInformer(src, Options[*widget]{})
	h := newRecorder()
	reg, err := inf.AddHandler(h)
	if err != nil {
		t.Fatal(err)
	}
	run(t, inf)
	waitSynced(t, inf, reg)
	src.update(newWidget("ns", "a", "v2", nil))
	src.remove(newWidget("ns", "b", "", nil))
	src.create(newWidget("ns", "c", "v1", nil))
	evs := h.waitN(t, 5)
	want := []string{"add ns/a v1", "add ns/b v1", "update ns/a v2", "delete ns/b v1", "add ns/c v1"}
	if diff := cmp.Diff(want, kinds(evs)); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	if !evs[0].flag || !evs[1].flag || evs[4].flag {
		t.Errorf("isInInitialList flags = %v %v %v, want true true false", evs[0].flag, evs[1].flag, evs[4].flag)
	}
	if evs[2].old.Spec != "v1" || evs[2].old.ResourceVersion != "1" {
		t.Errorf("update old = %+v, want v1 at rv 1", evs[2].old)
	}
	if !evs[3].flag || evs[3].obj.ResourceVersion != "4" {
		t.Errorf("watched delete = rv %s known %v, want rv 4 known", evs[3].obj.ResourceVersion, evs[3].flag)
	}
	if got := inf.LastSyncResourceVersion(); got != "5" {
		t.Errorf("LastSyncResourceVersion = %q, want 5", got)
	}
	if w, ok := inf.Lister().Get("ns", "a"); !ok || w.Spec != "v2" {
		t.Errorf("Lister.Get(ns, a) = %v, %v", w, ok)
	}
}

func TestInformerRelistDeliversUnknownFinalState(t *testing.T) {
	src := seeded(3)
	inf := newTestInformer(src, Options[*widget]{})
	h := newRecorder()
	reg, _ := inf.AddHandler(h)
	run(t, inf)
	waitSynced(t, reg)
	// Lose the connection, miss a delete and an update, and find the
	// history compacted: only a relist can tell.
	src.mu.Lock()
	src.watchErr = []error{errors.New("refused")}
	src.mu.Unlock()
	src.dropWatches()
	src.nextWatch(t)
	src.nextWatch(t)
	src.remove(newWidget("ns", "a", "", nil))
	src.update(newWidget("ns", "b", "v2", nil))
	src.compact()
	clk := inf.clock.(*clocktest.Fake)
	if err := clk.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	next, _ := clk.NextDeadline()
	clk.SetTime(next)
	evs := h.waitN(t, 5)[3:]
	slices.SortFunc(evs, func(a, b rec) int { return strings.Compare(a.key, b.key) })
	if diff := cmp.Diff([]string{"delete ns/a v1", "update ns/b v2"}, kinds(evs)); diff != "" {
		t.Fatalf("relist events (-want +got):\n%s", diff)
	}
	if evs[0].flag {
		t.Error("a delete found by relisting says its final state is known")
	}
	if evs[0].obj.ResourceVersion != "1" {
		t.Errorf("delete carries rv %s, want the last known 1", evs[0].obj.ResourceVersion)
	}
	if evs[1].old.Spec != "v1" {
		t.Errorf("relist update old = %q, want v1", evs[1].old.Spec)
	}
}

func TestInformerLateHandlerGetsSyntheticAdds(t *testing.T) {
	src := seeded(3)
	inf := newTestInformer(src, Options[*widget]{})
	run(t, inf)
	waitSynced(t, inf)
	late := newRecorder()
	late.gate = make(chan struct{})
	reg, err := inf.AddHandler(late)
	if err != nil {
		t.Fatal(err)
	}
	if reg.HasSynced() {
		t.Fatal("a late handler is synced before handling its adds")
	}
	src.update(newWidget("ns", "a", "v2", nil))
	for range 4 {
		late.gate <- struct{}{}
	}
	evs := late.waitN(t, 4)
	waitSynced(t, reg)
	got := kinds(evs[:3])
	slices.Sort(got)
	if diff := cmp.Diff([]string{"add ns/a v1", "add ns/b v1", "add ns/c v1"}, got); diff != "" {
		t.Errorf("synthetic adds (-want +got):\n%s", diff)
	}
	for _, e := range evs[:3] {
		if !e.flag {
			t.Error("a synthetic add is not marked isInInitialList")
		}
	}
	if e := evs[3]; e.kind != "update" || e.obj.Spec != "v2" || e.old.Spec != "v1" {
		t.Errorf("event after the adds = %s %s->%s", e.kind, e.old.Spec, e.obj.Spec)
	}
}

func TestInformerSlowHandlerBlocksNobody(t *testing.T) {
	src := seeded(1)
	inf := newTestInformer(src, Options[*widget]{})
	slow, fast := newRecorder(), newRecorder()
	slow.gate = make(chan struct{})
	slowReg, _ := inf.AddHandlerWithOptions(slow, HandlerOptions{Name: "slow"})
	fastReg, _ := inf.AddHandlerWithOptions(fast, HandlerOptions{Name: "fast"})
	run(t, inf)
	waitSynced(t, inf, fastReg)
	for i := range 50 {
		src.update(newWidget("ns", "a", "v"+string(rune('A'+i%26)), nil))
	}
	fast.waitN(t, 51)
	if slowReg.HasSynced() {
		t.Error("the slow handler is synced before handling the initial list")
	}
	if b := slowReg.Backlog(); b != 51 {
		t.Errorf("slow backlog = %d, want 51", b)
	}
	if err := fastReg.WaitIdle(waitCtx(t)); err != nil { // the last call may still be returning
		t.Fatal(err)
	}
	if b := fastReg.Backlog(); b != 0 {
		t.Errorf("fast backlog = %d, want 0", b)
	}
	if w, _ := inf.Lister().Get("ns", "a"); w.ResourceVersion != "51" {
		t.Errorf("cache is at rv %s, want 51: the slow handler held it back", w.ResourceVersion)
	}
	close(slow.gate)
	slow.waitN(t, 51)
	waitSynced(t, slowReg)
}

func TestInformerLatestPerKeyCoalesces(t *testing.T) {
	tests := []struct {
		name  string
		burst func(src *fakeSource)
		want  []string
		flags []bool
	}{
		{"updates merge into one update from the seen state", func(src *fakeSource) {
			src.update(newWidget("ns", "a", "v2", nil))
			src.update(newWidget("ns", "a", "v3", nil))
			src.update(newWidget("ns", "a", "v4", nil))
		}, []string{"update ns/a v4"}, nil},
		{"add then updates is one add of the latest", func(src *fakeSource) {
			src.create(newWidget("ns", "n", "v1", nil))
			src.update(newWidget("ns", "n", "v2", nil))
		}, []string{"add ns/n v2"}, []bool{false}},
		{"add then delete of an unseen object is nothing", func(src *fakeSource) {
			src.create(newWidget("ns", "n", "v1", nil))
			src.remove(newWidget("ns", "n", "", nil))
		}, nil, nil},
		{"delete then re-create is a delete then an add", func(src *fakeSource) {
			src.update(newWidget("ns", "a", "v2", nil))
			src.remove(newWidget("ns", "a", "", nil))
			src.create(newWidget("ns", "a", "v9", nil))
		}, []string{"delete ns/a v2", "add ns/a v9"}, []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := seeded(1)
			inf := newTestInformer(src, Options[*widget]{})
			h := newRecorder()
			reg, _ := inf.AddHandlerWithOptions(h, HandlerOptions{LatestPerKey: true})
			run(t, inf)
			waitSynced(t, reg)
			h.waitN(t, 1)
			// Hold the handler inside a call, then make a burst of changes.
			gate, entered := make(chan struct{}), make(chan struct{})
			h.mu.Lock()
			h.gate, h.entered = gate, entered
			h.mu.Unlock()
			src.create(newWidget("ns", "block", "", nil))
			<-entered
			h.mu.Lock()
			h.entered = nil
			h.mu.Unlock()
			tt.burst(src)
			waitRV(t, inf.refl, src.lastRV())
			close(gate)
			// A marker event proves nothing else is still on its way.
			src.create(newWidget("ns", "marker", "", nil))
			all := h.waitFor(t, "marker", func(e []rec) bool { return len(e) > 0 && e[len(e)-1].key == "ns/marker" })
			evs := all[2 : len(all)-1] // after the initial add and the blocked add
			if diff := cmp.Diff(tt.want, kinds(evs), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("events (-want +got):\n%s", diff)
			}
			for i, f := range tt.flags {
				if evs[i].flag != f {
					t.Errorf("event %d flag = %v, want %v", i, evs[i].flag, f)
				}
			}
			if tt.name == "updates merge into one update from the seen state" && evs[0].old.Spec != "v1" {
				t.Errorf("merged update old = %s, want v1", evs[0].old.Spec)
			}
		})
	}
}

func (f *fakeSource) lastRV() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return meta.FormatResourceVersion(f.rev)
}

func TestInformerLatestPerKeyBacklogIsBounded(t *testing.T) {
	src := seeded(5)
	inf := newTestInformer(src, Options[*widget]{})
	h := newRecorder()
	h.gate = make(chan struct{})
	reg, _ := inf.AddHandlerWithOptions(h, HandlerOptions{LatestPerKey: true})
	run(t, inf)
	waitSynced(t, inf)
	for i := range 200 {
		src.update(newWidget("ns", []string{"a", "b", "c", "d", "e"}[i%5], "x", nil))
	}
	waitRV(t, inf.refl, "205")
	// At most one entry per key, plus the one in the handler's hands
	// (whose key may be pending again).
	if b := reg.Backlog(); b > 6 {
		t.Errorf("backlog = %d, want at most 6 (one per key and the one in hand)", b)
	}
	close(h.gate)
	waitSynced(t, reg)
}

func TestInformerRemoveHandler(t *testing.T) {
	src := seeded(1)
	inf := newTestInformer(src, Options[*widget]{})
	kept, removed := newRecorder(), newRecorder()
	keptReg, _ := inf.AddHandler(kept)
	var selfReg *Registration
	selfRemoving := newRecorder()
	selfReg, _ = inf.AddHandler(HandlerFuncs[*widget]{AddFunc: func(w *widget, initial bool) {
		selfRemoving.OnAdd(w, initial)
		if err := inf.RemoveHandler(selfReg); err != nil {
			t.Errorf("RemoveHandler from within the handler: %v", err)
		}
	}})
	removedReg, _ := inf.AddHandler(removed)
	run(t, inf)
	waitSynced(t, keptReg, removedReg)
	selfRemoving.waitN(t, 1)
	if err := inf.RemoveHandler(removedReg); err != nil {
		t.Fatal(err)
	}
	if err := inf.RemoveHandler(removedReg); !errors.Is(err, ErrUnknownHandler) {
		t.Errorf("second RemoveHandler error = %v, want ErrUnknownHandler", err)
	}
	other := newTestInformer(src, Options[*widget]{})
	if err := other.RemoveHandler(keptReg); !errors.Is(err, ErrUnknownHandler) {
		t.Errorf("RemoveHandler on another informer error = %v, want ErrUnknownHandler", err)
	}
	src.create(newWidget("ns", "b", "", nil))
	src.create(newWidget("ns", "c", "", nil))
	kept.waitN(t, 3)
	if n := len(removed.snapshot()); n != 1 {
		t.Errorf("removed handler got %d events, want 1", n)
	}
	if n := len(selfRemoving.snapshot()); n != 1 {
		t.Errorf("self-removing handler got %d events, want 1", n)
	}
}

func TestInformerResyncPerHandler(t *testing.T) {
	src := seeded(2)
	clk := clocktest.New(time.Unix(1000, 0))
	inf := newTestInformer(src, Options[*widget]{Clock: clk, ResyncPeriod: time.Minute})
	fastR, slowR, noneR := newRecorder(), newRecorder(), newRecorder()
	r1, _ := inf.AddHandler(fastR)
	r2, _ := inf.AddHandlerWithOptions(slowR, HandlerOptions{ResyncPeriod: 3 * time.Minute})
	r3, _ := inf.AddHandlerWithOptions(noneR, HandlerOptions{ResyncPeriod: -1})
	run(t, inf)
	waitSynced(t, r1, r2, r3)
	src.nextWatch(t)
	for range 3 {
		// Waiters: the watch timeout and the resync timer.
		if err := clk.BlockUntilWaiters(context.Background(), 2); err != nil {
			t.Fatal(err)
		}
		clk.Step(time.Minute)
	}
	fastR.waitN(t, 2+3*2)
	slowR.waitN(t, 2+2)
	src.create(newWidget("ns", "marker", "", nil))
	for _, h := range []*recorder{fastR, slowR, noneR} {
		h.waitFor(t, "marker", func(e []rec) bool { return len(e) > 0 && e[len(e)-1].key == "ns/marker" })
	}
	count := func(h *recorder) int {
		n := 0
		for _, e := range h.snapshot() {
			if e.kind == "update" && e.old == e.obj {
				n++
			}
		}
		return n
	}
	if got := []int{count(fastR), count(slowR), count(noneR)}; !slices.Equal(got, []int{6, 2, 0}) {
		t.Errorf("resync updates = %v, want [6 2 0]", got)
	}
}

func TestInformerTransform(t *testing.T) {
	src := seeded(1)
	inf := newTestInformer(src, Options[*widget]{Transform: func(w *widget) *widget {
		w.Spec = strings.ToUpper(w.Spec)
		return w
	}})
	h := newRecorder()
	reg, _ := inf.AddHandler(h)
	run(t, inf)
	waitSynced(t, reg)
	src.update(newWidget("ns", "a", "v2", nil))
	evs := h.waitN(t, 2)
	if evs[0].obj.Spec != "V1" || evs[1].obj.Spec != "V2" {
		t.Errorf("handler saw %q, %q; want transformed V1, V2", evs[0].obj.Spec, evs[1].obj.Spec)
	}
	if w, _ := inf.Lister().Get("ns", "a"); w.Spec != "V2" {
		t.Errorf("cache holds %q, want V2", w.Spec)
	}
}

func TestInformerLifecycleErrors(t *testing.T) {
	src := seeded(1)
	inf := newTestInformer(src, Options[*widget]{})
	stop := run(t, inf)
	waitSynced(t, inf)
	if err := inf.Run(context.Background()); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("second Run error = %v, want ErrAlreadyRunning", err)
	}
	stop()
	if _, err := inf.AddHandler(newRecorder()); !errors.Is(err, ErrStopped) {
		t.Errorf("AddHandler after stop error = %v, want ErrStopped", err)
	}
}

func TestWaitForCacheSync(t *testing.T) {
	src := seeded(1)
	src.listErr = []error{errors.New("down")}
	inf := newTestInformer(src, Options[*widget]{})
	run(t, inf)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if WaitForCacheSync(ctx, inf) {
		t.Error("WaitForCacheSync = true before the informer synced")
	}
	clk := inf.clock.(*clocktest.Fake)
	if err := clk.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	next, _ := clk.NextDeadline()
	clk.SetTime(next)
	polled := syncedFunc(func() bool { return inf.HasSynced() })
	waitSynced(t, inf, polled)
}

type syncedFunc func() bool

func (f syncedFunc) HasSynced() bool { return f() }

func TestInformerHandlerPanicIsContained(t *testing.T) {
	src := seeded(2)
	inf := newTestInformer(src, Options[*widget]{})
	h := newRecorder()
	reg, _ := inf.AddHandler(HandlerFuncs[*widget]{AddFunc: func(w *widget, initial bool) {
		if w.Name == "a" {
			panic("boom")
		}
		h.OnAdd(w, initial)
	}})
	run(t, inf)
	waitSynced(t, reg)
	if evs := h.waitN(t, 1); evs[0].key != "ns/b" {
		t.Errorf("got %v", kinds(evs))
	}
}

func TestInformerMetrics(t *testing.T) {
	m := newFakeMetrics()
	src := seeded(2)
	inf := newTestInformer(src, Options[*widget]{Name: "widgets", Metrics: m})
	h := newRecorder()
	h.gate = make(chan struct{})
	r, _ := inf.AddHandlerWithOptions(h, HandlerOptions{Name: "slow"})
	run(t, inf)
	waitSynced(t, inf)
	src.update(newWidget("ns", "a", "v2", nil))
	waitRV(t, inf.refl, "3")
	st := m.stats(t)
	if st.Name != "widgets" || st.LastResourceVersion != "3" {
		t.Errorf("stats name %q, last RV %q; want widgets, 3", st.Name, st.LastResourceVersion)
	}
	want := []EventCount{{meta.Added, 0}, {meta.Modified, 1}, {meta.Deleted, 0}, {meta.Bookmark, 0}, {meta.Error, 0}}
	if diff := cmp.Diff(want, st.EventsReceived); diff != "" {
		t.Errorf("events received (-want +got):\n%s", diff)
	}
	// One notification may already be in the handler's hands.
	if len(st.Handlers) != 1 || st.Handlers[0].Name != "slow" || st.Handlers[0].Backlog < 2 || st.Handlers[0].Backlog > 3 {
		t.Errorf("handlers = %+v; want slow with a backlog of 2 or 3", st.Handlers)
	}
	if got := m.count("lists", "widgets"); got != 1 {
		t.Errorf("lists = %v, want 1", got)
	}
	close(h.gate)
	waitSynced(t, r)
	h.waitN(t, 3)
	// The listener counts an event as processed after the handler returns.
	// Hold the handler inside a fourth event: the third is then counted and
	// the fourth is not, whatever the scheduling.
	gate, entered := make(chan struct{}), make(chan struct{})
	h.mu.Lock()
	h.gate, h.entered = gate, entered
	h.mu.Unlock()
	src.update(newWidget("ns", "a", "v3", nil))
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the fourth event never reached the handler")
	}
	if got := m.stats(t).Handlers[0].Processed; got != 3 {
		t.Errorf("events processed = %v, want 3", got)
	}
	close(gate)
	h.waitN(t, 4)
	if n, w := len(m.observed("list_duration", "widgets")), m.count("watches", "widgets"); n != 1 || w != 0 {
		t.Errorf("list durations observed %d, watches %v; want 1 and 0 (no watch has ended yet)", n, w)
	}
}
