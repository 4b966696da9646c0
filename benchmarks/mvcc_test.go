package benchmarks

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// Storage engine benchmarks: Governor's in-memory MVCC engine against
// etcd's in-process MVCC store on bbolt, in the same run, through
// mvccStore. Compare with benchstat on the impl= key.
//
//	go test -run '^$' -bench 'BenchmarkMVCC' -count 6 -benchtime 20000x

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

// warmHeapOnce makes the process map the pages a storage benchmark grows
// into before the first sub-benchmark runs. Without it, whichever
// implementation runs first pays the page faults of growing the heap and
// the ones after it reuse the pages it left behind.
var warmHeapOnce sync.Once

// warmHeap warms the heap once for the process. It does not collect
// before each sub-benchmark: a store under load runs with the heap goal
// its history has set, not with a freshly collected heap, and a forced
// collection would only make the implementation that keeps more on the Go
// heap (ours; etcd keeps its values in bbolt's mmap) collect more often.
func warmHeap() {
	warmHeapOnce.Do(func() {
		keep := make([][]byte, 0, 1<<18)
		for range 1 << 18 { // 256k blocks of 512 B: 128 MiB
			keep = append(keep, make([]byte, 512))
		}
		runtime.KeepAlive(keep)
	})
}

// runWriters splits b.N operations across writers goroutines; op gets the
// writer number and the operation number within it.
func runWriters(b *testing.B, writers int, op func(w, i int)) {
	var wg sync.WaitGroup
	per := b.N / writers
	for w := range writers {
		n := per
		if w == writers-1 {
			n = b.N - per*(writers-1)
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
				warmHeap()
				s := impl.new(b)
				defer s.close()
				keys := make([][]byte, benchKeys)
				for i := range keys {
					keys[i] = benchKey(i)
				}
				value := benchValue(0)
				b.ReportAllocs()
				b.ResetTimer()
				runWriters(b, writers, func(w, i int) {
					s.put(keys[(w*7919+i*writers)%benchKeys], value)
				})
				b.StopTimer()
				s.commit()
			})
		}
	}
}

// BenchmarkMVCCTxn measures compare-and-swap transactions (one ModRevision
// compare, one put), each writer updating its own keys so that every
// compare holds.
func BenchmarkMVCCTxn(b *testing.B) {
	for _, writers := range []int{1, 8} {
		for _, impl := range mvccImpls {
			b.Run(fmt.Sprintf("writers=%d/impl=%s", writers, impl.name), func(b *testing.B) {
				warmHeap()
				s := impl.new(b)
				defer s.close()
				const perWriter = 1000
				keys := make([][]byte, writers*perWriter)
				mods := make([]int64, len(keys))
				for i := range keys {
					keys[i] = benchKey(i)
				}
				value := benchValue(1)
				b.ReportAllocs()
				b.ResetTimer()
				runWriters(b, writers, func(w, i int) {
					k := w*perWriter + i%perWriter
					rev := s.cas(keys[k], value, mods[k])
					if rev == 0 {
						panic("compare failed")
					}
					mods[k] = rev
				})
				b.StopTimer()
				s.commit()
			})
		}
	}
}

// BenchmarkMVCCRange100k reads all of 100k keys with 256-byte values in one
// Range.
func BenchmarkMVCCRange100k(b *testing.B) {
	for _, impl := range mvccImpls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			s := impl.new(b)
			defer s.close()
			value := benchValue(2)
			for i := range benchKeys {
				s.put(benchKey(i), value)
			}
			s.commit()
			start, end := []byte("/registry/pods/"), []byte("/registry/pods0")
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if n := s.rangeAll(start, end); n != benchKeys {
					b.Fatalf("read %d keys, want %d", n, benchKeys)
				}
			}
		})
	}
}

// BenchmarkMVCCMemoryPerKey stores b.N keys with 256-byte values and reports
// the memory per key: Go heap (live bytes after GC), and total (heap plus
// etcd's bbolt pages in use, which live in its memory-mapped file).
func BenchmarkMVCCMemoryPerKey(b *testing.B) {
	for _, impl := range mvccImpls {
		b.Run("impl="+impl.name, func(b *testing.B) {
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
	}
}
