package waltest_test

import (
	"errors"
	"fmt"
	"log"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/governor-io/governor/raft/wal"
	"github.com/governor-io/governor/raft/wal/waltest"
)

func entry(index uint64) *raftpb.Entry {
	term, typ := uint64(1), raftpb.EntryNormal
	return &raftpb.Entry{Term: &term, Index: &index, Type: &typ}
}

// A disk whose fsync starts failing: the WAL refuses the Save and everything
// after it, and after a crash only what was acknowledged is on disk.
func Example() {
	fsys := waltest.NewMemFS()
	opts := wal.Options{FS: fsys, SegmentSize: 4096}
	w, err := wal.Create("/data/wal", nil, opts)
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Save(nil, []*raftpb.Entry{entry(1)}); err != nil {
		log.Fatal(err)
	}

	fsys.SetFault(func(op waltest.Op, path string) error {
		if op == waltest.OpSync {
			return waltest.ErrInjected
		}
		return nil
	})
	err = w.Save(nil, []*raftpb.Entry{entry(2)})
	fmt.Println("save 2 failed:", errors.Is(err, wal.ErrFsyncFailed))
	fsys.SetFault(nil)
	err = w.Save(nil, []*raftpb.Entry{entry(2)})
	fmt.Println("retry refused:", errors.Is(err, wal.ErrFsyncFailed))
	w.Close()

	fsys.Crash() // power loss: unsynced writes are gone
	w, err = wal.Open("/data/wal", opts)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	_, _, _, ents, err := w.ReadAll()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("entries after restart:", len(ents))
	// Output:
	// save 2 failed: true
	// retry refused: true
	// entries after restart: 1
}
