package raft

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/kvtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openSingle(t *testing.T, dir string) *Node {
	t.Helper()
	n, err := Open(testCtx(t), Config{
		ID:             1,
		Dir:            dir,
		InitialCluster: []Member{{ID: 1, PeerAddr: "127.0.0.1:0"}},
		Clock:          clocktest.New(time.Unix(0, 0)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSingleMemberRestart(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	n := openSingle(t, dir)
	if _, err := n.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	var last int64
	for i := range 50 {
		rev, err := kv.Put(ctx, n, "/k", []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		last = rev
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = openSingle(t, dir)
	defer n.Close()
	got, rev, err := kv.Get(ctx, n, "/k")
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Value[0] != 49 || rev != last {
		t.Fatalf("after restart: %+v at %d, want value 49 at %d", got, rev, last)
	}
}

func TestConformanceSingle(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.KV {
		n := openSingle(t, t.TempDir())
		t.Cleanup(func() { n.Close() })
		return n
	})
}

// TestSnapshotCountsRequests checks that batched entries count each of
// their requests toward SnapshotEntries, and that a member restarts from
// such a snapshot and its shortened log with every key.
func TestSnapshotCountsRequests(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	open := func() *Node {
		n, err := Open(ctx, Config{
			ID: 1, Dir: dir,
			InitialCluster:         []Member{{ID: 1, PeerAddr: "127.0.0.1:0"}},
			Clock:                  clocktest.New(time.Unix(0, 0)),
			SnapshotEntries:        150,
			SnapshotCatchUpEntries: 20,
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n := open()
	if _, err := n.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	const keys = 400
	var wg sync.WaitGroup
	errs := make(chan error, keys)
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := g; k < keys; k += 32 {
				if _, err := kv.Put(ctx, n, fmt.Sprintf("/k/%03d", k), []byte("v")); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Snapshots are written off the loop: wait for the first.
	if err := n.WaitSnapshot(ctx, 1); err != nil {
		t.Fatalf("no snapshot after %d requests in %d entries (SnapshotEntries 150): %v", keys, n.Status().AppliedIndex, err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = open()
	defer n.Close()
	// A linearizable read: it waits until the member, leader again, has
	// re-applied the entries after the snapshot.
	resp, err := n.Range(ctx, kv.RangeRequest{Key: "/k/", End: kv.PrefixEnd("/k/"), CountOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Count != keys {
		t.Fatalf("after restart: %d keys, want %d", resp.Count, keys)
	}
}
