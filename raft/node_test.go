package raft

import (
	"context"
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
