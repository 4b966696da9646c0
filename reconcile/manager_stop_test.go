package reconcile_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/reconcile/reconciletest"
)

// neverSyncs is a source whose initial state never arrives.
type neverSyncs struct{}

func (neverSyncs) Start(ctx context.Context, _ reconcile.Queue[string]) error {
	<-ctx.Done()
	return nil
}

func (neverSyncs) WaitForSync(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestManagerReportsAControllerThatNeverSyncs checks that a controller
// whose sources do not sync within its CacheSyncTimeout stops the manager
// with an error that says so and names the controller.
func TestManagerReportsAControllerThatNeverSyncs(t *testing.T) {
	clk := clocktest.New(epoch)
	mgr, err := reconcile.NewManager(reconcile.ManagerOptions{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	c, err := reconcile.New[string](reconcile.Func[string](func(context.Context, string) (reconcile.Result, error) {
		return reconcile.Done(), nil
	}), reconcile.Options[string]{Name: "unsynced", Metrics: mgr.Metrics(), CacheSyncTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Watch(neverSyncs{}); err != nil {
		t.Fatal(err)
	}
	if err := mgr.Add(c); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(context.Background()) }()
	if err := clk.BlockUntilWaiters(context.Background(), 1); err != nil { // the sync timeout
		t.Fatal(err)
	}
	clk.Step(time.Minute)
	err = waitChan(t, done, "Start to return")
	if !errors.Is(err, reconcile.ErrCacheSyncTimeout) || !strings.Contains(err.Error(), "unsynced") {
		t.Fatalf("Start = %v, want ErrCacheSyncTimeout naming the controller", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatalf("Start = %v: a sync timeout is not a cancellation", err)
	}
}

// stuckRunnable is a leader-only runnable that stops only when released,
// whatever its context says.
type stuckRunnable struct {
	started, release, stopped chan struct{}
}

func (s *stuckRunnable) Name() string { return "stuck" }

func (s *stuckRunnable) Start(ctx context.Context) error {
	close(s.started)
	<-ctx.Done()
	<-s.release
	close(s.stopped)
	return nil
}

// TestManagerShutdownIsBoundedAndKeepsTheLease checks that Start returns
// when GracefulShutdownTimeout expires with a runnable still running,
// naming it, and that the manager keeps renewing the lease until the
// runnable really stops, and only then releases it.
func TestManagerShutdownIsBoundedAndKeepsTheLease(t *testing.T) {
	clk := clocktest.New(epoch)
	lock := &reconciletest.MemoryLeaseLock{Name: "test"}
	const grace = 5 * reconcile.DefaultRetryPeriod
	mgr, err := reconcile.NewManager(reconcile.ManagerOptions{Clock: clk, GracefulShutdownTimeout: grace,
		LeaderElection: &reconcile.LeaderElectionOptions{Lock: lock, Identity: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	stuck := &stuckRunnable{started: make(chan struct{}), release: make(chan struct{}), stopped: make(chan struct{})}
	if err := mgr.Add(stuck); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	waitChan(t, mgr.Elected(), "a elected")
	waitChan(t, stuck.started, "the leader-only runnable")
	armed := clk.Waiters()
	cancel()
	if err := clk.BlockUntilWaiters(context.Background(), armed+1); err != nil { // the shutdown timer
		t.Fatal(err)
	}
	// Step in retry periods, so that the elector renews as it would on
	// the wall clock.
	step := func() {
		t.Helper()
		ch := mgr.Elector().Attempted()
		clk.Step(reconcile.DefaultRetryPeriod)
		waitChan(t, ch, "a renewal")
	}
	for range grace / reconcile.DefaultRetryPeriod {
		select {
		case err := <-done:
			t.Fatalf("Start returned %v before the graceful shutdown timeout", err)
		default:
		}
		step()
	}
	err = waitChan(t, done, "Start to return at the graceful shutdown timeout")
	if !errors.Is(err, reconcile.ErrShutdownTimeout) || !strings.Contains(err.Error(), "stuck") {
		t.Fatalf("Start = %v, want ErrShutdownTimeout naming the stuck runnable", err)
	}
	// The runnable still runs: the lease stays held and renewed.
	for range 2 * reconcile.DefaultLeaseDuration / reconcile.DefaultRetryPeriod {
		step()
		rec, _, err := lock.Get(context.Background())
		if err != nil || rec.Holder != "a" || clk.Since(rec.RenewTime) > reconcile.DefaultRetryPeriod {
			t.Fatalf("at %s lease = %+v, %v; want held by a and renewed", clk.Now().Sub(epoch), rec, err)
		}
		if !mgr.IsLeader() {
			t.Fatalf("at %s a gave up leadership while its runnable still runs", clk.Now().Sub(epoch))
		}
	}
	select {
	case <-mgr.Stopped():
		t.Fatal("Stopped closed while a runnable still runs")
	default:
	}
	close(stuck.release)
	waitChan(t, stuck.stopped, "the runnable to stop")
	waitChan(t, mgr.Stopped(), "the manager to stop")
	if rec, _, err := lock.Get(context.Background()); err != nil || rec.Holder != "" {
		t.Fatalf("lease after the runnable stopped = %+v, %v; want released", rec, err)
	}
}
