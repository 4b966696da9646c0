package diskfs_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/governor-io/governor/raft/diskfs"
)

func TestOSFSLockIsExclusive(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("no flock here: Lock is a no-op")
	}
	var fsys diskfs.OSFS
	path := filepath.Join(t.TempDir(), "LOCK")
	l, err := fsys.Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Lock(path); !errors.Is(err, diskfs.ErrLocked) {
		t.Fatalf("second Lock = %v, want ErrLocked", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = fsys.Lock(path)
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	l.Close()
}

func TestOSFSFile(t *testing.T) {
	var fsys diskfs.OSFS
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := fsys.OpenFile(filepath.Join(dir, "f.tmp"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Allocate(4096); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("hello"), 10); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil || fi.Size() != 4096 {
		t.Fatalf("Stat after Allocate(4096) = %v, %v", fi, err)
	}
	buf := make([]byte, 15)
	if _, err := f.ReadAt(buf, 0); err != nil || string(buf[10:]) != "hello" || buf[0] != 0 {
		t.Fatalf("ReadAt = %q, %v; want zeros then hello", buf, err)
	}
	if err := f.Truncate(15); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fsys.Rename(filepath.Join(dir, "f.tmp"), filepath.Join(dir, "f")); err != nil {
		t.Fatal(err)
	}
	if err := fsys.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	ents, err := fsys.ReadDir(dir)
	if err != nil || len(ents) != 1 || ents[0].Name() != "f" {
		t.Fatalf("ReadDir = %v, %v", ents, err)
	}
	if err := fsys.Remove(filepath.Join(dir, "f")); err != nil {
		t.Fatal(err)
	}
	if err := fsys.SyncDir(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("SyncDir of a missing directory succeeded")
	}
}
