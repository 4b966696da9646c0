package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/governor-io/governor/raft/rafttest"
	"github.com/governor-io/governor/store/kv"
)

// serveCluster starts a Server for every member of cl and returns their
// addresses by member ID.
func serveCluster(t *testing.T, cl *rafttest.Cluster) map[uint64]string {
	t.Helper()
	addrs := map[uint64]string{}
	for id, n := range cl.Nodes() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := NewServer(n, nil)
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		addrs[id] = ln.Addr().String()
	}
	return addrs
}

// TestIsolatedMemberCostsAboutAnElectionTimeout cuts the member a client
// is attached to off from its peers, on an in-process cluster, and checks
// that the client's reads and writes keep completing on the other members
// after an outage of about one election timeout: the calls in flight at
// the member wait one attempt timeout (a write among them fails, as its
// outcome is unknown), and once the member knows it has no leader it
// refuses calls at once.
func TestIsolatedMemberCostsAboutAnElectionTimeout(t *testing.T) {
	const (
		tick          = 10 * time.Millisecond
		electionTicks = 50
		election      = electionTicks * tick
	)
	// One tick of fake time per tick of real time, so that the cluster's
	// election timeout and the client's attempt timeout, both on the
	// cluster's clock, mean what they say on a busy machine.
	cl := rafttest.NewCluster(t, rafttest.Options{TickInterval: tick, TickEvery: tick, ElectionTicks: electionTicks})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	lead, err := cl.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fol := cl.Follower(lead)
	addrs := serveCluster(t, cl)
	endpoints := []string{addrs[fol.ID()]} // attached to the follower
	for id, a := range addrs {
		if id != fol.ID() {
			endpoints = append(endpoints, a)
		}
	}
	c, err := New(Config{Endpoints: endpoints, AttemptTimeout: election, Clock: cl.Clock, Rand: seeded()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rev, err := kv.Put(ctx, c, "/k", []byte("0"))
	if err != nil {
		t.Fatal(err)
	}
	// A watch served by the member that will be cut off.
	w, err := c.Watch(ctx, kv.WatchRequest{Key: "/k", StartRevision: rev})
	if err != nil {
		t.Fatal(err)
	}

	cl.Net.Isolate(fol.ID())
	defer cl.Net.Heal()
	cut := cl.Clock.Now()
	var outage time.Duration // from the cut to the first call that completed
	unknown := 0
	for i := 1; i <= 20; i++ {
		start := cl.Clock.Now()
		_, err := kv.Put(ctx, c, "/k", fmt.Appendf(nil, "%d", i))
		switch {
		case errors.Is(err, ErrAttemptTimeout):
			unknown++ // in flight at the cut member: its outcome is unknown
		case err != nil:
			t.Fatalf("put %d: %v", i, err)
		case outage == 0:
			outage = cl.Clock.Since(cut)
		}
		if took := cl.Clock.Since(start); took > 2*election {
			t.Errorf("put %d took %v, over two election timeouts (%v)", i, took, 2*election)
		}
		start = cl.Clock.Now()
		if _, _, err := kv.Get(ctx, c, "/k"); err != nil {
			t.Fatalf("get %d: %v", i, err)
		}
		if outage == 0 {
			outage = cl.Clock.Since(cut)
		}
		if took := cl.Clock.Since(start); took > 2*election {
			t.Errorf("get %d took %v, over two election timeouts (%v)", i, took, 2*election)
		}
	}
	if unknown > 1 {
		t.Errorf("%d writes of unknown outcome, want at most the one in flight at the cut", unknown)
	}
	t.Logf("election timeout %v: outage %v after the cut, %d write(s) of unknown outcome", election, outage, unknown)
	if outage > 2*election {
		t.Errorf("outage %v, over two election timeouts (%v)", outage, 2*election)
	}
	// The watch left the cut member when it lost its leader, and resumed
	// on another with no gap: it delivers every write, the last included.
	last := rev - 1
	for seen := ""; seen != "20"; {
		r := wait(t, ctx, w, "the watch to deliver the last write")
		if r.Err != nil {
			t.Fatalf("watch: %v", r.Err)
		}
		for _, ev := range r.Events {
			if ev.KV.ModRevision <= last {
				t.Fatalf("watch: event at %d after one at %d", ev.KV.ModRevision, last)
			}
			last, seen = ev.KV.ModRevision, string(ev.KV.Value)
		}
	}

	// Once the cut member knows it has no leader, a client without any
	// attempt timeout leaves it at once: it refuses rather than holds.
	for fol.Leader() != 0 {
		wait(t, ctx, fol.LeaderChanged(), "the cut member to lose its leader")
	}
	c2, err := New(Config{Endpoints: endpoints, AttemptTimeout: -1, Clock: cl.Clock, Rand: seeded()})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
	defer ccancel()
	if _, err := kv.Put(cctx, c2, "/k", []byte("last")); err != nil {
		t.Fatalf("put through a client attached to the cut member: %v", err)
	}
	if v, _, err := kv.Get(cctx, c2, "/k"); err != nil || v == nil || string(v.Value) != "last" {
		t.Fatalf("get through a client attached to the cut member: %v, %v", v, err)
	}
	if _, err := fol.Range(cctx, kv.RangeRequest{Key: "/k", Serializable: true}); err != nil {
		t.Fatalf("the cut member's own serializable read: %v", err)
	}
}
