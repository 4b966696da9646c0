package reconcile_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/reconcile/reconciletest"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// replica is one manager of a test, with a leader-only controller and a
// controller that runs everywhere, both over a widget informer.
type replica struct {
	mgr            *reconcile.Manager
	leaderCtrl     *reconcile.Controller[reconcile.Request]
	leaderCalls    atomic.Int64
	everywhereRuns chan struct{} // receives when the no-leader runnable starts
	cancel         context.CancelFunc
	done           chan struct{}
	err            error
}

func newReplica(t *testing.T, id string, engine *mvcc.Engine, clk *clocktest.Fake, addr string) *replica {
	t.Helper()
	leases := store.NewWithOptions(engine, store.LeaseResource(), store.Options{Clock: clk})
	mgr, err := reconcile.NewManager(reconcile.ManagerOptions{
		Clock: clk, Addr: addr,
		LeaderElection: &reconcile.LeaderElectionOptions{
			Lock: reconcile.StoreLeaseLock(leases, "system", "test"), Identity: id},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{mgr: mgr, done: make(chan struct{}), everywhereRuns: make(chan struct{}, 1)}
	widgets := store.NewWithOptions(engine, widgetResource(), store.Options{Clock: clk})
	inf := informer.New[*widget](widgets, informer.Options[*widget]{Clock: clk, Logger: slog.New(slog.DiscardHandler)})
	if err := mgr.AddCache("widgets", inf); err != nil {
		t.Fatal(err)
	}
	leaderOnly, err := reconcile.New[reconcile.Request](reconcile.Func[reconcile.Request](
		func(context.Context, reconcile.Request) (reconcile.Result, error) {
			r.leaderCalls.Add(1)
			return reconcile.Done(), nil
		}), reconcile.Options[reconcile.Request]{Name: "leader-only", Clock: clk, Metrics: mgr.Metrics()})
	if err != nil {
		t.Fatal(err)
	}
	// The initial list goes in at low priority; the queue's aging still
	// serves it.
	if err := leaderOnly.Watch(reconcile.FromInformer(inf, reconcile.OwnKey[*widget](),
		reconcile.InformerOptions[*widget]{LowPriorityInitialList: true})); err != nil {
		t.Fatal(err)
	}
	everywhere := reconcile.RunnableFunc(func(ctx context.Context) error {
		r.everywhereRuns <- struct{}{}
		<-ctx.Done()
		return nil
	})
	r.leaderCtrl = leaderOnly
	if err := mgr.Add(leaderOnly); err != nil {
		t.Fatal(err)
	}
	if err := mgr.Add(noLeader{everywhere}); err != nil {
		t.Fatal(err)
	}
	return r
}

// noLeader marks a runnable as one that runs on every replica.
type noLeader struct{ reconcile.Runnable }

func (noLeader) NeedLeaderElection() bool { return false }

func (r *replica) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.err = r.mgr.Start(ctx); close(r.done) }()
	waitChan(t, r.mgr.Started(), "manager caches to sync")
	t.Cleanup(func() {
		cancel()
		waitChan(t, r.done, "manager to stop")
	})
}

func TestManagersShareOneLeader(t *testing.T) {
	clk := clocktest.New(epoch)
	engine := mvcc.New(mvcc.Options{Clock: clk})
	t.Cleanup(func() { _ = engine.Close() })
	widgets := store.NewWithOptions(engine, widgetResource(), store.Options{Clock: clk})
	ctx := context.Background()
	if _, err := widgets.Create(ctx, &widget{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "a"}}); err != nil {
		t.Fatal(err)
	}

	a := newReplica(t, "a", engine, clk, "")
	b := newReplica(t, "b", engine, clk, "")
	a.start(t)
	waitChan(t, a.mgr.Elected(), "a elected")
	bAttempt := b.mgr.Elector().Attempted()
	b.start(t)
	waitChan(t, bAttempt, "b's first attempt")
	if !a.mgr.IsLeader() || b.mgr.IsLeader() {
		t.Fatalf("a leads: %v, b leads: %v; want only a", a.mgr.IsLeader(), b.mgr.IsLeader())
	}
	// Both replicas warm their caches and run the runnables that need no
	// leader; only the leader reconciles.
	for _, r := range []*replica{a, b} {
		if !informerSynced(r) {
			t.Fatal("a replica did not sync its caches")
		}
		waitChan(t, r.everywhereRuns, "the no-leader runnable")
	}
	waitIdle(t, a.leaderCtrl)
	if a.leaderCalls.Load() != 1 || b.leaderCalls.Load() != 0 {
		t.Fatalf("leader-only reconciles: a %d, b %d; want 1 and 0", a.leaderCalls.Load(), b.leaderCalls.Load())
	}
	// Cancel the leader: it drains, releases the lease, and b takes over
	// at its next attempt, never with two leaders.
	a.cancel()
	waitChan(t, a.done, "a to stop")
	if a.err != nil {
		t.Fatalf("a stopped with %v", a.err)
	}
	for i := 0; !b.mgr.IsLeader(); i++ {
		if i > 10 {
			t.Fatal("b never took over")
		}
		ch := b.mgr.Elector().Attempted()
		clk.Step(reconcile.DefaultRetryPeriod)
		waitChan(t, ch, "b's attempt")
		if a.mgr.IsLeader() && b.mgr.IsLeader() {
			t.Fatal("two leaders")
		}
	}
	waitChan(t, b.mgr.Elected(), "b's leader-only runnables")
	waitIdle(t, b.leaderCtrl)
	if b.leaderCalls.Load() != 1 {
		t.Fatalf("b reconciled %d times after taking over, want 1", b.leaderCalls.Load())
	}
}

func informerSynced(r *replica) bool {
	select {
	case <-r.mgr.Started():
		return true
	default:
		return false
	}
}

func TestManagerServesMetricsAndHealth(t *testing.T) {
	engine := mvcc.New(mvcc.Options{})
	t.Cleanup(func() { _ = engine.Close() })
	mgr, err := reconcile.NewManager(reconcile.ManagerOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	widgets := store.New(engine, widgetResource())
	inf := informer.New[*widget](widgets, informer.Options[*widget]{Logger: slog.New(slog.DiscardHandler)})
	if err := mgr.AddCache("widgets", inf); err != nil {
		t.Fatal(err)
	}
	reconciled := make(chan struct{}, 1)
	c, err := reconcile.New[reconcile.Request](reconcile.Func[reconcile.Request](
		func(context.Context, reconcile.Request) (reconcile.Result, error) {
			reconciled <- struct{}{}
			return reconcile.Done(), nil
		}), reconcile.Options[reconcile.Request]{Name: "widgets", Metrics: mgr.Metrics(), QueueMetrics: mgr.QueueMetrics()})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Watch(reconcile.FromInformer(inf, reconcile.OwnKey[*widget](), reconcile.InformerOptions[*widget]{})); err != nil {
		t.Fatal(err)
	}
	if err := mgr.Add(c); err != nil {
		t.Fatal(err)
	}
	healthy := atomic.Bool{}
	healthy.Store(true)
	mgr.AddHealthCheck("custom", func() error {
		if !healthy.Load() {
			return errors.New("unwell")
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() {
		cancel()
		if err := waitChan(t, done, "manager to stop"); err != nil {
			t.Errorf("manager stopped with %v", err)
		}
	}()
	waitChan(t, mgr.Started(), "manager started")
	if _, err := widgets.Create(ctx, &widget{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "a"}}); err != nil {
		t.Fatal(err)
	}
	waitChan(t, reconciled, "reconcile")
	waitIdle(t, c)

	base := "http://" + mgr.Addr().String()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("/healthz"); code != 200 || !strings.Contains(body, "[+] custom ok") {
		t.Fatalf("/healthz = %d %q", code, body)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("/readyz = %d", code)
	}
	healthy.Store(false)
	if code, body := get("/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "custom failed: unwell") {
		t.Fatalf("/healthz with a failing check = %d %q", code, body)
	}
	code, body := get("/metrics")
	for _, want := range []string{
		`controller_runtime_reconcile_total{controller="widgets",result="success"} 1`,
		`controller_runtime_max_concurrent_reconciles{controller="widgets"} 1`,
		`controller_runtime_active_workers{controller="widgets"} 0`,
		`controller_runtime_reconcile_time_seconds_count{controller="widgets"} 1`,
		`workqueue_adds_total{name="widgets"} 1`,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestGracefulShutdownDrainsInFlight(t *testing.T) {
	entered := make(chan string, 10)
	release := make(chan struct{})
	finished := make(chan error, 10)
	r := reconcile.Func[string](func(ctx context.Context, req string) (reconcile.Result, error) {
		entered <- req
		if req == "slow" {
			<-release
		}
		finished <- ctx.Err()
		return reconcile.Done(), nil
	})
	c, err := reconcile.New[string](r, reconcile.Options[string]{Name: "drain", Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Start(ctx) }()
	c.Enqueue("slow")
	waitChan(t, entered, "slow reconcile")
	c.Enqueue("queued") // waits behind the one worker
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Start returned %v with a reconcile in flight", err)
	default:
	}
	close(release)
	if err := waitChan(t, finished, "slow reconcile to finish"); err != nil {
		t.Fatalf("in-flight reconcile's context was cancelled at shutdown: %v", err)
	}
	if err := waitChan(t, done, "Start to return"); err != nil {
		t.Fatalf("Start = %v, want nil after a clean drain", err)
	}
	select {
	case req := <-entered:
		t.Fatalf("reconciled %q after shutdown began", req)
	default:
	}
}

func TestShutdownCancelsReconcilesAtTheDrainTimeout(t *testing.T) {
	clk := clocktest.New(epoch)
	entered := make(chan struct{}, 1)
	r := reconcile.Func[string](func(ctx context.Context, req string) (reconcile.Result, error) {
		entered <- struct{}{}
		<-ctx.Done() // a reconcile that only stops when told
		return reconcile.Done(), ctx.Err()
	})
	c, err := reconcile.New[string](r, reconcile.Options[string]{Name: "stuck", Clock: clk, DrainTimeout: 7 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Start(ctx) }()
	c.Enqueue("a")
	waitChan(t, entered, "reconcile")
	cancel()
	if err := clk.BlockUntilWaiters(context.Background(), 1); err != nil { // the drain timer
		t.Fatal(err)
	}
	clk.Step(7 * time.Second)
	if err := waitChan(t, done, "Start to return"); !errors.Is(err, reconcile.ErrDrainTimeout) {
		t.Fatalf("Start = %v, want ErrDrainTimeout", err)
	}
}

func TestManagerStopsWhenLeadershipIsLost(t *testing.T) {
	clk := clocktest.New(epoch)
	lock := &partitionLock{LeaseLock: &reconciletest.MemoryLeaseLock{Name: "test"}}
	mgr, err := reconcile.NewManager(reconcile.ManagerOptions{Clock: clk,
		LeaderElection: &reconcile.LeaderElectionOptions{Lock: lock, Identity: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	leaderStopped := make(chan struct{})
	if err := mgr.Add(reconcile.RunnableFunc(func(ctx context.Context) error {
		<-ctx.Done()
		close(leaderStopped)
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(context.Background()) }()
	waitChan(t, mgr.Elected(), "a elected")
	lock.cut.Store(true)
	for i := 0; ; i++ {
		if i > 10 {
			t.Fatal("the manager kept running without renewing its lease")
		}
		ch := mgr.Elector().Attempted()
		clk.Step(reconcile.DefaultRetryPeriod)
		waitChan(t, ch, "an attempt")
		if !mgr.IsLeader() {
			break
		}
	}
	if err := waitChan(t, done, "Start to return"); !errors.Is(err, reconcile.ErrLeaderLost) {
		t.Fatalf("Start = %v, want ErrLeaderLost", err)
	}
	waitChan(t, leaderStopped, "the leader-only runnable to stop")
	if now := clk.Now().Sub(epoch); now > reconcile.DefaultRenewDeadline {
		t.Fatalf("stepped down at %s, after the renew deadline %s", now, reconcile.DefaultRenewDeadline)
	}
}
