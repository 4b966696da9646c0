package raft_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/rafttest"
	"github.com/governor-io/governor/store/kv"
)

// TestSnapshotsOnTheWALFileSystem checks that a member writes its
// snapshots through the file system its WAL uses (Config.WAL.FS), so that
// a crash of that file system takes both.
func TestSnapshotsOnTheWALFileSystem(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	c := rafttest.NewCluster(t, rafttest.Options{Members: 1, Configure: func(cfg *raft.Config) {
		cfg.SnapshotEntries = 8
		cfg.SnapshotCatchUpEntries = 4
	}})
	n, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if _, err := kv.Put(ctx, n, fmt.Sprintf("/k/%d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.WaitSnapshot(ctx, 1); err != nil {
		t.Fatal(err)
	}
	var snaps []string
	for _, p := range c.FS(1).Paths(c.Dir(1)) {
		if strings.HasSuffix(p, ".snap") {
			snaps = append(snaps, p)
		}
	}
	if len(snaps) == 0 {
		t.Fatalf("no snapshot on the member's file system; it holds %v", c.FS(1).Paths(c.Dir(1)))
	}
}
