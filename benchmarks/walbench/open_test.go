package walbench

import (
	"fmt"
	"testing"

	etcdwal "go.etcd.io/etcd/server/v3/storage/wal"
	"go.etcd.io/etcd/server/v3/storage/wal/walpb"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"

	"github.com/governor-io/governor/raft/wal"
)

// Recovery benchmarks: a member restarting reopens its log for appending
// and reads every entry back. The log holds n entries of 256 bytes in one
// 64 MB preallocated segment, written in Saves of 100.
//
//	go test -run '^$' -bench 'BenchmarkWALOpen' -count 6 -benchtime 20x

// walReader is what both logs do for the benchmark: open, read all, close.
type walReader func(dir string) (entries int, err error)

var openImpls = []struct {
	name   string
	create func(dir string) (walSaver, error)
	open   walReader
}{
	{"governor", walImpls[0].open, func(dir string) (int, error) {
		w, err := wal.Open(dir, wal.Options{})
		if err != nil {
			return 0, err
		}
		_, _, _, ents, err := w.ReadAll()
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		return len(ents), err
	}},
	{"etcd", walImpls[1].open, func(dir string) (int, error) {
		w, err := etcdwal.Open(zap.NewNop(), dir, &walpb.Snapshot{})
		if err != nil {
			return 0, err
		}
		_, _, ents, err := w.ReadAll()
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		return len(ents), err
	}},
}

func BenchmarkWALOpen(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		for _, impl := range openImpls {
			b.Run(fmt.Sprintf("impl=%s/entries=%d", impl.name, n), func(b *testing.B) {
				dir := b.TempDir() + "/wal"
				w, err := impl.create(dir)
				if err != nil {
					b.Fatal(err)
				}
				data := make([]byte, valueSize)
				term, typ := uint64(1), raftpb.EntryNormal
				const perSave = 100
				for index := uint64(0); index < uint64(n); {
					batch := make([]*raftpb.Entry, perSave)
					for i := range batch {
						index++
						idx := index
						batch[i] = &raftpb.Entry{Term: &term, Index: &idx, Type: &typ, Data: data}
					}
					commit, vote := index-1, uint64(1)
					if err := w.Save(&raftpb.HardState{Term: &term, Vote: &vote, Commit: &commit}, batch); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(n * valueSize))
				b.ReportAllocs()
				for b.Loop() {
					got, err := impl.open(dir)
					if err != nil {
						b.Fatal(err)
					}
					if got != n {
						b.Fatalf("read %d entries back, want %d", got, n)
					}
				}
			})
		}
	}
}
