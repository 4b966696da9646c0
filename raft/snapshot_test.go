package raft_test

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/rafttest"
	"github.com/governor-io/governor/raft/wal"
	"github.com/governor-io/governor/store/kv"
)

// slowSnapFS is the operating system's file system, except that once
// armed, syncing a new snapshot file in one directory blocks until the test
// releases it: a disk too slow for the member's snapshots.
type slowSnapFS struct {
	wal.OSFS
	mu      sync.Mutex
	dir     string        // the armed snapshot directory, "" for none
	blocked chan struct{} // closed when a sync blocks
	release chan struct{}
	once    sync.Once
}

func newSlowSnapFS() *slowSnapFS {
	return &slowSnapFS{blocked: make(chan struct{}), release: make(chan struct{})}
}

func (s *slowSnapFS) arm(dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dir = dir
}

func (s *slowSnapFS) OpenFile(name string, flag int, perm fs.FileMode) (wal.File, error) {
	f, err := s.OSFS.OpenFile(name, flag, perm)
	s.mu.Lock()
	slow := s.dir != "" && filepath.Dir(name) == s.dir && strings.HasSuffix(name, ".tmp")
	s.mu.Unlock()
	if err != nil || !slow {
		return f, err
	}
	return &slowFile{File: f, fs: s}, nil
}

type slowFile struct {
	wal.File
	fs *slowSnapFS
}

func (f *slowFile) Sync() error {
	f.fs.once.Do(func() { close(f.fs.blocked) })
	<-f.fs.release
	return f.File.Sync()
}

// TestSlowSnapshotKeepsLeadership checks that a leader whose snapshot
// takes long to write keeps ticking, heartbeating and serving writes
// meanwhile: it keeps its leadership and term through several election
// timeouts, and the snapshot completes once the disk lets it.
func TestSlowSnapshotKeepsLeadership(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	slow := newSlowSnapFS()
	var mu sync.Mutex
	snapDirs := map[uint64]string{}
	const electionTicks = 30
	c := rafttest.NewCluster(t, rafttest.Options{ElectionTicks: electionTicks, Configure: func(cfg *raft.Config) {
		cfg.WAL.FS = slow
		cfg.SnapshotEntries = 100
		cfg.SnapshotCatchUpEntries = 10
		mu.Lock()
		snapDirs[cfg.ID] = filepath.Join(cfg.Dir, "snap")
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
	// Several election timeouts of the cluster's clock pass while the
	// snapshot is stuck, and the leader serves writes all along.
	wait := c.Clock.NewTimer(3 * electionTicks * 10 * time.Millisecond)
	defer wait.Stop()
	for waited := false; !waited; i++ {
		put(i)
		select {
		case <-wait.C():
			waited = true
		default:
		}
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
