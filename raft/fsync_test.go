package raft_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
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

// faultyDisk is a member's WAL file system whose fsyncs fail on demand.
type faultyDisk struct {
	*waltest.MemFS
	mu   sync.Mutex
	fail bool
}

func newFaultyDisk() *faultyDisk {
	d := &faultyDisk{MemFS: waltest.NewMemFS()}
	d.SetFault(func(op waltest.Op, _ string) error {
		d.mu.Lock()
		defer d.mu.Unlock()
		if op == waltest.OpSync && d.fail {
			return waltest.ErrInjected
		}
		return nil
	})
	return d
}

func (d *faultyDisk) failSyncs(fail bool) {
	d.mu.Lock()
	d.fail = fail
	d.mu.Unlock()
}

// checkStopped checks that n stopped because its WAL could not fsync, and
// that it now refuses reads and writes with that error.
func checkStopped(t *testing.T, ctx context.Context, n *raft.Node) {
	t.Helper()
	select {
	case <-n.Done():
	case <-ctx.Done():
		t.Fatal("the member did not stop after its fsync failed")
	}
	isFsync := func(err error) bool {
		return errors.Is(err, raft.ErrStopped) && errors.Is(err, wal.ErrFsyncFailed)
	}
	if err := n.Err(); !isFsync(err) {
		t.Fatalf("Err() = %v, want ErrStopped and wal.ErrFsyncFailed", err)
	}
	if _, err := kv.Put(ctx, n, "/after", []byte("x")); !isFsync(err) {
		t.Errorf("write after the failure: %v", err)
	}
	if _, err := n.Range(ctx, kv.RangeRequest{Key: "/k/0"}); !isFsync(err) {
		t.Errorf("linearizable read after the failure: %v", err)
	}
	if _, err := n.Range(raft.WithSerializable(ctx), kv.RangeRequest{Key: "/k/0"}); !isFsync(err) {
		t.Errorf("serializable read after the failure: %v", err)
	}
	if _, err := n.Watch(ctx, kv.WatchRequest{Key: "/k/0"}); !isFsync(err) {
		t.Errorf("watch after the failure: %v", err)
	}
}

// TestFsyncFailureStopsTheMember fails the WAL's fsync under a member of
// one: the write that needed it fails, the member stops and refuses
// everything, Close returns, and after a crash (the unsynced bytes gone)
// the member restarts with every acknowledged write and without the
// failed one.
func TestFsyncFailureStopsTheMember(t *testing.T) {
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
			WAL:            wal.Options{FS: disk, SegmentSize: 1 << 20},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.WaitLeader(ctx); err != nil {
			t.Fatal(err)
		}
		return n
	}
	n := open()
	const acked = 20
	for i := range acked {
		if _, err := kv.Put(ctx, n, fmt.Sprintf("/k/%d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}

	disk.failSyncs(true)
	// Several writes in flight: each fails, none waits for a timeout.
	errs := make(chan error, 4)
	for i := range cap(errs) {
		go func() {
			_, err := kv.Put(ctx, n, fmt.Sprintf("/lost/%d", i), []byte("v"))
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; !errors.Is(err, raft.ErrStopped) {
			t.Errorf("write during the failure: %v, want ErrStopped", err)
		}
	}
	checkStopped(t, ctx, n)
	if err := n.Close(); err != nil {
		t.Fatalf("Close after the failure: %v", err)
	}

	disk.Crash()
	disk.failSyncs(false)
	n = open()
	defer n.Close()
	resp, err := n.Range(ctx, kv.RangeRequest{Key: "/", End: "0"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range resp.KVs {
		got[e.Key] = true
	}
	for i := range acked {
		if k := fmt.Sprintf("/k/%d", i); !got[k] {
			t.Errorf("acknowledged %s lost in the restart", k)
		}
	}
	for k := range got {
		if filepath.Dir(k) == "/lost" {
			t.Errorf("%s, never synced, came back after the restart", k)
		}
	}
	if len(got) != acked {
		t.Errorf("restarted with %d keys, want %d", len(got), acked)
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
