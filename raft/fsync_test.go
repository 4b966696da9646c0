package raft_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/rafttest"
	"github.com/governor-io/governor/raft/wal"
	"github.com/governor-io/governor/raft/wal/waltest"
	"github.com/governor-io/governor/store/kv"
)

// faultyDisk is a member's WAL file system whose fsyncs (or another
// operation) fail on demand.
type faultyDisk struct {
	*waltest.MemFS
	mu   sync.Mutex
	fail waltest.Op // the operation that fails; "" for none
}

func newFaultyDisk() *faultyDisk {
	d := &faultyDisk{MemFS: waltest.NewMemFS()}
	d.SetFault(func(op waltest.Op, _ string) error {
		d.mu.Lock()
		defer d.mu.Unlock()
		if op == d.fail {
			return waltest.ErrInjected
		}
		return nil
	})
	return d
}

func (d *faultyDisk) failSyncs(fail bool) {
	if fail {
		d.failOp(waltest.OpSync)
	} else {
		d.failOp("")
	}
}

func (d *faultyDisk) failOp(op waltest.Op) {
	d.mu.Lock()
	d.fail = op
	d.mu.Unlock()
}

// checkStopped checks that n stopped because its WAL could not fsync, and
// that it now refuses reads and writes with that error.
func checkStopped(t *testing.T, ctx context.Context, n *raft.Node) {
	t.Helper()
	checkStoppedBy(t, ctx, n, wal.ErrFsyncFailed)
}

// checkStoppedBy checks that n stopped because of a WAL error matching
// cause, and that it now refuses reads and writes with that error.
func checkStoppedBy(t *testing.T, ctx context.Context, n *raft.Node, cause error) {
	t.Helper()
	select {
	case <-n.Done():
	case <-ctx.Done():
		t.Fatal("the member did not stop after its WAL failed")
	}
	isFsync := func(err error) bool {
		return errors.Is(err, raft.ErrStopped) && errors.Is(err, cause)
	}
	if err := n.Err(); !isFsync(err) {
		t.Fatalf("Err() = %v, want ErrStopped and %v", err, cause)
	}
	if _, err := kv.Put(ctx, n, "/after", []byte("x")); !isFsync(err) {
		t.Errorf("write after the failure: %v", err)
	}
	if _, err := n.Range(ctx, kv.RangeRequest{Key: "/k/0"}); !isFsync(err) {
		t.Errorf("linearizable read after the failure: %v", err)
	}
	if _, err := n.Range(ctx, kv.RangeRequest{Key: "/k/0", Serializable: true}); !isFsync(err) {
		t.Errorf("serializable read after the failure: %v", err)
	}
	if _, err := n.Watch(ctx, kv.WatchRequest{Key: "/k/0"}); !isFsync(err) {
		t.Errorf("watch after the failure: %v", err)
	}
}

// TestFsyncFailureStopsTheMember fails the WAL under a member of one: its
// fsync, a write, or the directory sync that makes a new segment durable.
// The writes that needed it fail, the member stops and refuses
// everything, Close returns, and after a crash (the unsynced bytes gone)
// the member restarts with every acknowledged write and none of the
// failed ones.
func TestFsyncFailureStopsTheMember(t *testing.T) {
	tests := []struct {
		name  string
		op    waltest.Op
		cause error
	}{
		{"fsync", waltest.OpSync, wal.ErrFsyncFailed},
		{"write", waltest.OpWrite, wal.ErrWriteFailed},
		// Values of 16 KiB fill a 64 KiB segment in a few writes.
		{"directory sync of a new segment", waltest.OpSyncDir, wal.ErrFsyncFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			testWALFailureStopsTheMember(t, tc.op, tc.cause)
		})
	}
}

func testWALFailureStopsTheMember(t *testing.T, op waltest.Op, cause error) {
	ctx := ctxFor(t, time.Minute)
	disk := newFaultyDisk()
	dir := t.TempDir()
	net := rafttest.NewNetwork(1)
	open := func() *raft.Node {
		t.Helper()
		n, err := raft.Open(ctx, raft.Config{
			ID:             1,
			Dir:            dir,
			InitialCluster: []raft.Member{{ID: 1, PeerAddr: "member-1"}},
			Transport:      net.Transport(1),
			Clock:          clocktest.New(time.Unix(1, 0)),
			WAL:            wal.Options{FS: disk, SegmentSize: 64 << 10},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.WaitLeader(ctx); err != nil {
			t.Fatal(err)
		}
		return n
	}
	value := make([]byte, 16<<10)
	n := open()
	acked := map[string]bool{}
	for i := range 6 {
		k := fmt.Sprintf("/k/%d", i)
		if _, err := kv.Put(ctx, n, k, value); err != nil {
			t.Fatal(err)
		}
		acked[k] = true
	}

	disk.failOp(op)
	// Writes in flight until the WAL fails (at once, or at the next new
	// segment): each write then fails, and none waits for a timeout.
	failed := map[string]bool{}
	for i := 0; len(failed) == 0; i++ {
		if i == 100 {
			t.Fatal("100 writes and the WAL has not failed")
		}
		errs := make(chan error, 4)
		for j := range cap(errs) {
			go func() {
				_, err := kv.Put(ctx, n, fmt.Sprintf("/lost/%d.%d", i, j), value)
				errs <- err
			}()
		}
		for j := range cap(errs) {
			k := fmt.Sprintf("/lost/%d.%d", i, j)
			switch err := <-errs; {
			case err == nil && op == waltest.OpSyncDir:
				// Appended to the old segment before the failure; a later
				// write needs the new segment.
				acked[k] = true
			case !errors.Is(err, raft.ErrStopped) || !errors.Is(err, cause):
				t.Errorf("write during the failure: %v, want ErrStopped and %v", err, cause)
				failed[k] = true
			default:
				failed[k] = true
			}
		}
	}
	checkStoppedBy(t, ctx, n, cause)
	if err := n.Close(); err != nil {
		t.Fatalf("Close after the failure: %v", err)
	}

	disk.Crash()
	disk.failOp("")
	n = open()
	defer n.Close()
	resp, err := n.Range(ctx, kv.RangeRequest{Key: "/", End: "0", KeysOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range resp.KVs {
		got[e.Key] = true
	}
	for k := range acked {
		if !got[k] {
			t.Errorf("acknowledged %s lost in the restart", k)
		}
	}
	for k := range got {
		switch {
		case acked[k]:
		case !failed[k]:
			t.Errorf("%s, never written, after the restart", k)
		case op != waltest.OpSyncDir:
			// Nothing was synced once the fault was on.
			t.Errorf("%s, never synced, came back after the restart", k)
		}
		// With the directory sync failing, a failed write may have been
		// synced to the old segment before the failure: its outcome was
		// unknown.
	}
}

// TestFsyncFailureInACluster fails the fsync of one member of three, the
// leader or a follower: that member stops while the others go on taking
// writes, and once it restarts (after a crash loses what it had not
// synced) it catches up with them.
func TestFsyncFailureInACluster(t *testing.T) {
	for _, role := range []string{"follower", "leader"} {
		t.Run(role, func(t *testing.T) {
			ctx := ctxFor(t, time.Minute)
			var mu sync.Mutex
			disks := map[uint64]*faultyDisk{}
			c := rafttest.NewCluster(t, rafttest.Options{Configure: func(cfg *raft.Config) {
				mu.Lock()
				defer mu.Unlock()
				if disks[cfg.ID] == nil {
					disks[cfg.ID] = newFaultyDisk()
				}
				cfg.WAL.FS = disks[cfg.ID]
			}})
			lead, err := c.Leader(ctx)
			if err != nil {
				t.Fatal(err)
			}
			victim := lead
			if role == "follower" {
				victim = follower(t, c)
			}
			for i := range 10 {
				if _, err := kv.Put(ctx, lead, fmt.Sprintf("/k/%d", i), []byte("v")); err != nil {
					t.Fatal(err)
				}
			}
			mu.Lock()
			disk := disks[victim.ID()]
			mu.Unlock()
			disk.failSyncs(true)
			// The write that makes the victim sync: through the leader,
			// which fails it if the leader is the victim (its outcome is
			// then unknown: the followers may have it).
			_, err = kv.Put(ctx, lead, "/k/trigger", []byte("v"))
			if role == "leader" && !errors.Is(err, raft.ErrStopped) {
				t.Fatalf("write on a leader whose fsync fails: %v, want ErrStopped", err)
			}
			if role == "follower" && err != nil {
				t.Fatalf("write with a follower whose fsync fails: %v", err)
			}
			checkStopped(t, ctx, victim)

			// The other two go on.
			lead, err = c.Leader(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i := 10; i < 20; i++ {
				if _, err := kv.Put(ctx, lead, fmt.Sprintf("/k/%d", i), []byte("v")); err != nil {
					t.Fatalf("write without the stopped member: %v", err)
				}
			}
			c.Crash(victim.ID())
			disk.Crash()
			disk.failSyncs(false)
			if err := c.Restart(victim.ID()); err != nil {
				t.Fatal(err)
			}
			converge(t, ctx, c)
			resp, err := c.Node(victim.ID()).Range(ctx, kv.RangeRequest{Key: "/k/", End: "/k0", CountOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Count < 20 {
				t.Fatalf("the restarted member holds %d of the 20 acknowledged keys", resp.Count)
			}
		})
	}
}
