package walbench

import (
	"fmt"
	"slices"
	"testing"
	"time"

	etcdwal "go.etcd.io/etcd/server/v3/storage/wal"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"

	"github.com/governor-io/governor/raft/wal"
)

// valueSize is the size of the values in the targets.
const valueSize = 256

// WAL benchmarks: a durable Save (append + fdatasync) of 256-byte entries,
// one entry per Save as a lone client gives, and batches as the Raft loop
// gives under load. Governor's raft/wal against etcd's server/storage/wal, in
// the same run, both with 64 MB preallocated segments on the same disk.
//
//	go test -run '^$' -bench 'BenchmarkWALSave' -count 6 -benchtime 2000x

// walSaver is what both logs do for the benchmark.
type walSaver interface {
	Save(hs *raftpb.HardState, ents []*raftpb.Entry) error
	Close() error
}

var walImpls = []struct {
	name string
	open func(dir string) (walSaver, error)
}{
	{"governor", func(dir string) (walSaver, error) { return wal.Create(dir, []byte("m"), wal.Options{}) }},
	{"etcd", func(dir string) (walSaver, error) { return etcdwal.Create(zap.NewNop(), dir, []byte("m")) }},
}

func BenchmarkWALSave(b *testing.B) {
	for _, n := range []int{1, 16, 128} {
		for _, impl := range walImpls {
			b.Run(fmt.Sprintf("impl=%s/entries=%d", impl.name, n), func(b *testing.B) {
				w, err := impl.open(b.TempDir() + "/wal")
				if err != nil {
					b.Fatal(err)
				}
				defer w.Close()
				data := make([]byte, valueSize)
				batch := make([]*raftpb.Entry, n)
				term, typ := uint64(1), raftpb.EntryNormal
				index := uint64(0)
				samples := make([]time.Duration, 0, 1024)
				b.SetBytes(int64(n * valueSize))
				b.ReportAllocs()
				for b.Loop() {
					for i := range batch {
						index++
						idx := index
						batch[i] = &raftpb.Entry{Term: &term, Index: &idx, Type: &typ, Data: data}
					}
					commit, vote := index-1, uint64(1)
					start := time.Now()
					if err := w.Save(&raftpb.HardState{Term: &term, Vote: &vote, Commit: &commit}, batch); err != nil {
						b.Fatal(err)
					}
					samples = append(samples, time.Since(start))
				}
				slices.Sort(samples)
				b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds())/1e3, "p50-µs")
				b.ReportMetric(float64(samples[len(samples)*99/100].Nanoseconds())/1e3, "p99-µs")
			})
		}
	}
}
