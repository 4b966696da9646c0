package snap_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/governor-io/governor/raft/snap"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// randReader yields n seeded pseudo-random bytes without holding them.
type randReader struct {
	rng *rand.Rand
	n   int64
}

func (r *randReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n)]
	for i := range p {
		p[i] = byte(r.rng.Uint32())
	}
	r.n -= int64(len(p))
	return len(p), nil
}

func randData(seed uint64, n int64) io.Reader {
	return &randReader{rng: rand.New(rand.NewPCG(seed, seed)), n: n}
}

func digest(t *testing.T, r io.Reader) [32]byte {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatalf("read: %v", err)
	}
	return [32]byte(h.Sum(nil))
}

func newStore(t *testing.T) (*snap.Store, string, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	var logs bytes.Buffer
	s, err := snap.New(dir, snap.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s, dir, &logs
}

func mustSave(t *testing.T, s *snap.Store, index, term uint64, data string) snap.Info {
	t.Helper()
	info, err := s.Save(metadata(index, term, 1, 2), strings.NewReader(data))
	if err != nil {
		t.Fatalf("Save: %v", err)
	}
	return info
}

func readAll(t *testing.T, s *snap.Store, index uint64) string {
	t.Helper()
	r, err := s.Open(index)
	if err != nil {
		t.Fatalf("Open(%d): %v", index, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read snapshot %d: %v", index, err)
	}
	return string(b)
}

func TestSaveLoadStreamsLargeData(t *testing.T) {
	s, _, _ := newStore(t)
	const size = 3<<20 + 17
	info, err := s.Save(metadata(42, 7, 1, 2, 3), randData(1, size))
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != size || info.Index != 42 || info.Term != 7 {
		t.Fatalf("Save = %+v", info)
	}
	got, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got.Index != 42 || got.Term != 7 || got.Size != size || !slices.Equal(got.ConfState.GetVoters(), []uint64{1, 2, 3}) {
		t.Fatalf("Load = %+v", got)
	}
	r, err := s.Open(42)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if digest(t, r) != digest(t, randData(1, size)) {
		t.Fatal("data read back differs")
	}
	if md := got.Metadata(); md.GetIndex() != 42 || md.GetTerm() != 7 {
		t.Fatalf("Metadata = %v", md)
	}
}

func TestLoadPicksNewest(t *testing.T) {
	s, _, _ := newStore(t)
	for _, idx := range []uint64{5, 30, 12} {
		mustSave(t, s, idx, 1, "at "+string(rune('0'+idx%10)))
	}
	info, err := s.Load()
	if err != nil || info.Index != 30 {
		t.Fatalf("Load = %+v, %v; want index 30", info, err)
	}
	info, err = s.LoadNewest(func(i snap.Info) bool { return i.Index < 20 })
	if err != nil || info.Index != 12 {
		t.Fatalf("LoadNewest(<20) = %+v, %v; want index 12", info, err)
	}
	if _, err := s.LoadNewest(func(snap.Info) bool { return false }); !errors.Is(err, snap.ErrNoSnapshot) {
		t.Fatalf("LoadNewest(none) = %v, want ErrNoSnapshot", err)
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var idxs []uint64
	for _, i := range list {
		idxs = append(idxs, i.Index)
	}
	if !slices.Equal(idxs, []uint64{5, 12, 30}) {
		t.Fatalf("List indexes = %v, want [5 12 30]", idxs)
	}
}

func TestEmptyStore(t *testing.T) {
	s, _, _ := newStore(t)
	if _, err := s.Load(); !errors.Is(err, snap.ErrNoSnapshot) {
		t.Fatalf("Load = %v, want ErrNoSnapshot", err)
	}
	if _, err := s.Open(1); !errors.Is(err, snap.ErrNotFound) {
		t.Fatalf("Open = %v, want ErrNotFound", err)
	}
	if _, _, err := s.Stream(1); !errors.Is(err, snap.ErrNotFound) {
		t.Fatalf("Stream = %v, want ErrNotFound", err)
	}
}

func TestFailedSaveLeavesNothing(t *testing.T) {
	s, dir, _ := newStore(t)
	boom := errors.New("state machine failed")
	_, err := s.SaveFunc(metadata(3, 1), func(w io.Writer) error {
		io.WriteString(w, "partial")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("SaveFunc = %v, want the writer's error", err)
	}
	if des, _ := os.ReadDir(dir); len(des) != 0 {
		t.Fatalf("files left after a failed save: %v", des)
	}
	if _, err := s.Save(nil, strings.NewReader("x")); err == nil {
		t.Fatal("Save with nil metadata succeeded")
	}
}

func TestNewRemovesLeftoverTempFiles(t *testing.T) {
	s, dir, _ := newStore(t)
	mustSave(t, s, 1, 1, "one")
	leftover := filepath.Join(dir, "0000000000000002-0000000000000001.snap.123.tmp")
	if err := os.WriteFile(leftover, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := snap.New(dir, snap.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Fatalf("leftover temp file still there: %v", err)
	}
	if got := readAll(t, s, 1); got != "one" {
		t.Fatalf("snapshot 1 = %q", got)
	}
}

// damage rewrites the file at path.
func damage(t *testing.T, path string, f func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, f(b), 0o600); err != nil {
		t.Fatal(err)
	}
}

func flipAt(i int) func([]byte) []byte {
	return func(b []byte) []byte {
		if i < 0 {
			i += len(b)
		}
		b[i] ^= 1
		return b
	}
}

var corruptions = []struct {
	name string
	f    func([]byte) []byte
}{
	{"magic", flipAt(0)},
	{"data length", flipAt(8)},
	{"metadata length", flipAt(16)},
	{"header CRC", flipAt(21)},
	{"metadata", flipAt(26)},
	{"data", flipAt(-10)},
	{"data CRC", flipAt(-1)},
	{"truncated", func(b []byte) []byte { return b[:len(b)-3] }},
	{"extra byte", func(b []byte) []byte { return append(b, 0) }},
	{"empty", func([]byte) []byte { return nil }},
}

func TestCorruptSnapshotIsSetAside(t *testing.T) {
	for _, c := range corruptions {
		t.Run(c.name, func(t *testing.T) {
			s, dir, logs := newStore(t)
			mustSave(t, s, 10, 1, "older but good")
			newest := mustSave(t, s, 20, 2, "newest, about to be damaged")
			damage(t, newest.Path, c.f)
			info, err := s.Load()
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if info.Index != 10 {
				t.Fatalf("Load picked index %d, want the older good one (10)", info.Index)
			}
			if _, err := os.Stat(newest.Path + ".broken"); err != nil {
				t.Fatalf("corrupt snapshot not set aside: %v", err)
			}
			if !strings.Contains(logs.String(), "corrupt snapshot") {
				t.Errorf("no warning logged; logs: %s", logs.String())
			}
			// Purge leaves the set-aside file alone.
			if _, err := s.Purge(0); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(newest.Path + ".broken"); err != nil {
				t.Fatalf("Purge removed the set-aside file: %v", err)
			}
			if des, _ := os.ReadDir(dir); len(des) != 1 {
				t.Fatalf("after Purge(0): %v", des)
			}
		})
	}
}

func TestRenamedSnapshotIsCorrupt(t *testing.T) {
	s, dir, _ := newStore(t)
	info := mustSave(t, s, 10, 1, "ten")
	if err := os.Rename(info.Path, filepath.Join(dir, "0000000000000011-0000000000000001.snap")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(); !errors.Is(err, snap.ErrNoSnapshot) {
		t.Fatalf("Load = %v, want ErrNoSnapshot (the only file names the wrong index)", err)
	}
}

func TestOpenDetectsDamagedData(t *testing.T) {
	s, _, _ := newStore(t)
	info := mustSave(t, s, 10, 1, strings.Repeat("data ", 100))
	damage(t, info.Path, flipAt(-50))
	r, err := s.Open(10)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := io.ReadAll(r); !errors.Is(err, snap.ErrCorrupt) {
		t.Fatalf("reading damaged data = %v, want ErrCorrupt at the end", err)
	}
	damage(t, info.Path, flipAt(0))
	if _, err := s.Open(10); !errors.Is(err, snap.ErrCorrupt) {
		t.Fatalf("Open with a damaged header = %v, want ErrCorrupt", err)
	}
}

func TestStreamReceive(t *testing.T) {
	leader, _, _ := newStore(t)
	const size = 1<<20 + 3
	if _, err := leader.Save(metadata(50, 4, 1, 2, 3), randData(2, size)); err != nil {
		t.Fatal(err)
	}
	stream, n, err := leader.Stream(50)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(stream)
	stream.Close()
	if err != nil || int64(len(raw)) != n {
		t.Fatalf("Stream read %d of %d bytes: %v", len(raw), n, err)
	}

	t.Run("intact", func(t *testing.T) {
		follower, _, _ := newStore(t)
		// Receive reads exactly one snapshot: what follows stays unread.
		in := bytes.NewReader(append(slices.Clone(raw), "next message"...))
		info, err := follower.Receive(in)
		if err != nil {
			t.Fatal(err)
		}
		if rest, _ := io.ReadAll(in); string(rest) != "next message" {
			t.Fatalf("Receive consumed past the snapshot; left %q", rest)
		}
		if info.Index != 50 || info.Term != 4 || info.Size != size {
			t.Fatalf("Receive = %+v", info)
		}
		got, err := follower.Load()
		if err != nil || got.Index != 50 {
			t.Fatalf("follower Load = %+v, %v", got, err)
		}
		r, err := follower.Open(50)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if digest(t, r) != digest(t, randData(2, size)) {
			t.Fatal("received data differs")
		}
	})
	for _, c := range corruptions {
		if c.name == "extra byte" { // a stream may be followed by more
			continue
		}
		t.Run("damaged "+c.name, func(t *testing.T) {
			follower, dir, _ := newStore(t)
			if _, err := follower.Receive(bytes.NewReader(c.f(slices.Clone(raw)))); !errors.Is(err, snap.ErrCorrupt) {
				t.Fatalf("Receive = %v, want ErrCorrupt", err)
			}
			if des, _ := os.ReadDir(dir); len(des) != 0 {
				t.Fatalf("files left after a bad stream: %v", des)
			}
		})
	}
}

func TestPurgeKeepsNewest(t *testing.T) {
	s, _, _ := newStore(t)
	for _, idx := range []uint64{40, 10, 30, 20, 50} {
		mustSave(t, s, idx, 1, "x")
	}
	removed, err := s.Purge(2)
	if err != nil || removed != 3 {
		t.Fatalf("Purge(2) = %d, %v; want 3", removed, err)
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Index != 40 || list[1].Index != 50 {
		t.Fatalf("left %+v, want 40 and 50", list)
	}
	if removed, err := s.Purge(5); err != nil || removed != 0 {
		t.Fatalf("Purge(5) = %d, %v; want 0", removed, err)
	}
}
