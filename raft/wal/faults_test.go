package wal_test

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/governor-io/governor/raft/wal"
	"github.com/governor-io/governor/raft/wal/waltest"
)

// recordOffsets walks the frames of a valid segment image and returns the
// offset of every record and the end of the last one's payload.
func recordOffsets(t *testing.T, img []byte) (offs []int64, payloadEnds []int64) {
	t.Helper()
	off := int64(0)
	for off+16 <= int64(len(img)) {
		n := int64(binary.LittleEndian.Uint32(img[off:]))
		if n == 0 {
			break
		}
		offs = append(offs, off)
		payloadEnds = append(payloadEnds, off+16+n)
		off += (16 + n + 7) &^ 7
	}
	if len(offs) == 0 {
		t.Fatal("no records in segment")
	}
	return offs, payloadEnds
}

func readDirFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for _, name := range segmentFiles(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	return files
}

func writeDirFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTornTailEveryOffset cuts the last record of the log at every byte
// offset, in the ways a crash can leave it, and reopens: every Save that
// returned before the last one is there, the torn one is dropped (or kept
// whole if all its payload reached the disk), and the log is writable and
// reopens cleanly afterwards.
func TestTornTailEveryOffset(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	opts := wal.Options{SegmentSize: 1024}
	w := mustCreate(t, src, opts)
	for i := uint64(1); i <= 40; i++ {
		if err := w.Save(hardState(1, 1, i-1), span(1, i, i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(segmentFiles(t, src)); n < 2 {
		t.Fatalf("setup: want several segments, have %d", n)
	}
	before := readView(t, w)
	segsBefore := segmentFiles(t, src)
	last := []*raftpb.Entry{entry(2, 41, "forty-one"), entry(2, 42, string(make([]byte, 70))), entry(2, 43, "x")}
	if err := w.Save(hardState(2, 2, 40), last); err != nil {
		t.Fatal(err)
	}
	after := readView(t, w)
	mustClose(t, w)
	if !slices.Equal(segsBefore, segmentFiles(t, src)) {
		t.Fatal("setup: the last Save started a new segment")
	}
	files := readDirFiles(t, src)
	lastSeg := segsBefore[len(segsBefore)-1]
	img := files[lastSeg]
	offs, ends := recordOffsets(t, img)
	start, payloadEnd := offs[len(offs)-1], ends[len(ends)-1]
	end := (payloadEnd + 7) &^ 7

	rng := rand.New(rand.NewPCG(1, 2))
	modes := []struct {
		name string
		// damage returns the segment as a crash at cut could leave it.
		damage func(img []byte, cut int64) []byte
		// whole reports whether the record survived intact.
		whole func(cut int64) bool
	}{
		{"file cut short", func(img []byte, cut int64) []byte { return img[:cut] },
			func(cut int64) bool { return cut >= payloadEnd }},
		{"rest never written (zeros)", func(img []byte, cut int64) []byte { clear(img[cut:end]); return img },
			func(cut int64) bool { return cut >= payloadEnd }},
		{"rest is garbage", func(img []byte, cut int64) []byte {
			for i := cut; i < payloadEnd; i++ {
				img[i] = byte(rng.Uint32())
			}
			return img
		}, func(cut int64) bool { return cut >= payloadEnd }},
		{"head never written", func(img []byte, cut int64) []byte { clear(img[start:cut]); return img },
			func(cut int64) bool { return cut == start }},
	}
	base := t.TempDir()
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			for cut := start; cut <= end; cut++ {
				dir := filepath.Join(base, fmt.Sprint(cut))
				damaged := maps(files)
				damaged[lastSeg] = mode.damage(slices.Clone(img), cut)
				writeDirFiles(t, dir, damaged)

				want := before
				if mode.whole(cut) {
					want = after
				}
				w, err := wal.Open(dir, opts)
				if err != nil {
					t.Fatalf("cut at %d (record %d..%d): Open: %v", cut, start, end, err)
				}
				if diff := cmp.Diff(want, readView(t, w)); diff != "" {
					t.Fatalf("cut at %d (record %d..%d): (-want +got):\n%s", cut, start, end, diff)
				}
				// The repaired log takes new writes and reopens cleanly.
				next := want.Ents[len(want.Ents)-1].Index + 1
				if err := w.Save(hardState(3, 3, next-1), span(3, next, next)); err != nil {
					t.Fatalf("cut at %d: Save after repair: %v", cut, err)
				}
				mustClose(t, w)
				w = mustOpen(t, dir, opts)
				want.HS = [3]uint64{3, 3, next - 1}
				want.Ents = append(slices.Clone(want.Ents), ents(3, next, next)...)
				if diff := cmp.Diff(want, readView(t, w)); diff != "" {
					t.Fatalf("cut at %d: after repair and reopen (-want +got):\n%s", cut, diff)
				}
				mustClose(t, w)
				os.RemoveAll(dir)
			}
		})
	}
}

func maps(m map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestCorruptRecordIsRefused damages acknowledged records that are not the
// last one written: Open must refuse with a CorruptError naming the place.
func TestCorruptRecordIsRefused(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	opts := wal.Options{SegmentSize: 256}
	w := mustCreate(t, src, opts)
	for i := uint64(1); i <= 40; i++ {
		if err := w.Save(hardState(1, 1, i-1), span(1, i, i)); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, w)
	files := readDirFiles(t, src)
	names := segmentFiles(t, src)
	if len(names) < 4 {
		t.Fatalf("setup: want at least 4 segments, have %d", len(names))
	}
	first, lastSeg := names[0], names[len(names)-1]
	firstOffs, _ := recordOffsets(t, files[first])
	lastOffs, _ := recordOffsets(t, files[lastSeg])
	if len(lastOffs) < 3 {
		t.Fatalf("setup: last segment has %d records, want 3+", len(lastOffs))
	}
	flip := func(name string, at int64) func(map[string][]byte) {
		return func(f map[string][]byte) {
			b := slices.Clone(f[name])
			b[at] ^= 0x40
			f[name] = b
		}
	}
	tests := []struct {
		name    string
		damage  func(map[string][]byte)
		file    string // "" if any
		offset  int64  // -2 if any
		wantErr error
	}{
		{name: "payload byte of a middle record", damage: flip(lastSeg, lastOffs[1]+20), file: lastSeg, offset: lastOffs[1]},
		{name: "length of a middle record", damage: flip(lastSeg, lastOffs[1]), file: lastSeg, offset: lastOffs[1]},
		{name: "CRC of a middle record", damage: flip(lastSeg, lastOffs[1]+12), file: lastSeg, offset: lastOffs[1]},
		{name: "middle record zeroed", damage: func(f map[string][]byte) {
			b := slices.Clone(f[lastSeg])
			clear(b[lastOffs[1]:lastOffs[2]])
			f[lastSeg] = b
		}, file: lastSeg, offset: lastOffs[1]},
		{name: "last record of an older segment", damage: flip(first, firstOffs[len(firstOffs)-1]+18), file: first, offset: firstOffs[len(firstOffs)-1]},
		{name: "segment header", damage: flip(first, 3), file: first, offset: 0},
		{name: "header of the last segment", damage: flip(lastSeg, 13), file: lastSeg, offset: 0},
		{name: "older segment lost its tail", damage: func(f map[string][]byte) {
			b := slices.Clone(f[first])
			clear(b[firstOffs[len(firstOffs)-1]:])
			f[first] = b
		}, file: names[1], offset: 0},
		{name: "older segment truncated", damage: func(f map[string][]byte) {
			f[first] = f[first][:firstOffs[len(firstOffs)-1]+5]
		}, file: first, offset: firstOffs[len(firstOffs)-1]},
		{name: "segment missing in the middle", damage: func(f map[string][]byte) { delete(f, names[1]) }, file: names[2], offset: 0},
		{name: "oldest segment deleted without a snapshot", damage: func(f map[string][]byte) { delete(f, first) }, file: ".", offset: -1},
		{name: "segments swapped", damage: func(f map[string][]byte) { f[names[1]], f[names[2]] = f[names[2]], f[names[1]] }, file: names[1], offset: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			damaged := maps(files)
			tt.damage(damaged)
			writeDirFiles(t, dir, damaged)
			w, err := wal.Open(dir, opts)
			if err == nil {
				w.Close()
				t.Fatal("Open succeeded on a corrupt log")
			}
			if !errors.Is(err, wal.ErrCorrupt) {
				t.Fatalf("Open = %v, want ErrCorrupt", err)
			}
			var ce *wal.CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("Open = %T, want *CorruptError", err)
			}
			if filepath.Clean(ce.File) != filepath.Join(dir, tt.file) || ce.Offset != tt.offset {
				t.Errorf("CorruptError at %s:%d, want %s:%d (%v)", filepath.Base(ce.File), ce.Offset, tt.file, tt.offset, err)
			}
			// The damaged files are left alone for an operator to inspect.
			if diff := cmp.Diff(damaged, readDirFiles(t, dir)); diff != "" {
				t.Errorf("Open changed a corrupt log")
			}
		})
	}
}

// TestFailedWriteIsSticky injects a failure into each step of the write path
// and checks that the WAL refuses everything afterwards, and that after a
// crash exactly the acknowledged Saves are on disk.
func TestFailedWriteIsSticky(t *testing.T) {
	tests := []struct {
		name string
		op   waltest.Op
		tmp  bool // only on the temporary file of a new segment
		want error
	}{
		{name: "fsync of a Save", op: waltest.OpSync, want: wal.ErrFsyncFailed},
		{name: "write of a Save", op: waltest.OpWrite, want: wal.ErrWriteFailed},
		{name: "fsync of a new segment", op: waltest.OpSync, tmp: true, want: wal.ErrFsyncFailed},
		{name: "preallocation of a new segment", op: waltest.OpAllocate, tmp: true, want: wal.ErrWriteFailed},
		{name: "rename of a new segment", op: waltest.OpRename, tmp: true, want: wal.ErrWriteFailed},
		{name: "directory fsync after a new segment", op: waltest.OpSyncDir, want: wal.ErrFsyncFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := waltest.NewMemFS()
			opts := wal.Options{FS: fsys, SegmentSize: 256}
			w := mustCreate(t, "/wal", opts)
			var armed bool
			fsys.SetFault(func(op waltest.Op, path string) error {
				if armed && op == tt.op && (!tt.tmp || filepath.Ext(path) == ".tmp") {
					return waltest.ErrInjected
				}
				return nil
			})
			var acked view
			acked.Meta = "meta"
			var failed error
			for i := uint64(1); i <= 50 && failed == nil; i++ {
				armed = i > 10
				if err := w.Save(hardState(1, 1, i-1), span(1, i, i)); err != nil {
					failed = err
					break
				}
				acked.HS = [3]uint64{1, 1, i - 1}
				acked.Ents = append(acked.Ents, ents(1, i, i)...)
			}
			if failed == nil {
				t.Fatal("the fault never fired")
			}
			if !errors.Is(failed, tt.want) || !errors.Is(failed, waltest.ErrInjected) {
				t.Fatalf("Save = %v, want %v wrapping the injected error", failed, tt.want)
			}
			fsys.SetFault(nil)
			next := uint64(len(acked.Ents) + 1)
			images := memFiles(fsys)
			for name, call := range map[string]func() error{
				"Save":         func() error { return w.Save(hardState(1, 1, next), span(1, next, next)) },
				"SaveSnapshot": func() error { return w.SaveSnapshot(wal.SnapshotMarker{Index: 1, Term: 1}) },
				"ReleaseTo":    func() error { return w.ReleaseTo(1) },
				"ReadAll":      func() error { _, _, _, _, err := w.ReadAll(); return err },
			} {
				if err := call(); !errors.Is(err, tt.want) {
					t.Errorf("%s after the failure = %v, want the sticky %v", name, err, tt.want)
				}
			}
			if diff := cmp.Diff(images, memFiles(fsys)); diff != "" {
				t.Errorf("calls after the failure changed the files")
			}
			w.Close()
			fsys.Crash()
			w = mustOpen(t, "/wal", opts)
			defer mustClose(t, w)
			if diff := cmp.Diff(acked, readView(t, w)); diff != "" {
				t.Errorf("after crash and reopen, want exactly the acknowledged saves (-want +got):\n%s", diff)
			}
		})
	}
}

func memFiles(fsys *waltest.MemFS) map[string][]byte {
	out := map[string][]byte{}
	for _, p := range fsys.Paths("/wal") {
		b, _ := fsys.ReadFile(p)
		out[p] = b
	}
	return out
}

var crashSeeds = flag.Uint64("crash.seeds", 4, "seeds for TestCrashKeepsEveryAcknowledgedSave")

// TestCrashKeepsEveryAcknowledgedSave runs a seeded random history of saves,
// overwrites, snapshot markers and releases over tiny segments, crashing
// (losing everything unsynced) at random points, and checks after each
// restart that the log holds exactly what was acknowledged.
//
// go test -run TestCrashKeepsEveryAcknowledgedSave -crash.seeds 1000 soaks it.
func TestCrashKeepsEveryAcknowledgedSave(t *testing.T) {
	for seed := uint64(1); seed <= *crashSeeds; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			fsys := waltest.NewMemFS()
			opts := wal.Options{FS: fsys, SegmentSize: 300}
			w := mustCreate(t, "/wal", opts)
			model := view{Meta: "meta"}
			var term uint64 = 1
			lastIndex := func() uint64 {
				if n := len(model.Ents); n > 0 {
					return model.Ents[n-1].Index
				}
				return model.SnapIndex
			}
			for step := 0; step < 300; step++ {
				switch r := rng.IntN(20); {
				case r < 12: // append, sometimes overwriting an uncommitted tail
					lo := lastIndex() + 1
					if rng.IntN(4) == 0 && lo > model.SnapIndex+1 {
						lo -= uint64(rng.IntN(int(lo-model.SnapIndex-1))) + 1
						term++
					}
					hi := lo + uint64(rng.IntN(4))
					hs := hardState(term, 1, min(lo-1, model.HS[2]+1))
					if err := w.Save(hs, span(term, lo, hi)); err != nil {
						t.Fatal(err)
					}
					model.HS = [3]uint64{term, 1, min(lo-1, model.HS[2]+1)}
					kept := model.Ents[:0:0]
					for _, e := range model.Ents {
						if e.Index < lo {
							kept = append(kept, e)
						}
					}
					model.Ents = append(kept, ents(term, lo, hi)...)
				case r < 15 && len(model.Ents) > 0: // snapshot and release
					e := model.Ents[rng.IntN(len(model.Ents))]
					if err := w.SaveSnapshot(wal.SnapshotMarker{Index: e.Index, Term: e.Term}); err != nil {
						t.Fatal(err)
					}
					model.HasSnap, model.SnapIndex, model.SnapTerm = true, e.Index, e.Term
					var kept []ent
					for _, x := range model.Ents {
						if x.Index > e.Index {
							kept = append(kept, x)
						}
					}
					model.Ents = kept
					if err := w.ReleaseTo(e.Index); err != nil {
						t.Fatal(err)
					}
				case r < 17: // crash, restart
					fsys.Crash()
					w.Close()
					w = mustOpen(t, "/wal", opts)
					if diff := cmp.Diff(model, readView(t, w)); diff != "" {
						t.Fatalf("step %d: after crash (-want +got):\n%s", step, diff)
					}
				default: // clean restart
					mustClose(t, w)
					w = mustOpen(t, "/wal", opts)
				}
			}
			if diff := cmp.Diff(model, readView(t, w)); diff != "" {
				t.Fatalf("end (-want +got):\n%s", diff)
			}
			mustClose(t, w)
		})
	}
}

// TestReleaseInterrupted fails ReleaseTo half way and crashes: the segments
// that come back are harmless, and nothing acknowledged is lost.
func TestReleaseInterrupted(t *testing.T) {
	fsys := waltest.NewMemFS()
	opts := wal.Options{FS: fsys, SegmentSize: 256}
	w := mustCreate(t, "/wal", opts)
	for i := uint64(1); i <= 40; i++ {
		if err := w.Save(hardState(1, 1, i-1), span(1, i, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.SaveSnapshot(wal.SnapshotMarker{Index: 40, Term: 1}); err != nil {
		t.Fatal(err)
	}
	removes := 0
	fsys.SetFault(func(op waltest.Op, _ string) error {
		if op == waltest.OpRemove {
			if removes++; removes == 3 {
				return waltest.ErrInjected
			}
		}
		return nil
	})
	if err := w.ReleaseTo(40); !errors.Is(err, waltest.ErrInjected) {
		t.Fatalf("ReleaseTo = %v, want the injected error", err)
	}
	fsys.SetFault(nil)
	// Not sticky: the WAL goes on, and a later release finishes the job.
	if err := w.Save(hardState(1, 1, 40), span(1, 41, 41)); err != nil {
		t.Fatal(err)
	}
	want := view{Meta: "meta", HS: [3]uint64{1, 1, 40}, HasSnap: true, SnapIndex: 40, SnapTerm: 1, Ents: ents(1, 41, 41)}
	w.Close()
	fsys.Crash() // the two removals were never made durable
	w = mustOpen(t, "/wal", opts)
	if diff := cmp.Diff(want, readView(t, w)); diff != "" {
		t.Fatalf("after crash (-want +got):\n%s", diff)
	}
	if err := w.ReleaseTo(40); err != nil {
		t.Fatal(err)
	}
	mustClose(t, w)
	if n := len(fsys.Paths("/wal")); n > 2 {
		t.Errorf("%d segments left after a full release, want at most 2", n)
	}
}

// TestRepairNeedsFsync: if making the repaired tail durable fails, Open
// fails rather than hand out a log it could not sync.
func TestRepairNeedsFsync(t *testing.T) {
	fsys := waltest.NewMemFS()
	opts := wal.Options{FS: fsys, SegmentSize: 4096}
	w := mustCreate(t, "/wal", opts)
	if err := w.Save(hardState(1, 1, 0), span(1, 1, 3)); err != nil {
		t.Fatal(err)
	}
	mustClose(t, w)
	img, err := fsys.ReadFile(fuzzSeg)
	if err != nil {
		t.Fatal(err)
	}
	offs, _ := recordOffsets(t, img)
	img[offs[len(offs)-1]+20] ^= 1 // tear the last record
	fsys.WriteFile(fuzzSeg, img)
	fsys.SetFault(func(op waltest.Op, _ string) error {
		if op == waltest.OpSync {
			return waltest.ErrInjected
		}
		return nil
	})
	if _, err := wal.Open("/wal", opts); !errors.Is(err, wal.ErrFsyncFailed) {
		t.Fatalf("Open = %v, want ErrFsyncFailed", err)
	}
	fsys.SetFault(nil)
	w = mustOpen(t, "/wal", opts)
	defer mustClose(t, w)
	if v := readView(t, w); len(v.Ents) != 0 {
		t.Fatalf("torn record survived: %+v", v.Ents)
	}
}
