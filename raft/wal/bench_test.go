package wal_test

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/governor-io/governor/raft/wal"
)

// reportLatency adds p50 and p99 of the samples as metrics.
func reportLatency(b *testing.B, samples []time.Duration) {
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(samples[len(samples)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// BenchmarkSave measures a durable Save (write + fdatasync) of batches of
// 256-byte entries on the real disk: one entry is the latency a single
// client sees, larger batches show what batching buys. Compare with
// BenchmarkDiskFdatasync, the disk alone.
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
			samples := make([]time.Duration, 0, 1024)
			b.SetBytes(int64(n * len(data)))
			b.ReportAllocs()
			index := uint64(0)
			for b.Loop() {
				for i := range batch {
					index++
					batch[i] = entry(1, index, "")
					batch[i].Data = data
				}
				start := time.Now()
				if err := w.Save(hardState(1, 1, index-1), batch); err != nil {
					b.Fatal(err)
				}
				samples = append(samples, time.Since(start))
			}
			reportLatency(b, samples)
		})
	}
}

// BenchmarkDiskFdatasync is the floor under BenchmarkSave: a 4 KiB append
// into a preallocated file and an fdatasync, with no WAL at all.
func BenchmarkDiskFdatasync(b *testing.B) {
	fsys := wal.OSFS{}
	f, err := fsys.OpenFile(b.TempDir()+"/f", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := f.Allocate(wal.DefaultSegmentSize); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 4096)
	samples := make([]time.Duration, 0, 1024)
	off := int64(0)
	for b.Loop() {
		start := time.Now()
		if _, err := f.WriteAt(buf, off); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(start))
		off = (off + int64(len(buf))) % wal.DefaultSegmentSize
	}
	reportLatency(b, samples)
}

// BenchmarkOpen reopens a WAL whose one segment holds 1000 entries of 256
// bytes, preallocated to 1, 16 or 64 MiB. Recovery streams the segment, so
// its memory (B/op: mostly the entries it returns) must not grow with the
// segment size, while its time grows with the zeros it must check.
func BenchmarkOpen(b *testing.B) {
	for _, mib := range []int64{1, 16, 64} {
		b.Run(fmt.Sprintf("segment=%dMiB", mib), func(b *testing.B) {
			dir := b.TempDir()
			opts := wal.Options{SegmentSize: mib << 20}
			w, err := wal.Create(dir, nil, opts)
			if err != nil {
				b.Fatal(err)
			}
			for i := uint64(1); i <= 1000; i++ {
				e := entry(1, i, "")
				e.Data = make([]byte, 256)
				if err := w.Save(hardState(1, 1, i-1), []*raftpb.Entry{e}); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				w, err := wal.Open(dir, opts)
				if err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
