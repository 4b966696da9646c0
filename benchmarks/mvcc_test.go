package benchmarks

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// Storage engine benchmarks: Governor's in-memory MVCC engine against
// etcd's in-process MVCC store on bbolt, through mvccStore. Compare with
// benchstat on the impl= key.
//
// Each sub-benchmark runs in its own process (inOwnProcess), so that
// neither side inherits the heap, the heap goal or the mapped pages the
// other left behind, whatever the order they run in. Each starts from a
// preloaded steady state: 100k keys already stored, then a pass of the
// same operations it measures, then a collection, before the timer starts.
// Next to ns/op each reports gc-cpu-ns/op, the garbage collector's CPU time
// per operation, which a short run can miss or double.
//
// impl=etcd runs etcd's backend without fsync (etcd's --unsafe-no-fsync),
// like for like with our engine, which does no I/O; impl=etcd-durable is
// etcd with fsync on, a comparison of in memory with durable.
//
//	go test -run '^$' -bench 'BenchmarkMVCC(Put|Txn)$' -count 6 -benchtime 300000x

const (
	benchKeys  = 100_000
	valueBytes = 256
)

func benchKey(i int) []byte { return fmt.Appendf(nil, "/registry/pods/ns%03d/pod-%07d", i%100, i) }

func benchValue(i int) []byte {
	v := make([]byte, valueBytes)
	for j := range v {
		v[j] = byte('a' + (i+j)%26)
	}
	return v
}

// preload stores benchKeys keys in s, each created by a compare-and-swap
// on its absence, commits, and returns the keys and their mod revisions.
func preload(s mvccStore) (keys [][]byte, mods []int64) {
	keys = make([][]byte, benchKeys)
	mods = make([]int64, benchKeys)
	value := benchValue(3)
	for i := range keys {
		keys[i] = benchKey(i)
		if mods[i] = s.cas(keys[i], value, 0); mods[i] == 0 {
			panic("preload: create failed")
		}
	}
	s.commit()
	return keys, mods
}

// settle commits what the warm-up wrote and collects, so that every side
// starts its timed part with the same kind of heap: its live data and the
// goal the collector derives from it.
func settle(s mvccStore) {
	s.commit()
	runtime.GC()
}

// runWritersN splits total operations across writers goroutines; op gets
// the writer number and the operation number within it.
func runWritersN(total, writers int, op func(w, i int)) {
	var wg sync.WaitGroup
	per := total / writers
	for w := range writers {
		n := per
		if w == writers-1 {
			n = total - per*(writers-1)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				op(w, i)
			}
		}()
	}
	wg.Wait()
}

// BenchmarkMVCCPut measures unconditional puts of 256-byte values over a
// key space of 100k keys (so history grows as keys are overwritten).
func BenchmarkMVCCPut(b *testing.B) {
	for _, writers := range []int{1, 8} {
		for _, impl := range mvccImpls {
			b.Run(fmt.Sprintf("writers=%d/impl=%s", writers, impl.name), func(b *testing.B) {
				inOwnProcess(b, func(b *testing.B) {
					s := impl.new(b)
					defer s.close()
					keys, _ := preload(s)
					value := benchValue(0)
					op := func(w, i int) { s.put(keys[(w*7919+i*writers)%benchKeys], value) }
					runWritersN(benchKeys, writers, op)
					settle(s)
					b.ReportAllocs()
					b.ResetTimer()
					gc := startGCCPU()
					runWritersN(b.N, writers, op)
					s.commit()
					b.StopTimer()
					gc.report(b)
				})
			})
		}
	}
}

// BenchmarkMVCCTxn measures compare-and-swap transactions (one ModRevision
// compare, one put), each writer updating its own 1000 keys so that every
// compare holds.
func BenchmarkMVCCTxn(b *testing.B) {
	for _, writers := range []int{1, 8} {
		for _, impl := range mvccImpls {
			b.Run(fmt.Sprintf("writers=%d/impl=%s", writers, impl.name), func(b *testing.B) {
				inOwnProcess(b, func(b *testing.B) {
					s := impl.new(b)
					defer s.close()
					const perWriter = 1000
					keys, mods := preload(s)
					value := benchValue(1)
					op := func(w, i int) {
						k := w*perWriter + i%perWriter
						rev := s.cas(keys[k], value, mods[k])
						if rev == 0 {
							panic("compare failed")
						}
						mods[k] = rev
					}
					runWritersN(writers*perWriter, writers, op)
					settle(s)
					b.ReportAllocs()
					b.ResetTimer()
					gc := startGCCPU()
					runWritersN(b.N, writers, op)
					s.commit()
					b.StopTimer()
					gc.report(b)
				})
			})
		}
	}
}

// BenchmarkMVCCRange100k reads all of 100k keys with 256-byte values in one
// Range.
func BenchmarkMVCCRange100k(b *testing.B) {
	for _, impl := range mvccImpls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			inOwnProcess(b, func(b *testing.B) {
				s := impl.new(b)
				defer s.close()
				preload(s)
				start, end := []byte("/registry/pods/"), []byte("/registry/pods0")
				rangeAll := func() {
					if n := s.rangeAll(start, end); n != benchKeys {
						b.Fatalf("read %d keys, want %d", n, benchKeys)
					}
				}
				rangeAll()
				settle(s)
				b.ReportAllocs()
				b.ResetTimer()
				gc := startGCCPU()
				for range b.N {
					rangeAll()
				}
				b.StopTimer()
				gc.report(b)
			})
		})
	}
}

// BenchmarkMVCCMemoryPerKey stores b.N keys with 256-byte values and reports
// the memory per key: Go heap (live bytes after GC), and total (heap plus
// etcd's bbolt pages in use, which live in its memory-mapped file).
func BenchmarkMVCCMemoryPerKey(b *testing.B) {
	for _, impl := range mvccImpls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			inOwnProcess(b, func(b *testing.B) {
				keys := make([][]byte, b.N)
				values := make([][]byte, b.N)
				for i := range keys {
					keys[i] = benchKey(i)
					values[i] = benchValue(i)
				}
				s := impl.new(b)
				defer s.close()
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				offBefore := s.offHeapBytes()
				b.ResetTimer()
				for i := range b.N {
					s.put(keys[i], values[i])
				}
				s.commit()
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&after)
				heap := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(b.N)
				off := float64(s.offHeapBytes()-offBefore) / float64(b.N)
				b.ReportMetric(heap, "heap-B/key")
				b.ReportMetric(heap+off, "total-B/key")
				runtime.KeepAlive(keys)
				runtime.KeepAlive(values)
			})
		})
	}
}
