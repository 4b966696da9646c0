package rafttest

import (
	"context"
	"io/fs"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/wal"
	"github.com/governor-io/governor/raft/wal/waltest"
	"github.com/governor-io/governor/store/kv"
)

// holdingFS is a MemFS whose WAL syncs, once armed, wait until released:
// a member caught between writing an entry and making it durable.
type holdingFS struct {
	*waltest.MemFS
	mu      sync.Mutex
	armed   bool
	entered chan struct{} // closed when a held sync starts
	release chan struct{}
}

func (h *holdingFS) OpenFile(name string, flag int, perm fs.FileMode) (wal.File, error) {
	f, err := h.MemFS.OpenFile(name, flag, perm)
	if err != nil || !strings.Contains(name, "/wal/") {
		return f, err
	}
	return holdingFile{f, h}, nil
}

type holdingFile struct {
	wal.File
	h *holdingFS
}

func (f holdingFile) Sync() error {
	f.h.mu.Lock()
	held := f.h.armed
	f.h.armed = false
	f.h.mu.Unlock()
	if held {
		close(f.h.entered)
		<-f.h.release
	}
	return f.File.Sync()
}

// TestCrashLosesWhatWasNotSynced crashes a member while it waits for the
// fsync of an entry it has written: the entry is gone when it restarts,
// and Crash does not wait for the stuck write.
func TestCrashLosesWhatWasNotSynced(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	disk := &holdingFS{MemFS: waltest.NewMemFS(), entered: make(chan struct{}), release: make(chan struct{})}
	released := false
	release := func() {
		if !released {
			released = true
			close(disk.release)
		}
	}
	defer release()
	c := NewCluster(t, Options{Members: 1, Configure: func(cfg *raft.Config) { cfg.WAL.FS = disk }})
	n, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, n, "/synced", []byte("1")); err != nil {
		t.Fatal(err)
	}
	disk.mu.Lock()
	disk.armed = true
	disk.mu.Unlock()
	putErr := make(chan error, 1)
	go func() {
		_, err := kv.Put(ctx, n, "/unsynced", []byte("1"))
		putErr <- err
	}()
	select {
	case <-disk.entered:
	case <-ctx.Done():
		t.Fatal("the write never reached its fsync")
	}
	crashed := make(chan struct{})
	go func() {
		c.Crash(1)
		close(crashed)
	}()
	select {
	case <-crashed:
	case <-ctx.Done():
		t.Fatal("Crash waited for the member's stuck fsync")
	}
	release()
	if err := <-putErr; err == nil {
		t.Fatal("a write whose fsync the crash interrupted was acknowledged")
	}
	if err := c.Restart(1); err != nil {
		t.Fatal(err)
	}
	n, err = c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]bool{"/synced": true, "/unsynced": false} {
		got, _, err := kv.Get(ctx, n, key)
		if err != nil {
			t.Fatal(err)
		}
		if (got != nil) != want {
			t.Errorf("after the crash %s present = %v, want %v", key, got != nil, want)
		}
	}
}

// TestManualTicks checks that a cluster with ManualTicks moves only when
// the test ticks it: no member campaigns before its election timeout has
// passed in ticks, and a leader emerges once the test ticks on.
func TestManualTicks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := NewCluster(t, Options{ManualTicks: true, ElectionTicks: 10})
	for range 9 {
		c.Tick()
	}
	for id, n := range c.Nodes() {
		if n.Term() != 1 || n.Leader() != 0 {
			t.Fatalf("member %d: term %d, leader %d before any election timeout", id, n.Term(), n.Leader())
		}
	}
	var lead *raft.Node
	for i := 0; lead == nil; i++ {
		if i == 1000 {
			t.Fatal("no leader after 1000 ticks")
		}
		c.Tick()
		for _, n := range c.Nodes() {
			if n.IsLeader() {
				lead = n
			}
		}
	}
	if _, err := kv.Put(ctx, lead, "/k", []byte("v")); err != nil {
		t.Fatal(err)
	}
}

// TestCrashTornRestarts crashes a member in the middle of the fsync of an
// entry, keeping a seeded part of what it had written: it restarts from
// whatever prefix survived, with every acknowledged write.
func TestCrashTornRestarts(t *testing.T) {
	kept := map[bool]int{}
	for seed := range uint64(6) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		disk := &holdingFS{MemFS: waltest.NewMemFS(), entered: make(chan struct{}), release: make(chan struct{})}
		c := NewCluster(t, Options{Members: 1, Configure: func(cfg *raft.Config) { cfg.WAL.FS = disk }})
		n, err := c.Leader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(ctx, n, "/synced", []byte("1")); err != nil {
			t.Fatal(err)
		}
		disk.mu.Lock()
		disk.armed = true
		disk.mu.Unlock()
		putErr := make(chan error, 1)
		go func() {
			_, err := kv.Put(ctx, n, "/unsynced", []byte("1"))
			putErr <- err
		}()
		<-disk.entered
		c.CrashTorn(1, rand.New(rand.NewPCG(seed, 1)))
		close(disk.release)
		<-putErr
		if err := c.Restart(1); err != nil {
			t.Fatalf("seed %d: restart after a torn crash: %v", seed, err)
		}
		if n, err = c.Leader(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _, err := kv.Get(ctx, n, "/synced"); err != nil || got == nil {
			t.Fatalf("seed %d: acknowledged write after a torn crash: %v, %v", seed, got, err)
		}
		got, _, err := kv.Get(ctx, n, "/unsynced")
		if err != nil {
			t.Fatal(err)
		}
		kept[got != nil]++
		c.Close()
		cancel()
	}
	t.Logf("the unsynced write survived %d torn crashes of %d", kept[true], kept[true]+kept[false])
}
