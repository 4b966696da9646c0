package reconcile_test

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// recorder is a reconciler that records the requests it gets.
type recorder struct {
	mu   sync.Mutex
	reqs []string
}

func (r *recorder) Reconcile(_ context.Context, req string) (reconcile.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	return reconcile.Done(), nil
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	sort.Strings(out)
	return out
}

// waitReqs waits until rec has recorded n requests and c is idle.
func waitReqs[Req comparable](t *testing.T, c *reconcile.Controller[Req], rec *recorder, n int) []string {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		act := c.Activity()
		rec.mu.Lock()
		got := len(rec.reqs)
		rec.mu.Unlock()
		if got >= n {
			waitIdle(t, c)
			return rec.take()
		}
		select {
		case <-act:
		case <-deadline:
			t.Fatalf("%d of %d reconciles after %s", got, n, waitFor)
		}
	}
}

func TestPeriodicSourceResyncs(t *testing.T) {
	clk := clocktest.New(epoch)
	rec := &recorder{}
	c, err := reconcile.New[string](rec, reconcile.Options[string]{Name: "resync", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Watch(reconcile.Periodic(time.Minute, func() []string { return []string{"a", "b"} }, clk)); err != nil {
		t.Fatal(err)
	}
	started(t, c)
	waitIdle(t, c)
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("reconciled %v before the first period", got)
	}
	for range 2 {
		if err := clk.BlockUntilWaiters(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		clk.Step(time.Minute)
		if got := strings.Join(waitReqs(t, c, rec, 2), ","); got != "a,b" {
			t.Fatalf("after a period reconciled %q, want a,b", got)
		}
	}
}

func TestPeriodicSourceRejectsBadPeriod(t *testing.T) {
	c, err := reconcile.New[string](&recorder{}, reconcile.Options[string]{Name: "bad"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Watch(reconcile.Periodic(0, func() []string { return nil }, nil)); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); !errors.Is(err, reconcile.ErrInvalidOptions) {
		t.Fatalf("Start = %v, want ErrInvalidOptions", err)
	}
}

func TestChannelOfMapsEvents(t *testing.T) {
	rec := &recorder{}
	c, err := reconcile.New[string](rec, reconcile.Options[string]{Name: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	type push struct{ repo, branch string }
	ch := make(chan push)
	if err := c.Watch(reconcile.ChannelOf(ch, func(p push, emit func(string)) {
		emit(p.repo)
		emit(p.repo + "@" + p.branch)
	})); err != nil {
		t.Fatal(err)
	}
	started(t, c)
	ch <- push{"governor", "main"}
	if got := strings.Join(waitReqs(t, c, rec, 2), ","); got != "governor,governor@main" {
		t.Fatalf("reconciled %q", got)
	}
}

func TestInformerSourceMapsEveryEventKind(t *testing.T) {
	engine := mvcc.New(mvcc.Options{})
	t.Cleanup(func() { _ = engine.Close() })
	st := store.New(engine, widgetResource())
	ctx := context.Background()
	if _, err := st.Create(ctx, &widget{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "initial"}}); err != nil {
		t.Fatal(err)
	}
	inf := informer.New[*widget](st, informer.Options[*widget]{Logger: slog.New(slog.DiscardHandler)})
	infCtx, stopInf := context.WithCancel(ctx)
	infDone := make(chan struct{})
	go func() { _ = inf.Run(infCtx); close(infDone) }()
	t.Cleanup(func() { stopInf(); <-infDone })

	rec := &recorder{}
	c, err := reconcile.New[string](rec, reconcile.Options[string]{Name: "widgets"})
	if err != nil {
		t.Fatal(err)
	}
	key := func(w *widget, emit func(string)) { emit(w.Namespace + "/" + w.Name) }
	// Never a metadata-only update.
	if err := c.Watch(reconcile.FromInformer(inf, key, reconcile.InformerOptions[*widget]{
		Predicates: []reconcile.Predicate[*widget]{reconcile.GenerationChanged[*widget]()}})); err != nil {
		t.Fatal(err)
	}
	started(t, c)
	waitIdle(t, c)
	if got := strings.Join(rec.take(), ","); got != "ns/initial" {
		t.Fatalf("initial list reconciled %q", got)
	}

	w, err := st.Create(ctx, &widget{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	wait := func(want string) {
		t.Helper()
		for {
			act := c.Activity()
			if got := strings.Join(rec.take(), ","); got != "" {
				if got != want {
					t.Fatalf("reconciled %q, want %q", got, want)
				}
				waitIdle(t, c)
				return
			}
			waitChan(t, act, "a reconcile of "+want)
		}
	}
	wait("ns/b")
	// A metadata-only update does not pass GenerationChanged; the spec
	// change after it does.
	w.Labels = map[string]string{"x": "y"}
	if w, err = st.Update(ctx, w); err != nil {
		t.Fatal(err)
	}
	w.Spec.Size = 3
	if w, err = st.Update(ctx, w); err != nil {
		t.Fatal(err)
	}
	wait("ns/b")
	if _, err := st.Delete(ctx, "ns", w.Name, meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	wait("ns/b")
}
