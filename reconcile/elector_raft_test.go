package reconcile_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/rafttest"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store"
)

// raftWaitFor bounds each wait of the Raft test, which runs on real time:
// generous, as the machine may be loaded.
const raftWaitFor = time.Minute

// writeLog records the lease records a candidate wrote successfully.
type writeLog struct {
	reconcile.LeaseLock
	mu   sync.Mutex
	recs []reconcile.LeaseRecord
}

func (w *writeLog) Create(ctx context.Context, rec reconcile.LeaseRecord) (string, error) {
	v, err := w.LeaseLock.Create(ctx, rec)
	w.note(rec, err)
	return v, err
}

func (w *writeLog) Update(ctx context.Context, rec reconcile.LeaseRecord, version string) (string, error) {
	v, err := w.LeaseLock.Update(ctx, rec, version)
	w.note(rec, err)
	return v, err
}

func (w *writeLog) note(rec reconcile.LeaseRecord, err error) {
	if err == nil {
		w.mu.Lock()
		w.recs = append(w.recs, rec)
		w.mu.Unlock()
	}
}

func (w *writeLog) written() []reconcile.LeaseRecord {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]reconcile.LeaseRecord(nil), w.recs...)
}

// raftCandidate runs an elector over a store lease on one Raft member.
type raftCandidate struct {
	e    *reconcile.Elector
	log  *writeLog
	done chan struct{}
	err  error
}

func startRaftCandidate(t *testing.T, id string, n *raft.Node, clk *clocktest.Fake) *raftCandidate {
	t.Helper()
	leases := store.NewWithOptions(n, store.LeaseResource(), store.Options{Clock: clk})
	log := &writeLog{LeaseLock: reconcile.StoreLeaseLock(leases, "system", "raft")}
	e, err := reconcile.NewElector(reconcile.LeaderElectionOptions{Lock: log, Identity: id, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	c := &raftCandidate{e: e, log: log, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	attempted := e.Attempted()
	go func() { c.err = e.Run(ctx); close(c.done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-c.done:
		case <-time.After(raftWaitFor):
			t.Errorf("elector %s did not stop", id)
		}
	})
	waitRaft(t, attempted, "first attempt of "+id)
	return c
}

func waitRaft[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(raftWaitFor):
		t.Fatalf("timed out after %s waiting for %s", raftWaitFor, what)
		panic("unreachable")
	}
}

// TestElectionOverRaftPartitionNeverHasTwoLeaders runs two candidates on
// a real three-member Raft cluster, the leader on the Raft leader and the
// other on a follower, then cuts the Raft leader off. The old leader's
// renewals hang; it must stop leading before the candidate on the
// majority side takes over, and the leases they wrote must show leadership
// intervals that do not overlap.
//
// Raft runs on its own paced clock; the electors share a fake clock that
// the test steps one retry period at a time, once the majority-side
// candidate has made its attempt, so the orderings checked do not depend
// on the machine's speed.
func TestElectionOverRaftPartitionNeverHasTwoLeaders(t *testing.T) {
	c := rafttest.NewCluster(t, rafttest.Options{Configure: func(cfg *raft.Config) {
		// Longer than any wait of the test: on the cut-off member a
		// request hangs until the elector's own deadline ends it, as
		// with a store that has no request timeout (the majority side
		// fails its stale requests at each leader change, so they never
		// wait that long).
		cfg.RequestTimeout = 3 * raftWaitFor
	}})
	ctx, cancel := context.WithTimeout(context.Background(), raftWaitFor)
	defer cancel()
	lead, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fol := c.Follower(lead)
	clk := clocktest.New(epoch)
	a := startRaftCandidate(t, "a", lead, clk)
	waitRaft(t, a.e.Elected(), "a elected")
	b := startRaftCandidate(t, "b", fol, clk)
	if b.e.IsLeader() {
		t.Fatal("b leads while a holds the lease")
	}
	rp := reconcile.DefaultRetryPeriod
	// A few renewals with the cluster whole.
	for range 3 {
		ca, cb := a.e.Attempted(), b.e.Attempted()
		clk.Step(rp)
		waitRaft(t, ca, "a's renewal")
		waitRaft(t, cb, "b's attempt")
		if !a.e.IsLeader() || b.e.IsLeader() {
			t.Fatalf("at %s: a leads %v, b leads %v; want only a", clk.Now().Sub(epoch), a.e.IsLeader(), b.e.IsLeader())
		}
	}

	c.Net.Isolate(lead.ID())
	aLost, bWon := time.Duration(-1), time.Duration(-1)
	for i := 0; bWon < 0; i++ {
		if i > 100 {
			t.Fatalf("no failover after %d retry periods", i)
		}
		cb := b.e.Attempted()
		clk.Step(rp)
		now := clk.Now().Sub(epoch)
		if aLost < 0 && !a.e.IsLeader() {
			// Leadership is over by the clock; the elector must act on
			// it now, whatever its renewal on the cut-off member does.
			waitRaft(t, a.e.Lost(), "a to stop leading")
			waitRaft(t, a.done, "a's Run to return")
			if !errors.Is(a.err, reconcile.ErrLeaderLost) {
				t.Fatalf("a's Run = %v, want ErrLeaderLost", a.err)
			}
			aLost = now
		}
		waitRaft(t, cb, "b's attempt")
		if b.e.IsLeader() {
			if aLost < 0 || a.e.IsLeader() {
				t.Fatalf("at %s: b leads while a still does", now)
			}
			select {
			case <-a.e.Lost():
			default:
				t.Fatalf("at %s: b leads before a has stepped down", now)
			}
			bWon = now
		}
	}

	// The leases written tell the same story: a's leadership, proven by
	// its last renewal, ended before b acquired the lease.
	aRecs, bRecs := a.log.written(), b.log.written()
	if len(aRecs) == 0 || len(bRecs) == 0 {
		t.Fatalf("a wrote %d records, b %d; want both to have written", len(aRecs), len(bRecs))
	}
	aEnd := aRecs[len(aRecs)-1].RenewTime.Add(reconcile.DefaultRenewDeadline)
	bStart := bRecs[0].AcquireTime
	if bRecs[0].Holder != "b" || !bStart.After(aEnd) {
		t.Fatalf("b's first lease %+v starts at %s, before a's leadership ends at %s",
			bRecs[0], bStart.Sub(epoch), aEnd.Sub(epoch))
	}
	if aLost > aEnd.Sub(epoch) {
		t.Fatalf("a stepped down at %s, after its renew deadline %s", aLost, aEnd.Sub(epoch))
	}
	t.Logf("a renewed last at %s and stepped down at %s; b took over at %s",
		aRecs[len(aRecs)-1].RenewTime.Sub(epoch), aLost, bWon)
}
