package wal_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/governor-io/governor/raft/wal"
)

func entry(term, index uint64, data string) *raftpb.Entry {
	t := raftpb.EntryNormal
	return &raftpb.Entry{Term: &term, Index: &index, Type: &t, Data: []byte(data)}
}

func hardState(term, vote, commit uint64) *raftpb.HardState {
	return &raftpb.HardState{Term: &term, Vote: &vote, Commit: &commit}
}

// Create a WAL, save a HardState and entries, reopen it as a restarting
// node would, and read everything back.
func Example() {
	dir, err := os.MkdirTemp("", "wal-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	walDir := filepath.Join(dir, "wal")

	w, err := wal.Create(walDir, []byte("node=1"), wal.Options{SegmentSize: 1 << 20})
	if err != nil {
		log.Fatal(err)
	}
	// One Save per raft Ready: durable when it returns.
	if err := w.Save(hardState(1, 1, 1), []*raftpb.Entry{entry(1, 1, "a"), entry(1, 2, "b")}); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	w, err = wal.Open(walDir, wal.Options{SegmentSize: 1 << 20})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	meta, hs, snap, ents, err := w.ReadAll()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("metadata %q, term %d, commit %d, snapshot %v\n", meta, hs.GetTerm(), hs.GetCommit(), snap)
	for _, e := range ents {
		fmt.Printf("entry %d (term %d): %s\n", e.GetIndex(), e.GetTerm(), e.GetData())
	}
	// Output:
	// metadata "node=1", term 1, commit 1, snapshot <nil>
	// entry 1 (term 1): a
	// entry 2 (term 1): b
}

// A new leader's entries replace a follower's conflicting tail, and a
// snapshot marker hides the entries it covers.
func ExampleWAL_SaveSnapshot() {
	dir, err := os.MkdirTemp("", "wal-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	w, err := wal.Create(dir, nil, wal.Options{SegmentSize: 1 << 20})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	must := func(err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	must(w.Save(hardState(1, 1, 2), []*raftpb.Entry{entry(1, 1, "x"), entry(1, 2, "y"), entry(1, 3, "old")}))
	// Term 2's leader never had entry 3 of term 1: it rewrites index 3.
	must(w.Save(hardState(2, 2, 2), []*raftpb.Entry{entry(2, 3, "new"), entry(2, 4, "z")}))
	// The state machine snapshotted at index 2.
	must(w.SaveSnapshot(wal.SnapshotMarker{Index: 2, Term: 1}))

	_, hs, snap, ents, err := w.ReadAll()
	must(err)
	fmt.Printf("term %d, snapshot at %d\n", hs.GetTerm(), snap.Index)
	for _, e := range ents {
		fmt.Printf("entry %d (term %d): %s\n", e.GetIndex(), e.GetTerm(), e.GetData())
	}
	// Output:
	// term 2, snapshot at 2
	// entry 3 (term 2): new
	// entry 4 (term 2): z
}
