package mvcc_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
	"github.com/governor-io/governor/store/mvcc/prommetrics"
)

// BenchmarkPut measures one-put transactions of 256-byte values, on keys
// that are new (the index grows by one key per put) and on keys that
// exist (each put adds a revision to one of 10k keys).
func BenchmarkPut(b *testing.B) {
	value := make([]byte, 256)
	for _, mode := range []string{"new", "existing"} {
		b.Run("keys="+mode, func(b *testing.B) {
			e := mvcc.New(mvcc.Options{})
			defer e.Close()
			ctx := context.Background()
			n := b.N
			if mode == "existing" {
				n = 10_000
			}
			keys := make([]string, n)
			for i := range keys {
				keys[i] = fmt.Sprintf("/registry/pods/ns%03d/pod-%07d", i%100, i*7919%n)
			}
			if mode == "existing" {
				for _, k := range keys {
					if _, err := kv.Put(ctx, e, k, value); err != nil {
						b.Fatal(err)
					}
				}
			}
			ops := []kv.Op{{}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				ops[0] = kv.OpPutKV(keys[i%n], value)
				if _, err := e.Txn(ctx, kv.TxnRequest{Success: ops}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGet measures a single-key Range over 100k keys.
func BenchmarkGet(b *testing.B) {
	e := mvcc.New(mvcc.Options{})
	defer e.Close()
	ctx := context.Background()
	const n = 100_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("/registry/pods/ns%03d/pod-%07d", i%100, i)
		if _, err := kv.Put(ctx, e, keys[i], []byte("v")); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := e.Range(ctx, kv.RangeRequest{Key: keys[i*7919%n]}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompact compacts 100k revisions of 10k keys and reports, as
// batch-ms, the mean time one batch held the write lock (from
// etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds): about
// the longest a writer waits for a compaction, where ns/op is the whole
// compaction, which writers used to wait out.
func BenchmarkCompact(b *testing.B) {
	ctx := context.Background()
	var sum float64
	var count uint64
	for range b.N {
		b.StopTimer()
		reg := prometheus.NewRegistry()
		e := mvcc.New(mvcc.Options{Metrics: prommetrics.New(reg)})
		for v := range 10 {
			for lo := 0; lo < 10_000; lo += 100 {
				ops := make([]kv.Op, 0, 100)
				for i := lo; i < lo+100; i++ {
					ops = append(ops, kv.OpPutKV(fmt.Sprintf("/registry/pods/ns%03d/pod-%07d", i%100, i), []byte(fmt.Sprint(v))))
				}
				if _, err := e.Txn(ctx, kv.TxnRequest{Success: ops}); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.StartTimer()
		if err := e.Compact(ctx, e.Revision()-1); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		mfs, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds" {
				h := mf.GetMetric()[0].GetHistogram()
				sum += h.GetSampleSum()
				count += h.GetSampleCount()
			}
		}
		e.Close()
	}
	b.ReportMetric(sum/float64(max(count, 1)), "batch-ms")
}
