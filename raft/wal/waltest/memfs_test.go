package waltest_test

import (
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/governor-io/governor/raft/wal"
	"github.com/governor-io/governor/raft/wal/waltest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func write(t *testing.T, m *waltest.MemFS, name string, data string, off int64) wal.File {
	t.Helper()
	f, err := m.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(data), off); err != nil {
		t.Fatal(err)
	}
	return f
}

func read(t *testing.T, m *waltest.MemFS, name string) string {
	t.Helper()
	b, err := m.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCrashKeepsOnlySyncedState(t *testing.T) {
	m := waltest.NewMemFS()
	if err := m.MkdirAll("/d", 0o750); err != nil {
		t.Fatal(err)
	}
	a := write(t, m, "/d/a", "synced", 0)
	if err := a.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := m.SyncDir("/d"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.WriteAt([]byte("-lost"), 6); err != nil {
		t.Fatal(err)
	}
	if err := a.Allocate(16); err != nil {
		t.Fatal(err)
	}
	b := write(t, m, "/d/b", "file never in a synced directory", 0)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := m.Rename("/d/a", "/d/c"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, m, "/d/c"); got != "synced-lost\x00\x00\x00\x00\x00" {
		t.Fatalf("before crash /d/c = %q", got)
	}
	m.Crash()
	if diff := cmp.Diff([]string{"/d/a"}, m.Paths("/d")); diff != "" {
		t.Fatalf("files after crash (-want +got):\n%s", diff)
	}
	if got := read(t, m, "/d/a"); got != "synced" {
		t.Fatalf("after crash /d/a = %q, want the synced contents", got)
	}
}

func TestFilesBehaveLikeOSFiles(t *testing.T) {
	m := waltest.NewMemFS()
	if _, err := m.OpenFile("/missing/f", os.O_CREATE|os.O_RDWR, 0o600); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("create in a missing directory = %v", err)
	}
	f := write(t, m, "/f", "hello", 0)
	if _, err := m.OpenFile("/f", os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("O_EXCL on an existing file = %v", err)
	}
	if err := f.Truncate(2); err != nil {
		t.Fatal(err)
	}
	if err := f.Allocate(4); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	n, err := f.ReadAt(buf, 0)
	if n != 4 || err != io.EOF || string(buf[:n]) != "he\x00\x00" {
		t.Fatalf("ReadAt = %d %v %q", n, err, buf[:n])
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != 4 {
		t.Fatalf("Stat = %v, %v", fi, err)
	}
	ro, err := m.OpenFile("/f", os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.WriteAt([]byte("x"), 0); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("write to a read-only file = %v", err)
	}
	f.Close()
	if err := f.Sync(); err == nil {
		t.Fatal("Sync on a closed file succeeded")
	}
	l, err := m.Lock("/LOCK")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Lock("/LOCK"); !errors.Is(err, wal.ErrLocked) {
		t.Fatalf("second Lock = %v, want ErrLocked", err)
	}
	l.Close()
	if l2, err := m.Lock("/LOCK"); err != nil {
		t.Fatalf("Lock after release: %v", err)
	} else {
		l2.Close()
	}
}

func TestFaultFailsTheOperation(t *testing.T) {
	m := waltest.NewMemFS()
	f := write(t, m, "/f", "data", 0)
	m.SetFault(func(op waltest.Op, path string) error {
		if op == waltest.OpWrite && path == "/f" {
			return waltest.ErrInjected
		}
		return nil
	})
	if _, err := f.WriteAt([]byte("more"), 4); !errors.Is(err, waltest.ErrInjected) {
		t.Fatalf("WriteAt = %v, want the injected error", err)
	}
	if got := read(t, m, "/f"); got != "data" {
		t.Fatalf("a failed write changed the file: %q", got)
	}
}

// A process that goes on running after its crash must not touch what
// survived: its open files are dead.
func TestCrashKillsOpenFiles(t *testing.T) {
	m := waltest.NewMemFS()
	if err := m.MkdirAll("/d", 0o750); err != nil {
		t.Fatal(err)
	}
	f := write(t, m, "/d/a", "kept", 0)
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := m.SyncDir("/d"); err != nil {
		t.Fatal(err)
	}
	m.Crash()
	if _, err := f.WriteAt([]byte("late"), 4); !errors.Is(err, waltest.ErrCrashed) {
		t.Fatalf("write after crash: %v, want ErrCrashed", err)
	}
	if err := f.Sync(); !errors.Is(err, waltest.ErrCrashed) {
		t.Fatalf("sync after crash: %v, want ErrCrashed", err)
	}
	if err := f.Close(); !errors.Is(err, waltest.ErrCrashed) {
		t.Fatalf("close after crash: %v, want ErrCrashed", err)
	}
	if got := read(t, m, "/d/a"); got != "kept" {
		t.Fatalf("after crash and late write: %q, want %q", got, "kept")
	}
	g := write(t, m, "/d/a", "new", 4)
	if err := g.Close(); err != nil {
		t.Fatalf("a file opened after the crash: %v", err)
	}
}

// CrashTorn keeps a prefix, chosen by its random source, of an unsynced
// append, and nothing of an unsynced overwrite.
func TestCrashTornKeepsAPrefixOfAnAppend(t *testing.T) {
	seen := map[string]bool{}
	for seed := range uint64(64) {
		m := waltest.NewMemFS()
		if err := m.MkdirAll("/d", 0o750); err != nil {
			t.Fatal(err)
		}
		a := write(t, m, "/d/a", "base", 0)
		b := write(t, m, "/d/b", "base", 0)
		for _, f := range []wal.File{a, b} {
			if err := f.Sync(); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.SyncDir("/d"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.WriteAt([]byte("+tail"), 4); err != nil {
			t.Fatal(err)
		}
		if _, err := b.WriteAt([]byte("XX"), 0); err != nil {
			t.Fatal(err)
		}
		m.CrashTorn(rand.New(rand.NewPCG(seed, 0)))
		got := read(t, m, "/d/a")
		if !strings.HasPrefix("base+tail", got) || len(got) < 4 {
			t.Fatalf("seed %d: %q is not the synced data and a prefix of the append", seed, got)
		}
		seen[got] = true
		if got := read(t, m, "/d/b"); got != "base" {
			t.Fatalf("seed %d: overwritten file %q, want %q", seed, got, "base")
		}
	}
	if !seen["base"] || !seen["base+tail"] || len(seen) < 4 {
		t.Fatalf("torn crashes kept only %v", seen)
	}
}
