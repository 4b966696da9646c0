package snap_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/governor-io/governor/raft/snap"
	"github.com/governor-io/governor/raft/wal/waltest"
)

// TestFailedSaveIsNotLoaded injects a failure into each step of a save,
// then crashes: the store must come back with the previous snapshot, and
// never with a half-written one.
func TestFailedSaveIsNotLoaded(t *testing.T) {
	for _, op := range []waltest.Op{waltest.OpOpen, waltest.OpWrite, waltest.OpSync, waltest.OpRename, waltest.OpSyncDir} {
		t.Run(string(op), func(t *testing.T) {
			fsys := waltest.NewMemFS()
			s, err := snap.New("/snap", snap.Options{FS: fsys})
			if err != nil {
				t.Fatal(err)
			}
			mustSave(t, s, 10, 1, "ten")
			fsys.SetFault(func(o waltest.Op, path string) error {
				if o == op {
					return waltest.ErrInjected
				}
				return nil
			})
			if _, err := s.Save(metadata(20, 2), strings.NewReader(strings.Repeat("twenty", 1000))); !errors.Is(err, waltest.ErrInjected) {
				t.Fatalf("Save = %v, want the injected error", err)
			}
			fsys.SetFault(nil)
			fsys.Crash()
			s, err = snap.New("/snap", snap.Options{FS: fsys})
			if err != nil {
				t.Fatal(err)
			}
			info, err := s.Load()
			if err != nil || info.Index != 10 {
				t.Fatalf("Load after a failed save and a crash = %+v, %v; want index 10", info, err)
			}
			if got := readAll(t, s, 10); got != "ten" {
				t.Fatalf("snapshot 10 = %q", got)
			}
			for _, p := range fsys.Paths("/snap") {
				if filepath.Ext(p) == ".tmp" {
					t.Errorf("temporary file left: %s", p)
				}
			}
		})
	}
}

// TestSavedSnapshotSurvivesCrash: once Save returns, a crash keeps it.
func TestSavedSnapshotSurvivesCrash(t *testing.T) {
	fsys := waltest.NewMemFS()
	s, err := snap.New("/snap", snap.Options{FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, 10, 1, "ten")
	mustSave(t, s, 20, 1, "twenty")
	if _, err := s.Purge(1); err != nil {
		t.Fatal(err)
	}
	fsys.Crash()
	s, err = snap.New("/snap", snap.Options{FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.List()
	if err != nil || len(list) != 1 || list[0].Index != 20 {
		t.Fatalf("List after crash = %+v, %v; want only 20", list, err)
	}
	if got := readAll(t, s, 20); got != "twenty" {
		t.Fatalf("snapshot 20 = %q", got)
	}
}
