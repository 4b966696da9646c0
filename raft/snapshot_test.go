package raft_test

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/rafttest"
	"github.com/governor-io/governor/raft/wal"
	"github.com/governor-io/governor/store/kv"
)

// slowSnap makes a disk too slow for a member's snapshots: once armed,
// syncing a new snapshot file in one directory blocks until the test
// releases it.
type slowSnap struct {
	mu      sync.Mutex
	dir     string        // the armed snapshot directory, "" for none
	blocked chan struct{} // closed when a sync blocks
	release chan struct{}
	once    sync.Once
}

func newSlowSnap() *slowSnap {
	return &slowSnap{blocked: make(chan struct{}), release: make(chan struct{})}
}

func (s *slowSnap) arm(dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dir = dir
}

// slowSnapFS is a member's file system under a slowSnap.
type slowSnapFS struct {
	wal.FS
	s *slowSnap
}

func (f slowSnapFS) OpenFile(name string, flag int, perm fs.FileMode) (wal.File, error) {
	file, err := f.FS.OpenFile(name, flag, perm)
	f.s.mu.Lock()
	slow := f.s.dir != "" && path.Dir(name) == f.s.dir && strings.HasSuffix(name, ".tmp")
	f.s.mu.Unlock()
	if err != nil || !slow {
		return file, err
	}
	return &slowFile{File: file, s: f.s}, nil
}

type slowFile struct {
	wal.File
	s *slowSnap
}

func (f *slowFile) Sync() error {
	f.s.once.Do(func() { close(f.s.blocked) })
	<-f.s.release
	return f.File.Sync()
}

// TestSlowSnapshotKeepsLeadership checks that a leader whose snapshot
// takes long to write keeps taking ticks, heartbeating and serving writes
// meanwhile: it keeps its leadership and term through several election
// timeouts, and the snapshot completes once the disk lets it.
func TestSlowSnapshotKeepsLeadership(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	slow := newSlowSnap()
	var mu sync.Mutex
	snapDirs := map[uint64]string{}
	const electionTicks = 10
	c := rafttest.NewCluster(t, rafttest.Options{ManualTicks: true, ElectionTicks: electionTicks, Configure: func(cfg *raft.Config) {
		cfg.WAL.FS = slowSnapFS{FS: cfg.WAL.FS, s: slow}
		cfg.SnapshotEntries = 100
		cfg.SnapshotCatchUpEntries = 10
		mu.Lock()
		snapDirs[cfg.ID] = path.Join(cfg.Dir, "snap")
		mu.Unlock()
	}})
	// Released before the cluster closes (cleanups run last first).
	t.Cleanup(func() {
		select {
		case <-slow.release:
		default:
			close(slow.release)
		}
	})
	if err := c.Node(1).Campaign(ctx); err != nil {
		t.Fatal(err)
	}
	lead, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	slow.arm(snapDirs[lead.ID()])
	mu.Unlock()
	term := lead.Term()

	put := func(i int) {
		t.Helper()
		octx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := kv.Put(octx, lead, fmt.Sprintf("/slow/%04d", i), []byte("v")); err != nil {
			t.Fatalf("put %d with a snapshot being written: %v", i, err)
		}
	}
	i := 0
	for blocked := false; !blocked; i++ {
		put(i)
		select {
		case <-slow.blocked:
			blocked = true
		default:
		}
		if i > 1000 {
			t.Fatal("no snapshot after 1000 writes (SnapshotEntries 100)")
		}
	}
	// Three election timeouts pass while the snapshot is stuck: every
	// member takes each tick, and the leader serves a write after each.
	for tick := range 3 * electionTicks {
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.Tick()
		}()
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		select {
		case <-done:
		case <-tctx.Done():
			cancel()
			t.Fatalf("tick %d: a member stopped taking ticks while the leader wrote a snapshot", tick)
		}
		cancel()
		put(i)
		i++
	}
	if !lead.IsLeader() || lead.Term() != term {
		t.Fatalf("member %d lost leadership while writing a snapshot: leader %v, term %d (was %d)", lead.ID(), lead.IsLeader(), lead.Term(), term)
	}
	if st := lead.Status(); st.SnapshotIndex != 0 {
		t.Fatalf("snapshot at %d completed while its disk was blocked", st.SnapshotIndex)
	}
	close(slow.release)
	if err := lead.WaitSnapshot(ctx, 100); err != nil {
		t.Fatal(err)
	}
	put(i)
	if got := countKeys(t, lead, "/slow/"); got != int64(i+1) {
		t.Fatalf("%d keys, want %d", got, i+1)
	}
}
