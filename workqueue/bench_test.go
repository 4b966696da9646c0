package workqueue

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkQueue runs Add→Get→Done in batches of 64 distinct keys on one
// goroutine, for the plain FIFO path and with priorities and fair sharing
// on, so that the cost of the extras is visible next to the plain path.
// The comparisons with client-go and controller-runtime are in the
// benchmarks module.
func BenchmarkQueue(b *testing.B) {
	keys := make([]string, 1<<14)
	for i := range keys {
		keys[i] = fmt.Sprintf("ns-%02d/pod-%06d", i%16, i)
	}
	modes := []struct {
		name string
		opts Options[string]
		prio func(i int) int
	}{
		{"fifo", Options[string]{}, nil},
		{"priority", Options[string]{}, func(i int) int { return []int{0, -100, 0, 10}[i&3] }},
		{"fair", Options[string]{Tenant: func(k string) string { return k[:5] }}, nil},
	}
	for _, m := range modes {
		b.Run("mode="+m.name, func(b *testing.B) {
			q := New(m.opts)
			defer q.ShutDown()
			b.ReportAllocs()
			for i := 0; i < b.N; i += 64 {
				for j := range 64 {
					k := keys[(i+j)&(len(keys)-1)]
					if m.prio != nil {
						q.AddWithPriority(k, m.prio(j))
					} else {
						q.Add(k)
					}
				}
				for range 64 {
					k, _ := q.Get()
					q.Done(k)
				}
			}
		})
	}
}

// BenchmarkAddAfter absorbs 100k delayed items into a fresh queue.
func BenchmarkAddAfter(b *testing.B) {
	const batch = 100_000
	keys := make([]string, batch)
	for i := range keys {
		keys[i] = fmt.Sprintf("ns-%02d/pod-%06d", i%16, i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		q := New(Options[string]{})
		for i := range min(batch, b.N-done) {
			q.AddAfter(keys[i], time.Hour+time.Duration(i*7919%batch)*time.Millisecond)
		}
		b.StopTimer()
		q.ShutDown()
		b.StartTimer()
	}
}
