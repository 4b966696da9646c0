package benchmarks

import (
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	cgworkqueue "k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"

	"github.com/governor-io/governor/workqueue"
	"github.com/governor-io/governor/workqueue/prommetrics"
)

// Workqueue benchmarks: Governor's workqueue against client-go's typed
// workqueue (v0.37) and controller-runtime's priority queue (v0.25), in the
// same run, through wqQueue. Compare with benchstat on the impl= key:
//
//	go test -run '^$' -bench 'BenchmarkWorkqueue' -count 6 -benchtime 300000x
//
// Keys are strings shaped like namespace/name, built before the timer
// starts, so that a benchmark measures the queue and not the key.
//
// Metrics: the client-go comparisons run without metrics on both sides
// (client-go keeps none for a queue without a name, ours none without a
// MetricsProvider). The controller-runtime comparison runs both ways,
// metrics=off and metrics=on, each with the same setting on both sides.

// wqQueue is what every implementation offers.
type wqQueue interface {
	Add(key string)
	Get() (string, bool)
	Done(key string)
	ShutDown()
}

// wqPrioQueue adds priorities.
type wqPrioQueue interface {
	wqQueue
	AddWithPriority(key string, priority int)
}

// wqDelayQueue adds delays.
type wqDelayQueue interface {
	AddAfter(key string, d time.Duration)
	ShutDown()
}

type crQueue struct {
	priorityqueue.PriorityQueue[string]
}

func (q crQueue) AddWithPriority(key string, p int) {
	q.AddWithOpts(priorityqueue.AddOpts{Priority: &p}, key)
}

// cpuClock measures the CPU time the process uses (all goroutines, the
// garbage collector included) between start and stop, and reports it per
// op as cpu-ns/op. On a shared, loaded machine wall time mostly measures
// the scheduler; CPU time still measures the work each queue does.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{processCPU()} }

func (c cpuClock) report(b *testing.B) {
	b.ReportMetric(float64(processCPU()-c.start)/float64(b.N), "cpu-ns/op")
}

var (
	wqKeysMu sync.Mutex
	wqKeys   []string
)

// wqKeyPool returns at least n distinct keys over 16 namespaces.
func wqKeyPool(n int) []string {
	wqKeysMu.Lock()
	defer wqKeysMu.Unlock()
	for i := len(wqKeys); i < n; i++ {
		wqKeys = append(wqKeys, fmt.Sprintf("ns-%02d/pod-%08d", i%16, i))
	}
	return wqKeys
}

// runProducersConsumers adds b.N distinct keys from producers goroutines
// while consumers goroutines Get and Done them; it returns when all b.N
// were processed. A warm-up pass first takes the same keys through the
// queue, so that the timed part sees the queue's steady state rather than
// the growth of its buffers and maps.
func runProducersConsumers(b *testing.B, q wqQueue, producers, consumers int, add func(key string, i int)) {
	keys := wqKeyPool(b.N)
	for i := range b.N {
		add(keys[i], i)
	}
	for range b.N {
		k, _ := q.Get()
		q.Done(k)
	}
	var processed atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	for range consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k, shutdown := q.Get()
				if shutdown {
					return
				}
				q.Done(k)
				if processed.Add(1) == int64(b.N) {
					q.ShutDown()
				}
			}
		}()
	}
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := p; i < b.N; i += producers {
				add(keys[i], i)
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	cpu.report(b)
}

var wqShapes = []struct{ producers, consumers int }{{1, 1}, {4, 4}}

// BenchmarkWorkqueueUnique is Add→Get→Done of distinct keys (no priority).
func BenchmarkWorkqueueUnique(b *testing.B) {
	impls := []struct {
		name string
		new  func() wqQueue
	}{
		{"governor", func() wqQueue { return workqueue.New(workqueue.Options[string]{}) }},
		{"clientgo", func() wqQueue { return cgworkqueue.NewTyped[string]() }},
	}
	for _, shape := range wqShapes {
		for _, impl := range impls {
			b.Run(fmt.Sprintf("pc=%dx%d/impl=%s", shape.producers, shape.consumers, impl.name), func(b *testing.B) {
				q := impl.new()
				runProducersConsumers(b, q, shape.producers, shape.consumers, func(k string, _ int) { q.Add(k) })
			})
		}
	}
}

// BenchmarkWorkqueueAddQueued is Add of a key that is already queued.
func BenchmarkWorkqueueAddQueued(b *testing.B) {
	impls := []struct {
		name string
		new  func() wqQueue
	}{
		{"governor", func() wqQueue { return workqueue.New(workqueue.Options[string]{}) }},
		{"clientgo", func() wqQueue { return cgworkqueue.NewTyped[string]() }},
	}
	keys := wqKeyPool(1024)
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			q := impl.new()
			defer q.ShutDown()
			for _, k := range keys[:1024] {
				q.Add(k)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			for i := range b.N {
				q.Add(keys[i&1023])
			}
			b.StopTimer()
			cpu.report(b)
		})
	}
}

// BenchmarkWorkqueueAddAfter absorbs batches of 100k distinct keys with
// random delays of an hour or more into a fresh queue; one op is one
// AddAfter, so B/op is the memory per delayed item.
func BenchmarkWorkqueueAddAfter(b *testing.B) {
	const batch = 100_000
	impls := []struct {
		name string
		new  func() wqDelayQueue
	}{
		{"governor", func() wqDelayQueue { return workqueue.New(workqueue.Options[string]{}) }},
		{"clientgo", func() wqDelayQueue {
			return cgworkqueue.NewTypedRateLimitingQueue(cgworkqueue.DefaultTypedControllerRateLimiter[string]())
		}},
	}
	keys := wqKeyPool(batch)
	rng := rand.New(rand.NewSource(1))
	delays := make([]time.Duration, batch)
	for i := range delays {
		delays[i] = time.Hour + time.Duration(rng.Int63n(int64(time.Hour)))
	}
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			b.ResetTimer()
			var cpuUsed time.Duration
			for done := 0; done < b.N; {
				cpu := startCPU()
				n := min(batch, b.N-done)
				q := impl.new()
				for i := range n {
					q.AddAfter(keys[i], delays[i])
				}
				b.StopTimer()
				cpuUsed += processCPU() - cpu.start
				q.ShutDown()
				b.StartTimer()
				done += n
			}
			b.ReportMetric(float64(cpuUsed)/float64(b.N), "cpu-ns/op")
		})
	}
}

// wqMetrics says whether the queues of a comparison report Prometheus
// metrics: all of them or none, so that no side pays for metrics the other
// does not keep.
type wqMetrics string

const (
	// wqMetricsOff: no queue keeps metrics. Ours has no MetricsProvider;
	// controller-runtime's priority queue gets an empty name, for which it
	// keeps none.
	wqMetricsOff wqMetrics = "off"
	// wqMetricsOn: every queue keeps client-go's workqueue metrics on a
	// Prometheus registry. Ours through workqueue/prommetrics on a registry
	// of its own; controller-runtime's priority queue through its default
	// provider, on controller-runtime's registry, as in a manager.
	wqMetricsOn wqMetrics = "on"
)

var wqMetricsModes = []wqMetrics{wqMetricsOff, wqMetricsOn}

// wqBenchName names the queues of the benchmarks that keep metrics.
const wqBenchName = "bench"

// newGovernorQueue returns our queue and, when m is wqMetricsOn, the fresh
// registry its metrics are on (nil when off).
func newGovernorQueue(tb testing.TB, m wqMetrics, opts workqueue.Options[string]) (*workqueue.Queue[string], *prometheus.Registry) {
	if m != wqMetricsOn {
		return workqueue.New(opts), nil
	}
	reg := prometheus.NewRegistry()
	p, err := prommetrics.New(reg)
	if err != nil {
		tb.Fatal(err)
	}
	opts.Name, opts.Metrics = wqBenchName, p
	return workqueue.New(opts), reg
}

// newCRPriorityQueue returns controller-runtime's priority queue, with its
// default metrics when m is wqMetricsOn. Without a name it keeps none.
func newCRPriorityQueue(m wqMetrics) crQueue {
	name := ""
	if m == wqMetricsOn {
		name = wqBenchName
	}
	return crQueue{priorityqueue.New[string](name)}
}

// BenchmarkWorkqueuePriority is Add→Get→Done of distinct keys with mixed
// priorities (a quarter of them low, as an initial list, an eighth high),
// against controller-runtime's priority queue, with metrics off on both
// sides and on on both sides.
func BenchmarkWorkqueuePriority(b *testing.B) {
	impls := []struct {
		name string
		new  func(testing.TB, wqMetrics) wqPrioQueue
	}{
		{"governor", func(tb testing.TB, m wqMetrics) wqPrioQueue {
			q, _ := newGovernorQueue(tb, m, workqueue.Options[string]{})
			return q
		}},
		{"controllerruntime", func(_ testing.TB, m wqMetrics) wqPrioQueue { return newCRPriorityQueue(m) }},
	}
	prios := make([]int, 1024)
	rng := rand.New(rand.NewSource(2))
	for i := range prios {
		switch r := rng.Intn(8); {
		case r < 2:
			prios[i] = -100
		case r == 2:
			prios[i] = 10
		}
	}
	for _, m := range wqMetricsModes {
		for _, shape := range wqShapes {
			for _, impl := range impls {
				b.Run(fmt.Sprintf("metrics=%s/pc=%dx%d/impl=%s", m, shape.producers, shape.consumers, impl.name), func(b *testing.B) {
					q := impl.new(b, m)
					runProducersConsumers(b, q, shape.producers, shape.consumers, func(k string, i int) {
						q.AddWithPriority(k, prios[i&1023])
					})
				})
			}
		}
	}
}
