package wal_test

import (
	"fmt"
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/governor-io/governor/raft/wal"
)

// BenchmarkSave measures a durable Save (write + fdatasync) of batches of
// 256-byte entries on the real disk: one entry is the latency a single
// client sees, larger batches show what batching buys.
func BenchmarkSave(b *testing.B) {
	for _, n := range []int{1, 16, 128} {
		b.Run(fmt.Sprintf("entries=%d/size=256", n), func(b *testing.B) {
			w, err := wal.Create(b.TempDir(), nil, wal.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			data := make([]byte, 256)
			batch := make([]*raftpb.Entry, n)
			b.SetBytes(int64(n * len(data)))
			b.ReportAllocs()
			index := uint64(0)
			for b.Loop() {
				for i := range batch {
					index++
					batch[i] = entry(1, index, "")
					batch[i].Data = data
				}
				if err := w.Save(hardState(1, 1, index-1), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/save")
		})
	}
}
