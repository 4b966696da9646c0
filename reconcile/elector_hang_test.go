package reconcile_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/reconcile/reconciletest"
)

// hangLock is a LeaseLock whose calls, while hang is set, block until
// their context ends, as calls to a store that is cut off without failing
// fast do (a Raft member in a minority, an etcd client with no timeout).
type hangLock struct {
	reconcile.LeaseLock
	hang    atomic.Bool
	entered chan struct{} // receives, without blocking, when a call starts hanging
}

func (h *hangLock) wait(ctx context.Context) error {
	select {
	case h.entered <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}

func (h *hangLock) Get(ctx context.Context) (reconcile.LeaseRecord, string, error) {
	if h.hang.Load() {
		return reconcile.LeaseRecord{}, "", h.wait(ctx)
	}
	return h.LeaseLock.Get(ctx)
}

func (h *hangLock) Create(ctx context.Context, rec reconcile.LeaseRecord) (string, error) {
	if h.hang.Load() {
		return "", h.wait(ctx)
	}
	return h.LeaseLock.Create(ctx, rec)
}

func (h *hangLock) Update(ctx context.Context, rec reconcile.LeaseRecord, v string) (string, error) {
	if h.hang.Load() {
		return "", h.wait(ctx)
	}
	return h.LeaseLock.Update(ctx, rec, v)
}

// TestLeaderStopsByRenewDeadlineWhenLockHangs runs a leader manager whose
// lease calls hang, and another candidate on the same lease. The leader
// must stop leading at its renew deadline, while its renewal still hangs:
// IsLeader false, its leader-only runnable's context cancelled, Start
// returning ErrLeaderLost; and all that before the other candidate may
// take the lease, which it does at the lease duration.
func TestLeaderStopsByRenewDeadlineWhenLockHangs(t *testing.T) {
	clk := clocktest.New(epoch)
	mem := &reconciletest.MemoryLeaseLock{Name: "test"}
	lock := &hangLock{LeaseLock: mem, entered: make(chan struct{}, 1)}
	mgr, err := reconcile.NewManager(reconcile.ManagerOptions{Clock: clk,
		LeaderElection: &reconcile.LeaderElectionOptions{Lock: lock, Identity: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	leaderCtxDone := make(chan struct{})
	if err := mgr.Add(reconcile.RunnableFunc(func(ctx context.Context) error {
		<-ctx.Done()
		close(leaderCtxDone)
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(context.Background()) }()
	waitChan(t, mgr.Elected(), "a elected")
	b := newCandidate(t, "b", mem, clk)
	b.start(t)
	if b.e.IsLeader() {
		t.Fatal("b leads while a holds the lease")
	}
	lock.hang.Store(true)

	var aLost, bWon = -1, -1 // in retry periods
	steps := int(reconcile.DefaultLeaseDuration/reconcile.DefaultRetryPeriod) + 2
	for i := 1; i <= steps && bWon < 0; i++ {
		ch := b.e.Attempted()
		clk.Step(reconcile.DefaultRetryPeriod)
		now := clk.Now().Sub(epoch)
		if i == 1 {
			waitChan(t, lock.entered, "a's renewal to hang")
		}
		if now >= reconcile.DefaultRenewDeadline && aLost < 0 {
			// The renewal still hangs (or has just been cut off); the
			// leadership must end now regardless.
			waitChan(t, mgr.Elector().Lost(), "a to stop leading at its renew deadline")
			waitChan(t, leaderCtxDone, "a's leader-only runnable to be cancelled")
			if err := waitChan(t, done, "a's Start to return"); !errors.Is(err, reconcile.ErrLeaderLost) {
				t.Fatalf("a's Start = %v, want ErrLeaderLost", err)
			}
			aLost = i
		}
		if aLost < 0 && !mgr.IsLeader() {
			t.Fatalf("at %s a stopped leading before its renew deadline", now)
		}
		if aLost >= 0 && mgr.IsLeader() {
			t.Fatalf("at %s a leads again", now)
		}
		waitChan(t, ch, "b's attempt")
		if b.e.IsLeader() {
			if aLost < 0 {
				t.Fatalf("at %s b leads while a still does", now)
			}
			bWon = i
		}
	}
	rp := reconcile.DefaultRetryPeriod
	if aLost < 0 || bWon < 0 {
		t.Fatalf("no failover: a lost at step %d, b won at step %d", aLost, bWon)
	}
	if got := rp * time.Duration(aLost); got != reconcile.DefaultRenewDeadline {
		t.Errorf("a stopped leading at %s, want at its renew deadline %s", got, reconcile.DefaultRenewDeadline)
	}
	if got := rp * time.Duration(bWon); got < reconcile.DefaultLeaseDuration {
		t.Errorf("b took over at %s, before the lease duration %s", got, reconcile.DefaultLeaseDuration)
	}
}

// stuckLock is a LeaseLock whose calls, while stuck is set, ignore their
// context and block until release is closed.
type stuckLock struct {
	reconcile.LeaseLock
	stuck   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (s *stuckLock) block() {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	<-s.release
}

func (s *stuckLock) Get(ctx context.Context) (reconcile.LeaseRecord, string, error) {
	if s.stuck.Load() {
		s.block()
		return reconcile.LeaseRecord{}, "", errPartitioned
	}
	return s.LeaseLock.Get(ctx)
}

func (s *stuckLock) Update(ctx context.Context, rec reconcile.LeaseRecord, v string) (string, error) {
	if s.stuck.Load() {
		s.block()
		return "", errPartitioned
	}
	return s.LeaseLock.Update(ctx, rec, v)
}

// TestElectorStepsDownWhileALockCallIgnoresItsContext checks that the
// renew deadline ends leadership, and Run, even when a lock call does not
// return when its context ends.
func TestElectorStepsDownWhileALockCallIgnoresItsContext(t *testing.T) {
	clk := clocktest.New(epoch)
	lock := &stuckLock{LeaseLock: &reconciletest.MemoryLeaseLock{Name: "test"}, entered: make(chan struct{}, 1), release: make(chan struct{})}
	defer close(lock.release)
	e, err := reconcile.NewElector(reconcile.LeaderElectionOptions{Lock: lock, Identity: "a", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Run(context.Background()) }()
	waitChan(t, e.Elected(), "a elected")
	lock.stuck.Store(true)
	clk.Step(reconcile.DefaultRetryPeriod)
	waitChan(t, lock.entered, "a's renewal to get stuck")
	clk.Step(reconcile.DefaultRenewDeadline - reconcile.DefaultRetryPeriod - 1)
	if !e.IsLeader() {
		t.Fatal("a stopped leading before its renew deadline")
	}
	clk.Step(1)
	waitChan(t, e.Lost(), "a to stop leading at its renew deadline")
	if e.IsLeader() {
		t.Fatal("a still leads past its renew deadline")
	}
	if err := waitChan(t, done, "Run to return"); !errors.Is(err, reconcile.ErrLeaderLost) {
		t.Fatalf("Run = %v, want ErrLeaderLost", err)
	}
}

// slowCreate is a LeaseLock whose Create ignores its context and waits to
// be released before it writes to mem; its other calls go through a
// hangLock.
type slowCreate struct {
	*hangLock
	mem              *reconciletest.MemoryLeaseLock
	entered, release chan struct{}
}

func (s *slowCreate) Create(ctx context.Context, rec reconcile.LeaseRecord) (string, error) {
	s.entered <- struct{}{}
	<-s.release
	return s.mem.Create(context.WithoutCancel(ctx), rec)
}

// TestElectorIgnoresAnAcquisitionThatLandsTooLate checks that a write
// which lands after the leadership it would prove has run out does not
// make the candidate leader.
func TestElectorIgnoresAnAcquisitionThatLandsTooLate(t *testing.T) {
	clk := clocktest.New(epoch)
	mem := &reconciletest.MemoryLeaseLock{Name: "test"}
	lock := &slowCreate{hangLock: &hangLock{LeaseLock: mem, entered: make(chan struct{}, 1)}, mem: mem,
		entered: make(chan struct{}), release: make(chan struct{})}
	e, err := reconcile.NewElector(reconcile.LeaderElectionOptions{Lock: lock, Identity: "a", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	attempted := e.Attempted()
	go func() { done <- e.Run(ctx) }()
	defer func() {
		cancel()
		if err := waitChan(t, done, "Run to return"); err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	waitChan(t, lock.entered, "the first attempt's Create")
	clk.Step(reconcile.DefaultRenewDeadline)
	// The next attempt, due already, hangs: it would be a fresh, valid
	// acquisition.
	lock.hang.Store(true)
	close(lock.release)
	waitChan(t, attempted, "the first attempt")
	select {
	case <-e.Elected():
		t.Fatal("elected by a write that landed after its renew deadline")
	case err := <-done:
		t.Fatalf("Run returned %v after a late first write", err)
	default:
	}
	if e.IsLeader() {
		t.Fatal("leads on a write that landed after its renew deadline")
	}
}
