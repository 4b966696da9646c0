package wal_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/governor-io/governor/raft/wal"
	"github.com/governor-io/governor/raft/wal/waltest"
)

const fuzzSeg = "/wal/0000000000000001.wal"

// reframe builds a segment whose records all have valid frames and CRCs
// from data read as (type, length, payload) triples, so that the fuzzer
// reaches the payload decoders and the replay logic behind the CRC.
func reframe(data []byte) []byte {
	seg := wal.FrameRecord(1, 1, 0, wal.SegmentHeaderPayload(1, []byte("m")))
	for len(data) >= 2 {
		typ, n := data[0]%4, int(data[1])
		data = data[2:]
		n = min(n, len(data))
		seg = append(seg, wal.FrameRecord(typ, 1, int64(len(seg)), data[:n])...)
		data = data[n:]
	}
	return seg
}

// FuzzWALRead opens arbitrary bytes as the only segment of a WAL. Open must
// either fail with ErrCorrupt or give a log that reads back, takes a new
// entry and reopens with that entry added: never a panic, never a log that
// changes under a reopen.
func FuzzWALRead(f *testing.F) {
	// Seed with real segments.
	fsys := waltest.NewMemFS()
	w, err := wal.Create("/wal", []byte("meta"), wal.Options{FS: fsys, SegmentSize: 4096})
	if err != nil {
		f.Fatal(err)
	}
	img := func() []byte {
		b, err := fsys.ReadFile(fuzzSeg)
		if err != nil {
			f.Fatal(err)
		}
		return b[:1024]
	}
	f.Add(img(), false)
	for _, o := range []op{{hs: hardState(1, 1, 0), ents: span(1, 1, 3)}, {ents: span(2, 2, 4)},
		{snap: &wal.SnapshotMarker{Index: 2, Term: 2}}, {hs: hardState(2, 1, 3)}} {
		var err error
		if o.snap != nil {
			err = w.SaveSnapshot(*o.snap)
		} else {
			err = w.Save(o.hs, o.ents)
		}
		if err != nil {
			f.Fatal(err)
		}
		f.Add(img(), false)
	}
	w.Close()
	f.Add([]byte{2, 10, 0, 0, 1, 1, 1, 1, 1, 1, 1, 'x', 3, 3, 1, 1, 0}, true)
	f.Add([]byte{}, false)

	f.Fuzz(func(t *testing.T, data []byte, framed bool) {
		if framed {
			data = reframe(data)
		}
		fsys := waltest.NewMemFS()
		if err := fsys.MkdirAll("/wal", 0o750); err != nil {
			t.Fatal(err)
		}
		fsys.WriteFile(fuzzSeg, data)
		opts := wal.Options{FS: fsys, SegmentSize: 4096}
		w, err := wal.Open("/wal", opts)
		if err != nil {
			if !errors.Is(err, wal.ErrCorrupt) {
				t.Fatalf("Open = %v, want nil or ErrCorrupt", err)
			}
			return
		}
		got := readView(t, w)
		next := uint64(1)
		if n := len(got.Ents); n > 0 {
			next = got.Ents[n-1].Index + 1
		} else if got.HasSnap {
			next = got.SnapIndex + 1
		}
		if next == 0 { // index overflow: nothing can follow
			mustClose(t, w)
			return
		}
		if err := w.Save(nil, []*raftpb.Entry{entry(got.HS[0], next, "new")}); err != nil {
			t.Fatalf("Save after Open: %v", err)
		}
		mustClose(t, w)
		w = mustOpen(t, "/wal", opts)
		defer mustClose(t, w)
		got.Ents = append(got.Ents, ent{got.HS[0], next, "new"})
		if diff := cmp.Diff(got, readView(t, w)); diff != "" {
			t.Fatalf("log after Save and reopen (-want +got):\n%s", diff)
		}
	})
}
