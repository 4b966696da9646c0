package benchmarks

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
)

// Watch fan-out of Governor's engine: watchers on one prefix, one writer.
// Each value carries the time of its write; every watcher records the
// write→delivery latency of every event it gets in a histogram.
//
//	go test -run '^$' -bench 'BenchmarkWatchFanout' -count 6 -benchtime 10000x
//
// mode=throughput: the writer writes b.N puts flat out; ns/op is the
// writer's cost per put, the latency includes the queueing that causes.
// mode=latency: one put at a time, the next once every watcher has the
// previous one; the latency is the delivery latency of an unloaded engine.
// mode=paced1k, paced2k: puts at a steady 1000 or 2000 a second, whatever
// the watchers do; the latency is the delivery latency at a steady write
// rate (writes/s is then just the pace). On 2 cores one fan-out to 1000
// watchers takes about 0.5 ms, so 2000 puts a second is where rounds start
// to overlap and queue.

// latencyHist is a log-linear histogram of microseconds: 8 buckets per
// power of two, so a bucket is at most 12.5% wide.
type latencyHist [64 * 8]int64

func latencyBucket(d time.Duration) int {
	us := uint64(max(d, 0) / time.Microsecond)
	if us < 8 {
		return int(us)
	}
	n := bits.Len64(us) // us is in [2^(n-1), 2^n)
	mantissa := int(us>>(n-4)) & 7
	return min(n*8+mantissa, len(latencyHist{})-1)
}

// bucketValue returns the lower bound of bucket b.
func bucketValue(b int) time.Duration {
	if b < 8 {
		return time.Duration(b) * time.Microsecond
	}
	n, mantissa := b/8, b%8
	return time.Duration(uint64(8+mantissa)<<(n-4)) * time.Microsecond
}

func (h *latencyHist) add(o *latencyHist) {
	for i := range h {
		h[i] += o[i]
	}
}

func (h *latencyHist) quantile(q float64) time.Duration {
	var total int64
	for _, n := range h {
		total += n
	}
	want := int64(math.Ceil(q * float64(total)))
	var seen int64
	for b, n := range h {
		seen += n
		if seen >= want && n > 0 {
			return bucketValue(b)
		}
	}
	return 0
}

func BenchmarkWatchFanout(b *testing.B) {
	b.Run("watchers=0/mode=throughput", func(b *testing.B) { benchFanout(b, 0, false, 0) })
	b.Run("watchers=1000/mode=throughput", func(b *testing.B) { benchFanout(b, 1000, false, 0) })
	b.Run("watchers=1000/mode=latency", func(b *testing.B) { benchFanout(b, 1000, true, 0) })
	b.Run("watchers=1000/mode=paced1k", func(b *testing.B) { benchFanout(b, 1000, false, time.Second/1000) })
	b.Run("watchers=1000/mode=paced2k", func(b *testing.B) { benchFanout(b, 1000, false, time.Second/2000) })
}

// benchFanout runs b.N puts under watchers watchers: one at a time when
// pingPong, one every pace when pace > 0, else flat out.
func benchFanout(b *testing.B, watchers int, pingPong bool, pace time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := mvcc.New(mvcc.Options{WatchBufferSize: 256})
	defer e.Close()
	const prefix = "/registry/pods/"
	base := time.Now()

	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		hist      latencyHist
		delivered atomic.Int64 // watchers that have the current target
		target    atomic.Int64 // revision every watcher must reach
		reached   = make(chan struct{}, 1)
		failures  atomic.Int64
	)
	for range watchers {
		ch, err := e.Watch(ctx, kv.WatchRequest{Key: prefix, End: kv.PrefixEnd(prefix)})
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local latencyHist
			var last, signalled int64
			for resp := range ch {
				if resp.Err != nil {
					failures.Add(1)
					continue
				}
				now := time.Since(base)
				for _, ev := range resp.Events {
					sent := time.Duration(binary.LittleEndian.Uint64(ev.KV.Value))
					local[latencyBucket(now-sent)]++
					if ev.KV.ModRevision != last+1 && last != 0 {
						failures.Add(1)
					}
					last = ev.KV.ModRevision
				}
				if t := target.Load(); t > 0 && last >= t && signalled != t {
					signalled = t
					if delivered.Add(1) == int64(watchers) {
						reached <- struct{}{}
					}
				}
			}
			mu.Lock()
			hist.add(&local)
			mu.Unlock()
		}()
	}
	value := make([]byte, 256)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("%sns/pod-%04d", prefix, i)
	}
	wait := func() {
		select {
		case <-reached:
		case <-time.After(time.Minute):
			b.Fatalf("events not delivered to every watcher within a minute")
		}
	}
	put := func(i int) int64 {
		binary.LittleEndian.PutUint64(value, uint64(time.Since(base)))
		rev, err := kv.Put(ctx, e, keys[i%len(keys)], value)
		if err != nil {
			b.Fatal(err)
		}
		return rev
	}
	if !pingPong {
		// Revisions are consecutive: the last put lands at this one.
		target.Store(e.Revision() + int64(b.N))
	}
	var tick <-chan time.Time
	if pace > 0 {
		t := time.NewTicker(pace)
		defer t.Stop()
		tick = t.C
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if tick != nil {
			<-tick
		}
		if pingPong && watchers > 0 {
			delivered.Store(0)
			target.Store(e.Revision() + 1)
			put(i)
			wait()
			continue
		}
		put(i)
	}
	writerTime := time.Since(start)
	b.StopTimer()
	if !pingPong && watchers > 0 {
		wait()
	}
	cancel()
	wg.Wait()
	if failures.Load() > 0 {
		b.Fatalf("%d gaps or errors", failures.Load())
	}
	b.ReportMetric(float64(b.N)/writerTime.Seconds(), "writes/s")
	if watchers > 0 {
		var total int64
		for _, n := range hist {
			total += n
		}
		if total != int64(b.N)*int64(watchers) {
			b.Fatalf("delivered %d events, want %d", total, int64(b.N)*int64(watchers))
		}
		b.ReportMetric(float64(hist.quantile(0.5).Microseconds()), "p50-µs")
		b.ReportMetric(float64(hist.quantile(0.99).Microseconds()), "p99-µs")
	}
}

// BenchmarkChannelFanoutFloor is the floor under mode=latency on this
// machine: no engine, one goroutine sends one response to each of 1000
// goroutines parked on their own buffered channels (of the engine's
// response type) and waits until all have it. Each consumer does what the
// fan-out benchmark's do: read the clock, bucket the latency, count.
//
//	go test -run '^$' -bench 'BenchmarkChannelFanoutFloor' -count 6 -benchtime 10000x
func BenchmarkChannelFanoutFloor(b *testing.B) {
	const watchers = 1000
	base := time.Now()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		hist    latencyHist
		sent    atomic.Int64
		got     atomic.Int64
		reached = make(chan struct{}, 1)
	)
	chs := make([]chan kv.WatchResponse, watchers)
	for i := range chs {
		chs[i] = make(chan kv.WatchResponse, 256)
		wg.Add(1)
		go func(ch chan kv.WatchResponse) {
			defer wg.Done()
			var local latencyHist
			for range ch {
				local[latencyBucket(time.Since(base)-time.Duration(sent.Load()))]++
				if got.Add(1) == watchers {
					reached <- struct{}{}
				}
			}
			mu.Lock()
			hist.add(&local)
			mu.Unlock()
		}(chs[i])
	}
	b.ResetTimer()
	for i := range b.N {
		got.Store(0)
		sent.Store(int64(time.Since(base)))
		for _, ch := range chs {
			ch <- kv.WatchResponse{Revision: int64(i)}
		}
		select {
		case <-reached:
		case <-time.After(time.Minute):
			b.Fatal("not delivered within a minute")
		}
	}
	b.StopTimer()
	for _, ch := range chs {
		close(ch)
	}
	wg.Wait()
	b.ReportMetric(float64(hist.quantile(0.5).Microseconds()), "p50-µs")
	b.ReportMetric(float64(hist.quantile(0.99).Microseconds()), "p99-µs")
}
