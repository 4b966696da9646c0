package wal_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/governor-io/governor/raft/wal"
	"github.com/governor-io/governor/raft/wal/waltest"
)

// TestOpenLargeSegment checks recovery on a segment many times larger
// than the blocks it reads at a time, with records of varied sizes (one
// larger than a block): the log reads back whole; a damaged record in the
// middle is refused; a torn last record followed by garbage far into the
// preallocated space is truncated away.
func TestOpenLargeSegment(t *testing.T) {
	const seg = "/wal/0000000000000001.wal"
	rng := rand.New(rand.NewPCG(7, 8))
	fsys := waltest.NewMemFS()
	opts := wal.Options{FS: fsys, SegmentSize: 4 << 20}
	w := mustCreate(t, "/wal", opts)
	const count = 300
	for i := uint64(1); i <= count; i++ {
		n := rng.IntN(3000)
		if i == count/2 {
			n = 150 << 10
		}
		data := make([]byte, n)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		if err := w.Save(hardState(1, 1, i-1), []*raftpb.Entry{entry(1, i, string(data))}); err != nil {
			t.Fatal(err)
		}
	}
	want := readView(t, w)
	mustClose(t, w)
	img, err := fsys.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	offs, ends := recordOffsets(t, img)
	if ends[len(ends)-1] < 4*64<<10 {
		t.Fatalf("setup: the records end at %d, want several 64 KiB blocks", ends[len(ends)-1])
	}

	w = mustOpen(t, "/wal", opts)
	if diff := cmp.Diff(want, readView(t, w)); diff != "" {
		t.Fatalf("reopened log (-want +got):\n%s", diff)
	}
	mustClose(t, w)

	t.Run("damaged middle record", func(t *testing.T) {
		for _, k := range []int{1, len(offs) / 3, len(offs) / 2, len(offs) - 2} {
			bad := append([]byte(nil), img...)
			bad[ends[k]-1] ^= 0x10
			fsys.WriteFile(seg, bad)
			_, err := wal.Open("/wal", opts)
			var ce *wal.CorruptError
			if !errors.As(err, &ce) || ce.Offset != offs[k] {
				t.Errorf("record %d at %d damaged: Open = %v, want a CorruptError at %d", k, offs[k], err, offs[k])
			}
		}
	})

	t.Run("torn tail before garbage", func(t *testing.T) {
		torn := append([]byte(nil), img...)
		last := len(offs) - 1
		end := ends[last] + 300<<10
		if int64(len(torn)) < end {
			torn = append(torn, make([]byte, end-int64(len(torn)))...)
		}
		for i := (offs[last] + ends[last]) / 2; i < end; i++ {
			torn[i] = byte(rng.Uint32())
		}
		fsys.WriteFile(seg, torn)
		w := mustOpen(t, "/wal", opts)
		defer mustClose(t, w)
		cut := want
		cut.Ents = want.Ents[:len(want.Ents)-1]
		cut.HS = [3]uint64{1, 1, count - 2}
		if diff := cmp.Diff(cut, readView(t, w)); diff != "" {
			t.Fatalf("log after the torn tail (-want +got):\n%s", diff)
		}
	})
}
