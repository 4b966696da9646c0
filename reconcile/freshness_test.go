package reconcile_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/reconcile/prommetrics"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

func widgetResource() store.Resource[*widget] {
	return store.Resource[*widget]{Name: "widgets", Kind: "Widget", APIVersion: "test/v1", Namespaced: true}
}

// gatedSource delays the watch events of a store until released, so that a
// test controls how far an informer's cache lags behind the store.
type gatedSource[T meta.Object] struct {
	st   *store.Store[T]
	held chan struct{} // closed on release
	once sync.Once
}

func (g *gatedSource[T]) release() { g.once.Do(func() { close(g.held) }) }

func (g *gatedSource[T]) List(ctx context.Context, o meta.ListOptions) (*meta.List[T], error) {
	return g.st.List(ctx, o)
}

func (g *gatedSource[T]) Watch(ctx context.Context, o meta.ListOptions) (<-chan meta.WatchEvent[T], error) {
	in, err := g.st.Watch(ctx, o)
	if err != nil {
		return nil, err
	}
	out := make(chan meta.WatchEvent[T])
	go func() {
		defer close(out)
		for ev := range in {
			if ev.Type != meta.Bookmark {
				select {
				case <-g.held:
				case <-ctx.Done():
					return
				}
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// rywFixture is a parent key whose reconcile creates one child widget, with
// the child informer's watch held back.
type rywFixture struct {
	ctrlClock *clocktest.Fake
	reg       *prometheus.Registry
	gate      *gatedSource[*widget]
	ctrl      *reconcile.Controller[string]
	seen      chan int // children seen by each reconcile
	errs      chan error
}

func newRYWFixture(t *testing.T) *rywFixture {
	t.Helper()
	engine := mvcc.New(mvcc.Options{})
	t.Cleanup(func() { _ = engine.Close() })
	st := store.New(engine, widgetResource())
	gate := &gatedSource[*widget]{st: st, held: make(chan struct{})}
	t.Cleanup(gate.release)
	inf := informer.New[*widget](gate, informer.Options[*widget]{Logger: slog.New(slog.DiscardHandler)})
	fresh := reconcile.NewFreshness()
	client, err := reconcile.NewClient(st, inf, fresh)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	infDone := make(chan struct{})
	go func() { _ = inf.Run(ctx); close(infDone) }()
	t.Cleanup(func() { cancel(); <-infDone })
	if !informer.WaitForCacheSync(ctx, inf) {
		t.Fatal("informer did not sync")
	}

	f := &rywFixture{ctrlClock: clocktest.New(epoch), reg: prometheus.NewRegistry(), gate: gate,
		seen: make(chan int, 10), errs: make(chan error, 10)}
	metrics, _ := prommetrics.New(f.reg)
	r := reconcile.Func[string](func(ctx context.Context, parent string) (reconcile.Result, error) {
		children, err := client.List("ns", "")
		if err != nil {
			return reconcile.Done(), err
		}
		f.seen <- len(children)
		if len(children) == 0 {
			_, err := client.Create(ctx, &widget{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: parent + "-child"}})
			f.errs <- err
			return reconcile.Done(), err
		}
		return reconcile.Done(), nil
	})
	// The controller's own clock has no other timers, so a waiter on it is
	// the freshness wait.
	f.ctrl, err = reconcile.New[string](r, reconcile.Options[string]{Name: "ryw", Clock: f.ctrlClock,
		Freshness: fresh, FreshnessTimeout: 5 * time.Second, Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	started(t, f.ctrl)
	return f
}

func TestReadYourOwnWritesWaitsForTheCache(t *testing.T) {
	f := newRYWFixture(t)
	f.ctrl.Enqueue("p")
	if n := waitChan(t, f.seen, "first reconcile"); n != 0 {
		t.Fatalf("first reconcile saw %d children, want 0", n)
	}
	if err := waitChan(t, f.errs, "create"); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, f.ctrl)
	// Reconcile again at once: the cache has not seen the child yet, so the
	// controller must wait instead of creating it a second time.
	f.ctrl.Enqueue("p")
	if err := f.ctrlClock.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-f.seen:
		t.Fatalf("reconciled (seeing %d children) before the cache caught up", n)
	default:
	}
	f.gate.release()
	if n := waitChan(t, f.seen, "second reconcile"); n != 1 {
		t.Fatalf("second reconcile saw %d children, want 1", n)
	}
	waitIdle(t, f.ctrl)
	if got := counter(t, f.reg, "governor_reconcile_stale_cache_waits_total", map[string]string{"outcome": "caught_up"}); got != 1 {
		t.Fatalf("caught_up waits = %v, want 1", got)
	}
}

func TestReadYourOwnWritesWaitIsBounded(t *testing.T) {
	f := newRYWFixture(t)
	f.ctrl.Enqueue("p")
	waitChan(t, f.seen, "first reconcile")
	if err := waitChan(t, f.errs, "create"); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, f.ctrl)
	f.ctrl.Enqueue("p")
	if err := f.ctrlClock.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	f.ctrlClock.Step(5 * time.Second)
	// The cache never caught up: the reconcile goes ahead on stale data
	// (and here fails to create the child twice), and the timeout counts.
	if n := waitChan(t, f.seen, "second reconcile"); n != 0 {
		t.Fatalf("second reconcile saw %d children, want the stale 0", n)
	}
	if err := waitChan(t, f.errs, "second create"); !errors.Is(err, meta.ErrAlreadyExists) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	waitIdle(t, f.ctrl)
	if got := counter(t, f.reg, "governor_reconcile_stale_cache_waits_total", map[string]string{"outcome": "timeout"}); got != 1 {
		t.Fatalf("timeout waits = %v, want 1", got)
	}
}
