package wal_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/goleak"

	"github.com/governor-io/governor/raft/wal"
	"github.com/governor-io/governor/raft/wal/prommetrics"
	"github.com/governor-io/governor/raft/wal/waltest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// ent is an entry as plain values, for comparisons.
type ent struct {
	Term, Index uint64
	Data        string
}

// view is what ReadAll returned, as plain values.
type view struct {
	Meta      string
	HS        [3]uint64 // term, vote, commit
	HasSnap   bool
	SnapIndex uint64
	SnapTerm  uint64
	Voters    []uint64
	Ents      []ent
}

func readView(t *testing.T, w *wal.WAL) view {
	t.Helper()
	meta, hs, snap, ents, err := w.ReadAll()
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	v := view{Meta: string(meta), HS: [3]uint64{hs.GetTerm(), hs.GetVote(), hs.GetCommit()}}
	if snap != nil {
		v.HasSnap, v.SnapIndex, v.SnapTerm = true, snap.Index, snap.Term
		v.Voters = snap.ConfState.GetVoters()
	}
	for _, e := range ents {
		v.Ents = append(v.Ents, ent{e.GetTerm(), e.GetIndex(), string(e.GetData())})
	}
	return v
}

// span returns entries lo..hi of term, with data naming them.
func span(term, lo, hi uint64) []*raftpb.Entry {
	var out []*raftpb.Entry
	for i := lo; i <= hi; i++ {
		out = append(out, entry(term, i, fmt.Sprintf("e%d.t%d", i, term)))
	}
	return out
}

func ents(term, lo, hi uint64) []ent {
	var out []ent
	for i := lo; i <= hi; i++ {
		out = append(out, ent{term, i, fmt.Sprintf("e%d.t%d", i, term)})
	}
	return out
}

func mustCreate(t *testing.T, dir string, opts wal.Options) *wal.WAL {
	t.Helper()
	w, err := wal.Create(dir, []byte("meta"), opts)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return w
}

func mustOpen(t *testing.T, dir string, opts wal.Options) *wal.WAL {
	t.Helper()
	w, err := wal.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return w
}

func mustClose(t *testing.T, w *wal.WAL) {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// op is one step of a log history.
type op struct {
	hs   *raftpb.HardState
	ents []*raftpb.Entry
	snap *wal.SnapshotMarker
}

func apply(t *testing.T, w *wal.WAL, ops []op) {
	t.Helper()
	for i, o := range ops {
		var err error
		if o.snap != nil {
			err = w.SaveSnapshot(*o.snap)
		} else {
			err = w.Save(o.hs, o.ents)
		}
		if err != nil {
			t.Fatalf("op %d: %v", i, err)
		}
	}
}

func TestReadAllReplaysHistory(t *testing.T) {
	cs := &raftpb.ConfState{Voters: []uint64{1, 2, 3}}
	tests := []struct {
		name string
		ops  []op
		want view
	}{
		{
			name: "empty log has metadata only",
			want: view{Meta: "meta"},
		},
		{
			name: "entries append in order",
			ops:  []op{{hs: hardState(1, 1, 0), ents: span(1, 1, 3)}, {ents: span(1, 4, 5)}},
			want: view{Meta: "meta", HS: [3]uint64{1, 1, 0}, Ents: ents(1, 1, 5)},
		},
		{
			name: "latest HardState wins",
			ops:  []op{{hs: hardState(1, 1, 0)}, {hs: hardState(2, 3, 0)}, {hs: hardState(2, 3, 1), ents: span(2, 1, 1)}},
			want: view{Meta: "meta", HS: [3]uint64{2, 3, 1}, Ents: ents(2, 1, 1)},
		},
		{
			name: "new leader overwrites the conflicting tail",
			ops:  []op{{ents: span(1, 1, 5)}, {ents: span(2, 3, 4)}},
			want: view{Meta: "meta", Ents: append(ents(1, 1, 2), ents(2, 3, 4)...)},
		},
		{
			name: "overwrite from the first index",
			ops:  []op{{ents: span(1, 1, 3)}, {ents: span(2, 1, 2)}},
			want: view{Meta: "meta", Ents: ents(2, 1, 2)},
		},
		{
			name: "repeated overwrites keep the last",
			ops:  []op{{ents: span(1, 1, 6)}, {ents: span(2, 4, 8)}, {ents: span(3, 5, 5)}},
			want: view{Meta: "meta", Ents: append(append(ents(1, 1, 3), ents(2, 4, 4)...), ents(3, 5, 5)...)},
		},
		{
			name: "snapshot marker hides the entries it covers",
			ops:  []op{{ents: span(1, 1, 10)}, {snap: &wal.SnapshotMarker{Index: 5, Term: 1, ConfState: cs}}},
			want: view{Meta: "meta", HasSnap: true, SnapIndex: 5, SnapTerm: 1, Voters: []uint64{1, 2, 3}, Ents: ents(1, 6, 10)},
		},
		{
			name: "follower jumps ahead to a leader's snapshot",
			ops: []op{{ents: span(1, 1, 3)}, {snap: &wal.SnapshotMarker{Index: 100, Term: 5}},
				{hs: hardState(5, 0, 100), ents: span(5, 101, 102)}},
			want: view{Meta: "meta", HS: [3]uint64{5, 0, 100}, HasSnap: true, SnapIndex: 100, SnapTerm: 5, Ents: ents(5, 101, 102)},
		},
		{
			name: "overwrite after a snapshot",
			ops:  []op{{ents: span(1, 1, 10)}, {snap: &wal.SnapshotMarker{Index: 5, Term: 1}}, {ents: span(2, 8, 9)}},
			want: view{Meta: "meta", HasSnap: true, SnapIndex: 5, SnapTerm: 1, Ents: append(ents(1, 6, 7), ents(2, 8, 9)...)},
		},
		{
			name: "latest of several markers",
			ops: []op{{ents: span(1, 1, 4)}, {snap: &wal.SnapshotMarker{Index: 2, Term: 1}}, {ents: span(1, 5, 8)},
				{snap: &wal.SnapshotMarker{Index: 6, Term: 1}}},
			want: view{Meta: "meta", HasSnap: true, SnapIndex: 6, SnapTerm: 1, Ents: ents(1, 7, 8)},
		},
		{
			name: "marker at the last index leaves no entries",
			ops:  []op{{ents: span(1, 1, 4)}, {snap: &wal.SnapshotMarker{Index: 4, Term: 1}}},
			want: view{Meta: "meta", HasSnap: true, SnapIndex: 4, SnapTerm: 1},
		},
	}
	// Every history is checked live, after a reopen, and with segments so
	// small that nearly every record starts a new one.
	for _, segSize := range []int64{1 << 20, 128} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/segment=%d", tt.name, segSize), func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "wal")
				opts := wal.Options{SegmentSize: segSize}
				w := mustCreate(t, dir, opts)
				apply(t, w, tt.ops)
				if diff := cmp.Diff(tt.want, readView(t, w)); diff != "" {
					t.Errorf("live ReadAll (-want +got):\n%s", diff)
				}
				mustClose(t, w)
				w = mustOpen(t, dir, opts)
				defer mustClose(t, w)
				if diff := cmp.Diff(tt.want, readView(t, w)); diff != "" {
					t.Errorf("ReadAll after reopen (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestSaveRejectsGaps(t *testing.T) {
	tests := []struct {
		name  string
		setup []op
		ents  []*raftpb.Entry
	}{
		{name: "first entry after a gap", setup: []op{{ents: span(1, 1, 3)}}, ents: span(1, 5, 6)},
		{name: "empty log must start at 1", ents: span(1, 2, 2)},
		{name: "index zero", ents: []*raftpb.Entry{entry(1, 0, "")}},
		{name: "not contiguous", ents: []*raftpb.Entry{entry(1, 1, ""), entry(1, 3, "")}},
		{name: "nil entry", ents: []*raftpb.Entry{nil}},
		{name: "gap after a snapshot", setup: []op{{snap: &wal.SnapshotMarker{Index: 10, Term: 1}}}, ents: span(1, 12, 12)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			w := mustCreate(t, dir, wal.Options{SegmentSize: 1 << 16})
			defer mustClose(t, w)
			apply(t, w, tt.setup)
			before := readView(t, w)
			if err := w.Save(nil, tt.ents); !errors.Is(err, wal.ErrOutOfOrder) {
				t.Fatalf("Save = %v, want ErrOutOfOrder", err)
			}
			if diff := cmp.Diff(before, readView(t, w)); diff != "" {
				t.Errorf("a rejected Save changed the log (-before +after):\n%s", diff)
			}
			// The WAL stays usable.
			next := uint64(1)
			if n := len(before.Ents); n > 0 {
				next = before.Ents[n-1].Index + 1
			} else if before.HasSnap {
				next = before.SnapIndex + 1
			}
			if err := w.Save(nil, span(1, next, next)); err != nil {
				t.Fatalf("Save after rejection: %v", err)
			}
		})
	}
}

func TestSaveSkipsEmptyAndUnchanged(t *testing.T) {
	fsys := waltest.NewMemFS()
	syncs := 0
	fsys.SetFault(func(op waltest.Op, _ string) error {
		if op == waltest.OpSync {
			syncs++
		}
		return nil
	})
	w := mustCreate(t, "/wal", wal.Options{FS: fsys})
	defer mustClose(t, w)
	base := syncs
	for _, o := range []op{{}, {hs: hardState(0, 0, 0)}, {hs: hardState(1, 1, 0)}, {hs: hardState(1, 1, 0)}} {
		apply(t, w, []op{o})
	}
	if got := syncs - base; got != 1 {
		t.Errorf("%d fsyncs for one non-empty HardState among empty and repeated ones, want 1", got)
	}
}

func TestCreateOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if wal.Exists(dir) {
		t.Fatal("Exists on an empty directory")
	}
	if _, err := wal.Open(dir, wal.Options{}); !errors.Is(err, wal.ErrNotExist) {
		t.Fatalf("Open of an empty directory = %v, want ErrNotExist", err)
	}
	if _, err := wal.Open(filepath.Join(dir, "missing"), wal.Options{}); !errors.Is(err, wal.ErrNotExist) {
		t.Fatalf("Open of a missing directory = %v, want ErrNotExist", err)
	}
	w := mustCreate(t, dir, wal.Options{SegmentSize: 1 << 16})
	if !wal.Exists(dir) {
		t.Fatal("Exists after Create = false")
	}
	if _, err := wal.Open(dir, wal.Options{}); !errors.Is(err, wal.ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if _, err := wal.Create(dir, nil, wal.Options{}); !errors.Is(err, wal.ErrLocked) {
		t.Fatalf("Create while open = %v, want ErrLocked", err)
	}
	mustClose(t, w)
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := w.Save(hardState(1, 0, 0), nil); !errors.Is(err, wal.ErrClosed) {
		t.Fatalf("Save after Close = %v, want ErrClosed", err)
	}
	if _, err := wal.Create(dir, nil, wal.Options{}); !errors.Is(err, wal.ErrExist) {
		t.Fatalf("Create over a WAL = %v, want ErrExist", err)
	}
	w = mustOpen(t, dir, wal.Options{SegmentSize: 1 << 16})
	mustClose(t, w)
}

func TestCreateLeftoverTempIsRemoved(t *testing.T) {
	fsys := waltest.NewMemFS()
	// Creating the first segment dies at the rename: a crash mid-Create.
	fsys.SetFault(func(op waltest.Op, _ string) error {
		if op == waltest.OpRename {
			return waltest.ErrInjected
		}
		return nil
	})
	if _, err := wal.Create("/wal", nil, wal.Options{FS: fsys}); !errors.Is(err, waltest.ErrInjected) {
		t.Fatalf("Create = %v, want the injected error", err)
	}
	fsys.SetFault(nil)
	fsys.Crash()
	if wal.ExistsIn(fsys, "/wal") {
		t.Fatal("ExistsIn after a failed Create")
	}
	w := mustCreate(t, "/wal", wal.Options{FS: fsys})
	if !wal.ExistsIn(fsys, "/wal") {
		t.Fatal("ExistsIn after Create = false")
	}
	mustClose(t, w)
	want := []string{"/wal/0000000000000001.wal"}
	if diff := cmp.Diff(want, fsys.Paths("/wal")); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

func TestRolloverAndReleaseTo(t *testing.T) {
	dir := t.TempDir()
	opts := wal.Options{SegmentSize: 256}
	w := mustCreate(t, dir, opts)
	for i := uint64(1); i <= 60; i++ {
		if err := w.Save(hardState(1, 1, i-1), span(1, i, i)); err != nil {
			t.Fatal(err)
		}
	}
	segs := segmentFiles(t, dir)
	if len(segs) < 5 {
		t.Fatalf("%d segments after 60 saves of ~50 B into 256 B segments, want several", len(segs))
	}
	// No marker yet: nothing may go.
	if err := w.ReleaseTo(60); err != nil {
		t.Fatal(err)
	}
	if got := segmentFiles(t, dir); len(got) != len(segs) {
		t.Fatalf("ReleaseTo without a marker removed segments: %d -> %d", len(segs), len(got))
	}
	if err := w.SaveSnapshot(wal.SnapshotMarker{Index: 30, Term: 1}); err != nil {
		t.Fatal(err)
	}
	// A marker above the release index does not count.
	if err := w.ReleaseTo(29); err != nil {
		t.Fatal(err)
	}
	if got := segmentFiles(t, dir); len(got) != len(segs) {
		t.Fatalf("ReleaseTo(29) with a marker at 30 removed segments")
	}
	if err := w.ReleaseTo(30); err != nil {
		t.Fatal(err)
	}
	after := segmentFiles(t, dir)
	if len(after) >= len(segs) {
		t.Fatalf("ReleaseTo(30) removed nothing (%d segments)", len(after))
	}
	if after[len(after)-1] != segs[len(segs)-1] {
		t.Fatalf("the segment being written was removed")
	}
	want := view{Meta: "meta", HS: [3]uint64{1, 1, 59}, HasSnap: true, SnapIndex: 30, SnapTerm: 1, Ents: ents(1, 31, 60)}
	if diff := cmp.Diff(want, readView(t, w)); diff != "" {
		t.Errorf("after release (-want +got):\n%s", diff)
	}
	// Writing goes on, across more segments, and survives a reopen.
	for i := uint64(61); i <= 80; i++ {
		if err := w.Save(hardState(2, 2, i-1), span(2, i, i)); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, w)
	w = mustOpen(t, dir, opts)
	defer mustClose(t, w)
	want.HS = [3]uint64{2, 2, 79}
	want.Ents = append(ents(1, 31, 60), ents(2, 61, 80)...)
	if diff := cmp.Diff(want, readView(t, w)); diff != "" {
		t.Errorf("after reopen (-want +got):\n%s", diff)
	}
}

func TestReleaseToKeepsEntriesAboveTheMarker(t *testing.T) {
	dir := t.TempDir()
	opts := wal.Options{SegmentSize: 256}
	w := mustCreate(t, dir, opts)
	defer mustClose(t, w)
	// Segments fill with entries 1..40 before the marker at 10 is written,
	// so the segments holding 11..40 precede the marker's segment.
	for i := uint64(1); i <= 40; i++ {
		if err := w.Save(nil, span(1, i, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.SaveSnapshot(wal.SnapshotMarker{Index: 10, Term: 1}); err != nil {
		t.Fatal(err)
	}
	if err := w.ReleaseTo(40); err != nil {
		t.Fatal(err)
	}
	want := view{Meta: "meta", HasSnap: true, SnapIndex: 10, SnapTerm: 1, Ents: ents(1, 11, 40)}
	if diff := cmp.Diff(want, readView(t, w)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func segmentFiles(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		if filepath.Ext(de.Name()) == ".wal" {
			out = append(out, de.Name())
		}
	}
	slices.Sort(out)
	return out
}

func TestMetricsCountEveryFsync(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	provider, err := prommetrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	fsys := waltest.NewMemFS()
	opts := wal.Options{FS: fsys, Metrics: provider, SegmentSize: 1 << 16}
	w := mustCreate(t, "/wal", opts)
	for i := uint64(1); i <= 5; i++ {
		if err := w.Save(nil, span(1, i, i)); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, w)
	// Reopening with the same provider observes the same histogram.
	w = mustOpen(t, "/wal", opts)
	if err := w.Save(nil, span(1, 6, 6)); err != nil {
		t.Fatal(err)
	}
	mustClose(t, w)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var count uint64
	for _, mf := range mfs {
		if mf.GetName() == "etcd_disk_wal_fsync_duration_seconds" {
			count = mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	// One for the first segment's header, one per Save.
	if count != 7 {
		t.Errorf("fsync histogram counted %d, want 7", count)
	}
}

func TestConcurrentUse(t *testing.T) {
	fsys := waltest.NewMemFS()
	w := mustCreate(t, "/wal", wal.Options{FS: fsys, SegmentSize: 512})
	defer mustClose(t, w)
	done := make(chan error, 1)
	go func() {
		for i := uint64(1); i <= 200; i++ {
			if err := w.Save(hardState(1, 1, i-1), span(1, i, i)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := 0; i < 20; i++ {
		_, _, _, got, err := w.ReadAll()
		if err != nil {
			t.Fatalf("ReadAll during Saves: %v", err)
		}
		for j, e := range got {
			if e.GetIndex() != uint64(j+1) {
				t.Fatalf("ReadAll during Saves saw index %d at position %d", e.GetIndex(), j)
			}
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v := readView(t, w); len(v.Ents) != 200 {
		t.Fatalf("%d entries, want 200", len(v.Ents))
	}
}
