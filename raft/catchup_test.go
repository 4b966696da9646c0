package raft_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/rafttest"
	"github.com/governor-io/governor/store/kv"
)

// TestMemberAddedAfterTheSnapshotCatchesUp adds a member once the log
// behind the latest snapshot is gone: the snapshot the leader has predates
// the new member, whose Raft refuses a snapshot that does not list it, so
// the leader must take a newer one rather than send that one forever.
func TestMemberAddedAfterTheSnapshotCatchesUp(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	c := rafttest.NewCluster(t, rafttest.Options{Configure: func(cfg *raft.Config) {
		cfg.SnapshotEntries = 16
		cfg.SnapshotCatchUpEntries = 4
		cfg.RequestTimeout = 2 * time.Second
	}})
	lead, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if _, err := kv.Put(ctx, lead, fmt.Sprintf("/k/%d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if err := lead.AddMember(ctx, raft.Member{ID: 4, PeerAddr: "member-4", Learner: true}); err != nil {
		t.Fatal(err)
	}
	if err := c.Join(4); err != nil {
		t.Fatal(err)
	}
	// No write follows, so no snapshot would come by itself.
	resp, err := c.Node(4).Range(ctx, kv.RangeRequest{Key: "/k/", End: "/k0", CountOnly: true})
	if err != nil {
		t.Fatalf("read on the new member: %v (status %+v)", err, c.Node(4).Status())
	}
	if resp.Count != 40 {
		t.Fatalf("the new member holds %d of 40 keys", resp.Count)
	}
}
