package raft_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/rafttest"
	"github.com/governor-io/governor/store/kv"
)

// noSnapshots configures members that never snapshot on their own, and
// keep at most retain bytes of applied entries in memory.
func noSnapshots(retain int) func(*raft.Config) {
	return func(cfg *raft.Config) {
		cfg.SnapshotEntries = 1 << 40
		cfg.LogRetainBytes = retain
	}
}

func putKeys(t *testing.T, n kv.KV, prefix string, keys int) {
	t.Helper()
	ctx := ctxFor(t, time.Minute)
	val := make([]byte, 256)
	for i := range keys {
		if _, err := kv.Put(ctx, n, fmt.Sprintf("%s%04d", prefix, i), val); err != nil {
			t.Fatal(err)
		}
	}
}

func countKeys(t *testing.T, n kv.KV, prefix string) int64 {
	t.Helper()
	resp, err := n.Range(ctxFor(t, time.Minute), kv.RangeRequest{Key: prefix, End: kv.PrefixEnd(prefix), CountOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Count
}

// TestLogTrimmedAfterApply checks that a member drops applied entries
// from its in-memory log beyond LogRetainBytes without waiting for a
// snapshot, and that it loses nothing: the WAL still holds them, so it
// restarts with every key.
func TestLogTrimmedAfterApply(t *testing.T) {
	c := rafttest.NewCluster(t, rafttest.Options{Members: 1, Configure: noSnapshots(4096)})
	ctx := ctxFor(t, time.Minute)
	lead, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const keys = 500
	putKeys(t, lead, "/trim/", keys)
	st := lead.Status()
	if st.SnapshotIndex != 0 {
		t.Fatalf("snapshot at %d; the test wants none", st.SnapshotIndex)
	}
	// 4096 bytes hold a dozen entries of one 256-byte put; trimming
	// waits for at least 64 entries.
	if st.LogEntries > 100 {
		t.Fatalf("in-memory log holds %d entries after %d applied, want at most 100", st.LogEntries, st.AppliedIndex)
	}
	c.Crash(1)
	if err := c.Restart(1); err != nil {
		t.Fatal(err)
	}
	if got := countKeys(t, c.Node(1), "/trim/"); got != keys {
		t.Fatalf("after restart: %d keys, want %d", got, keys)
	}
}

// TestSlowFollowerCatchesUpFromLeaderLog checks that the leader keeps the
// entries a follower lacks, however little it retains otherwise: a
// follower cut off for a while catches up from the log, not a snapshot.
func TestSlowFollowerCatchesUpFromLeaderLog(t *testing.T) {
	c := rafttest.NewCluster(t, rafttest.Options{Configure: noSnapshots(-1)})
	ctx := ctxFor(t, time.Minute)
	lead, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lagger := c.Follower(lead).ID()
	c.Net.Isolate(lagger)
	putKeys(t, lead, "/slow/", 300)
	if st := lead.Status(); st.LogEntries < 300 {
		t.Fatalf("leader holds %d entries while a follower lacks 300", st.LogEntries)
	}
	c.Net.Heal()
	converge(t, ctx, c)
	if st := c.Node(lagger).Status(); st.SnapshotsReceived != 0 {
		t.Fatalf("the slow follower needed a snapshot: %+v", st)
	}
}

// TestNewMemberGetsSnapshotTakenOnDemand checks that a member joining
// after the log was trimmed past every snapshot (here, there is none) is
// sent one taken for it, and ends with every key.
func TestNewMemberGetsSnapshotTakenOnDemand(t *testing.T) {
	c := rafttest.NewCluster(t, rafttest.Options{Members: 1, Configure: noSnapshots(-1)})
	ctx := ctxFor(t, time.Minute)
	lead, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const keys = 300
	putKeys(t, lead, "/join/", keys)
	if st := lead.Status(); st.SnapshotIndex != 0 || st.LogEntries > 100 {
		t.Fatalf("before the join: %+v, want no snapshot and a trimmed log", st)
	}
	if err := lead.AddMember(ctx, raft.Member{ID: 2, PeerAddr: "member-2", Learner: true}); err != nil {
		t.Fatal(err)
	}
	if err := c.Join(2); err != nil {
		t.Fatal(err)
	}
	if got := countKeys(t, c.Node(2), "/join/"); got != keys {
		t.Fatalf("new member has %d keys, want %d", got, keys)
	}
	if st := c.Node(2).Status(); st.SnapshotsReceived == 0 {
		t.Fatalf("the new member caught up without a snapshot: %+v", st)
	}
	if st := lead.Status(); st.SnapshotIndex == 0 {
		t.Fatalf("the leader took no snapshot for the new member: %+v", st)
	}
}
