package raft_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/rafttest"
	"github.com/governor-io/governor/store/kv"
)

// load writes keys through random members until stop is closed, and
// returns the number of acknowledged writes.
func load(ctx context.Context, c *rafttest.Cluster, stop <-chan struct{}) func() int64 {
	var acked atomic.Int64
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				for _, n := range c.Nodes() {
					octx, cancel := context.WithTimeout(ctx, time.Second)
					_, err := kv.Put(octx, n, fmt.Sprintf("/load/%d/%d", w, i), []byte("v"))
					cancel()
					if err == nil {
						acked.Add(1)
					}
					break
				}
			}
		}()
	}
	return func() int64 { wg.Wait(); return acked.Load() }
}

// converge writes through the leader, reads linearizably on every
// member, and compares their engines.
func converge(t *testing.T, ctx context.Context, c *rafttest.Cluster) {
	t.Helper()
	lead, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, lead, "/barrier", []byte("1")); err != nil {
		t.Fatal(err)
	}
	var want string
	for id, n := range c.Nodes() {
		if _, err := n.Range(ctx, kv.RangeRequest{Key: "/barrier"}); err != nil {
			t.Fatalf("member %d: %v", id, err)
		}
		got := engineDigest(t, n)
		if want == "" {
			want = got
		} else if got != want {
			t.Fatalf("member %d diverged", id)
		}
	}
}

func TestMembershipChangesUnderLoad(t *testing.T) {
	ctx := ctxFor(t, 2*time.Minute)
	c := rafttest.NewCluster(t, rafttest.Options{Configure: func(cfg *raft.Config) {
		cfg.SnapshotEntries = 100
		cfg.SnapshotCatchUpEntries = 20
	}})
	lead, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	wait := load(ctx, c, stop)

	// Add a learner, start it, promote it.
	if err := lead.AddMember(ctx, raft.Member{ID: 4, PeerAddr: "member-4", Learner: true}); err != nil {
		t.Fatal(err)
	}
	if err := lead.AddMember(ctx, raft.Member{ID: 4}); !errors.Is(err, raft.ErrMemberExists) {
		t.Fatalf("adding member 4 twice: %v", err)
	}
	if err := c.Join(4); err != nil {
		t.Fatal(err)
	}
	n4 := c.Node(4)
	if _, err := n4.Range(ctx, kv.RangeRequest{Key: "/x"}); err != nil {
		t.Fatalf("learner read: %v", err)
	}
	if err := lead.PromoteMember(ctx, 4); err != nil {
		t.Fatal(err)
	}
	// Hand leadership to the new voter, then remove the old leader.
	if lead, err = c.Leader(ctx); err != nil {
		t.Fatal(err)
	}
	if lead.ID() != 4 {
		if err := lead.TransferLeadership(ctx, 4); err != nil {
			t.Fatalf("transfer to 4: %v", err)
		}
	}
	if lead, err = c.Leader(ctx); err != nil {
		t.Fatal(err)
	}
	if lead.ID() != 4 {
		t.Fatalf("leader is %d after the transfer, want 4", lead.ID())
	}
	if err := lead.RemoveMember(ctx, 1); err != nil {
		t.Fatal(err)
	}
	c.Crash(1)
	if err := lead.RemoveMember(ctx, 1); !errors.Is(err, raft.ErrMemberNotFound) {
		t.Fatalf("removing member 1 twice: %v", err)
	}
	close(stop)
	if acked := wait(); acked == 0 {
		t.Fatal("no write was acknowledged during the changes")
	}
	converge(t, ctx, c)
	var ids []string
	for _, m := range lead.Members() {
		ids = append(ids, fmt.Sprint(m.ID))
	}
	if got := strings.Join(ids, ","); got != "2,3,4" {
		t.Fatalf("members = %s, want 2,3,4", got)
	}
}

// TestFollowerCatchesUpFromSnapshot cuts a follower off until the leader
// has compacted the entries it misses, so that it must be sent a
// snapshot, streamed.
func TestFollowerCatchesUpFromSnapshot(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	c := rafttest.NewCluster(t, rafttest.Options{Configure: func(cfg *raft.Config) {
		cfg.SnapshotEntries = 20
		cfg.SnapshotCatchUpEntries = 5
	}})
	lead, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var lagger uint64
	for id := range c.Nodes() {
		if id != lead.ID() {
			lagger = id
			break
		}
	}
	c.Net.Isolate(lagger)
	for i := range 200 {
		if _, err := kv.Put(ctx, lead, fmt.Sprintf("/snap/%03d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	c.Net.Heal()
	converge(t, ctx, c)
	if st := c.Node(lagger).Status(); st.SnapshotsReceived == 0 {
		t.Fatalf("the lagging member caught up without a snapshot: %+v", st)
	}
	// It restarts from the snapshot it received.
	c.Crash(lagger)
	if err := c.Restart(lagger); err != nil {
		t.Fatal(err)
	}
	converge(t, ctx, c)
}
