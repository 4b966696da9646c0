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
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// partitionLock fails every call while cut is set, as a candidate cut off
// from the store would.
type partitionLock struct {
	reconcile.LeaseLock
	cut atomic.Bool
}

var errPartitioned = &meta.StatusError{Reason: meta.ReasonTimeout, Message: "partitioned"}

func (p *partitionLock) Get(ctx context.Context) (reconcile.LeaseRecord, string, error) {
	if p.cut.Load() {
		return reconcile.LeaseRecord{}, "", errPartitioned
	}
	return p.LeaseLock.Get(ctx)
}

func (p *partitionLock) Update(ctx context.Context, rec reconcile.LeaseRecord, v string) (string, error) {
	if p.cut.Load() {
		return "", errPartitioned
	}
	return p.LeaseLock.Update(ctx, rec, v)
}

// candidate is one elector running in the test.
type candidate struct {
	e      *reconcile.Elector
	lock   *partitionLock
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returns
	err    error         // what Run returned
}

func newCandidate(t *testing.T, id string, lock reconcile.LeaseLock, clk *clocktest.Fake) *candidate {
	t.Helper()
	pl := &partitionLock{LeaseLock: lock}
	e, err := reconcile.NewElector(reconcile.LeaderElectionOptions{Lock: pl, Identity: id, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return &candidate{e: e, lock: pl, done: make(chan struct{})}
}

// start runs the candidate and returns once its first attempt is made.
func (c *candidate) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	attempted := c.e.Attempted()
	go func() { c.err = c.e.Run(ctx); close(c.done) }()
	waitChan(t, attempted, "first attempt of "+c.e.Identity())
	t.Cleanup(func() {
		cancel()
		select {
		case <-c.done:
		case <-time.After(waitFor):
			t.Errorf("elector %s did not stop", c.e.Identity())
		}
	})
}

func waitChan[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitFor):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func leaders(cands ...*candidate) int {
	n := 0
	for _, c := range cands {
		if c.e.IsLeader() {
			n++
		}
	}
	return n
}

// stepAll steps the clock by the retry period (every candidate attempts
// once per step) and checks that there is never more than one leader.
func stepAll(t *testing.T, clk *clocktest.Fake, running []*candidate, all ...*candidate) {
	t.Helper()
	var chans []<-chan struct{}
	for _, c := range running {
		chans = append(chans, c.e.Attempted())
	}
	clk.Step(reconcile.DefaultRetryPeriod)
	if n := leaders(all...); n > 1 {
		t.Fatalf("at %s: %d leaders", clk.Now().Sub(epoch), n)
	}
	for i, c := range running {
		waitChan(t, chans[i], "attempt of "+c.e.Identity())
	}
	if n := leaders(all...); n > 1 {
		t.Fatalf("at %s: %d leaders", clk.Now().Sub(epoch), n)
	}
}

func TestElectionExactlyOneLeader(t *testing.T) {
	clk := clocktest.New(epoch)
	lock := &reconciletest.MemoryLeaseLock{Name: "test"}
	a := newCandidate(t, "a", lock, clk)
	b := newCandidate(t, "b", lock, clk)
	a.start(t)
	b.start(t)
	if !a.e.IsLeader() || b.e.IsLeader() {
		t.Fatalf("a leads: %v, b leads: %v; want only a", a.e.IsLeader(), b.e.IsLeader())
	}
	for range 20 {
		stepAll(t, clk, []*candidate{a, b}, a, b)
		if !a.e.IsLeader() || b.e.IsLeader() {
			t.Fatalf("at %s: leadership moved while a renewed", clk.Now().Sub(epoch))
		}
	}
}

func TestElectionFailoverOnCancelReleasesLease(t *testing.T) {
	clk := clocktest.New(epoch)
	lock := &reconciletest.MemoryLeaseLock{Name: "test"}
	a := newCandidate(t, "a", lock, clk)
	b := newCandidate(t, "b", lock, clk)
	a.start(t)
	b.start(t)
	a.cancel()
	waitChan(t, a.done, "a to stop")
	if a.err != nil {
		t.Fatalf("a stopped with %v", a.err)
	}
	if a.e.IsLeader() {
		t.Fatal("a still leads after cancel")
	}
	rec, _, err := lock.Get(context.Background())
	if err != nil || rec.Holder != "" {
		t.Fatalf("lease after cancel: %+v, %v; want released", rec, err)
	}
	// b takes over at its next attempt, long before the lease would expire.
	stepAll(t, clk, []*candidate{b}, a, b)
	if !b.e.IsLeader() {
		t.Fatal("b does not lead after a released the lease")
	}
	waitChan(t, b.e.Elected(), "b elected")
	rec, _, _ = lock.Get(context.Background())
	if rec.Holder != "b" || rec.Transitions != 1 {
		t.Fatalf("lease = %+v, want held by b after 1 transition", rec)
	}
}

func TestElectionFailoverOnLeaseExpiry(t *testing.T) {
	clk := clocktest.New(epoch)
	lock := &reconciletest.MemoryLeaseLock{Name: "test"}
	a := newCandidate(t, "a", lock, clk)
	b := newCandidate(t, "b", lock, clk)
	a.start(t)
	b.start(t)
	a.lock.cut.Store(true) // a can no longer reach the store
	running := []*candidate{a, b}
	var aLost, bWon time.Duration
	for i := 0; i < 20 && bWon == 0; i++ {
		stepAll(t, clk, running, a, b)
		now := clk.Now().Sub(epoch)
		if aLost == 0 && !a.e.IsLeader() {
			aLost = now
		}
		if b.e.IsLeader() {
			bWon = now
		}
		if len(running) == 2 && !a.e.IsLeader() {
			// a made its attempt of this step and found its renew
			// deadline passed: it has stopped, or is stopping.
			waitChan(t, a.done, "a to step down")
			if !errors.Is(a.err, reconcile.ErrLeaderLost) {
				t.Fatalf("a stopped with %v, want ErrLeaderLost", a.err)
			}
			running = []*candidate{b}
		}
	}
	if aLost == 0 || bWon == 0 {
		t.Fatalf("no failover: a lost at %s, b won at %s", aLost, bWon)
	}
	if aLost > reconcile.DefaultRenewDeadline || bWon < reconcile.DefaultLeaseDuration || aLost >= bWon {
		t.Fatalf("a stepped down at %s and b took over at %s; want a by the renew deadline (%s) and b after the lease duration (%s)",
			aLost, bWon, reconcile.DefaultRenewDeadline, reconcile.DefaultLeaseDuration)
	}
}

func TestElectorRejectsBadOptions(t *testing.T) {
	lock := &reconciletest.MemoryLeaseLock{}
	for name, o := range map[string]reconcile.LeaderElectionOptions{
		"no lock":     {Identity: "a"},
		"no identity": {Lock: lock},
		"renew deadline not below lease duration": {Lock: lock, Identity: "a", LeaseDuration: 10 * time.Second, RenewDeadline: 10 * time.Second},
		"retry period not below renew deadline":   {Lock: lock, Identity: "a", RenewDeadline: 2 * time.Second},
	} {
		if _, err := reconcile.NewElector(o); !errors.Is(err, reconcile.ErrInvalidOptions) {
			t.Errorf("%s: err = %v, want ErrInvalidOptions", name, err)
		}
	}
}

func TestElectionOverStoreLease(t *testing.T) {
	clk := clocktest.New(epoch)
	engine := mvcc.New(mvcc.Options{Clock: clk})
	t.Cleanup(func() { _ = engine.Close() })
	leases := store.New(engine, store.LeaseResource())
	lock := reconcile.StoreLeaseLock(leases, "system", "quickstart")
	a := newCandidate(t, "a", lock, clk)
	b := newCandidate(t, "b", lock, clk)
	a.start(t)
	b.start(t)
	if !a.e.IsLeader() || b.e.IsLeader() {
		t.Fatalf("a leads: %v, b leads: %v; want only a", a.e.IsLeader(), b.e.IsLeader())
	}
	stepAll(t, clk, []*candidate{a, b}, a, b)
	lease, err := leases.Get(context.Background(), "system", "quickstart")
	if err != nil || lease.Holder() != "a" || *lease.Spec.LeaseDurationSeconds != 15 {
		t.Fatalf("stored lease = %+v, %v; want held by a for 15s", lease, err)
	}
	a.cancel()
	waitChan(t, a.done, "a to stop")
	if lease, _ := leases.Get(context.Background(), "system", "quickstart"); lease.Holder() != "" {
		t.Fatalf("lease still held by %q after a was cancelled", lease.Holder())
	}
	stepAll(t, clk, []*candidate{b}, a, b)
	if !b.e.IsLeader() {
		t.Fatal("b does not lead after a released the lease")
	}
}

// TestElectionOverStoreLeaseToleratesClockSkew gives b a clock an hour
// ahead of a's. To b, the renewTime that a writes is always an hour old;
// an algorithm that compared it with its own clock (as store's
// TryAcquireLease did) would take the lease at once. The elector instead
// times the record's changes on its own clock, so b waits as long as a
// renews.
func TestElectionOverStoreLeaseToleratesClockSkew(t *testing.T) {
	clkA := clocktest.New(epoch)
	clkB := clocktest.New(epoch.Add(time.Hour))
	engine := mvcc.New(mvcc.Options{Clock: clkA})
	t.Cleanup(func() { _ = engine.Close() })
	lock := reconcile.StoreLeaseLock(store.New(engine, store.LeaseResource()), "system", "skew")
	a := newCandidate(t, "a", lock, clkA)
	b := newCandidate(t, "b", lock, clkB)
	a.start(t)
	b.start(t)
	for range 20 {
		attempts := []<-chan struct{}{a.e.Attempted(), b.e.Attempted()}
		clkA.Step(reconcile.DefaultRetryPeriod)
		clkB.Step(reconcile.DefaultRetryPeriod)
		waitChan(t, attempts[0], "attempt of a")
		waitChan(t, attempts[1], "attempt of b")
		if !a.e.IsLeader() || b.e.IsLeader() {
			t.Fatalf("after %s: a leads %v, b leads %v; want only a", clkA.Now().Sub(epoch), a.e.IsLeader(), b.e.IsLeader())
		}
	}
}
