package benchmarks

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	crevent "sigs.k8s.io/controller-runtime/pkg/event"
	crhandler "sigs.k8s.io/controller-runtime/pkg/handler"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"
	crreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"
	crsource "sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/governor-io/governor/reconcile"
	reconcileprom "github.com/governor-io/governor/reconcile/prommetrics"
	"github.com/governor-io/governor/workqueue/prommetrics"
)

// reconcileKeys is the batch of distinct keys each benchmark op pushes
// through a controller.
const reconcileKeys = 10_000

// reconcileTarget is a running controller with a no-op reconciler, fed by a
// channel source: the one interface both implementations are driven
// through. push sends key i to the source; reconciled counts reconciles.
type reconcileTarget interface {
	push(i int)
	stop()
}

// reconcileCounter counts reconciles and signals when a wanted total is reached.
type reconcileCounter struct {
	n    atomic.Int64
	want atomic.Int64
	done chan struct{}
}

func (c *reconcileCounter) hit() {
	if c.n.Add(1) == c.want.Load() {
		c.done <- struct{}{}
	}
}

// governorTarget runs our controller over a channel source.
type governorTarget struct {
	ch     chan reconcile.Request
	keys   []reconcile.Request
	cancel context.CancelFunc
	exited chan error
}

// governorReconcileOptions returns our controller's options for the
// benchmark. Its controller metrics are always counted, as
// controller-runtime's are (on a fresh Prometheus registry that nobody
// scrapes: the cost is the same); with m on, the queue's metrics are
// registered there too.
func governorReconcileOptions(tb testing.TB, workers int, m wqMetrics) reconcile.Options[reconcile.Request] {
	opts := reconcile.Options[reconcile.Request]{Name: "bench", Workers: workers}
	reg := prometheus.NewRegistry()
	met, err := reconcileprom.New(reg)
	if err != nil {
		tb.Fatal(err)
	}
	opts.Metrics = met
	if m == wqMetricsOn {
		qm, err := prommetrics.New(reg)
		if err != nil {
			tb.Fatal(err)
		}
		opts.QueueMetrics = qm
	}
	return opts
}

func newGovernorTarget(b *testing.B, workers int, m wqMetrics, c *reconcileCounter) reconcileTarget {
	r := reconcile.Func[reconcile.Request](func(context.Context, reconcile.Request) (reconcile.Result, error) {
		c.hit()
		return reconcile.Done(), nil
	})
	ctrl, err := reconcile.New[reconcile.Request](r, governorReconcileOptions(b, workers, m))
	if err != nil {
		b.Fatal(err)
	}
	t := &governorTarget{ch: make(chan reconcile.Request, 1024), exited: make(chan error, 1)}
	for i := range reconcileKeys {
		t.keys = append(t.keys, reconcile.Request{Namespace: "default", Name: "obj-" + strconv.Itoa(i)})
	}
	if err := ctrl.Watch(reconcile.Channel(t.ch)); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	go func() { t.exited <- ctrl.Start(ctx) }()
	return t
}

func (t *governorTarget) push(i int) { t.ch <- t.keys[i] }
func (t *governorTarget) stop() {
	t.cancel()
	<-t.exited
}

// crTarget runs a controller-runtime controller over its channel source.
type crTarget struct {
	ch     chan crevent.TypedGenericEvent[crreconcile.Request]
	keys   []crevent.TypedGenericEvent[crreconcile.Request]
	cancel context.CancelFunc
	exited chan error
}

// crReconcileOptions returns controller-runtime's controller options for
// the benchmark. Its controller metrics are always on (it has no way to
// turn them off); with m off, NewQueue builds the same queue it would by
// default, but without a name, for which neither its priority queue nor
// client-go's queue keeps metrics.
func crReconcileOptions(workers int, priorityQueue bool, m wqMetrics) crcontroller.TypedOptions[crreconcile.Request] {
	skip := true
	opts := crcontroller.TypedOptions[crreconcile.Request]{
		MaxConcurrentReconciles: workers, SkipNameValidation: &skip,
		UsePriorityQueue: &priorityQueue,
		RateLimiter:      workqueue.DefaultTypedControllerRateLimiter[crreconcile.Request](),
	}
	if m == wqMetricsOff {
		opts.NewQueue = func(_ string, rl workqueue.TypedRateLimiter[crreconcile.Request]) workqueue.TypedRateLimitingInterface[crreconcile.Request] {
			if priorityQueue {
				return priorityqueue.New("", func(o *priorityqueue.Opts[crreconcile.Request]) { o.RateLimiter = rl })
			}
			return workqueue.NewTypedRateLimitingQueueWithConfig(rl, workqueue.TypedRateLimitingQueueConfig[crreconcile.Request]{})
		}
	}
	return opts
}

func newCRTarget(b *testing.B, workers int, priorityQueue bool, m wqMetrics, c *reconcileCounter) reconcileTarget {
	crlog.SetLogger(logr.Discard())
	r := crreconcile.TypedFunc[crreconcile.Request](func(context.Context, crreconcile.Request) (crreconcile.Result, error) {
		c.hit()
		return crreconcile.Result{}, nil
	})
	opts := crReconcileOptions(workers, priorityQueue, m)
	opts.Reconciler = r
	ctrl, err := crcontroller.NewTypedUnmanaged[crreconcile.Request]("bench", opts)
	if err != nil {
		b.Fatal(err)
	}
	t := &crTarget{ch: make(chan crevent.TypedGenericEvent[crreconcile.Request], 1024), exited: make(chan error, 1)}
	for i := range reconcileKeys {
		t.keys = append(t.keys, crevent.TypedGenericEvent[crreconcile.Request]{Object: crreconcile.Request{
			NamespacedName: types.NamespacedName{Namespace: "default", Name: "obj-" + strconv.Itoa(i)}}})
	}
	h := crhandler.TypedFuncs[crreconcile.Request, crreconcile.Request]{
		GenericFunc: func(_ context.Context, e crevent.TypedGenericEvent[crreconcile.Request], q workqueue.TypedRateLimitingInterface[crreconcile.Request]) {
			q.Add(e.Object)
		},
	}
	if err := ctrl.Watch(crsource.TypedChannel[crreconcile.Request, crreconcile.Request](t.ch, h)); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	go func() { t.exited <- ctrl.Start(ctx) }()
	return t
}

func (t *crTarget) push(i int) { t.ch <- t.keys[i] }
func (t *crTarget) stop() {
	t.cancel()
	<-t.exited
}

// BenchmarkReconcile measures reconciles per second of a no-op reconciler:
// each op pushes 10k distinct keys through a channel source and waits until
// all are reconciled. ns/op is per batch; the reported reconciles/s and
// allocs/reconcile are per reconcile. metrics=off and metrics=on set the
// queue metrics the same way on both sides (see governorReconcileOptions
// and crReconcileOptions); controller metrics are counted on both sides in
// both modes.
//
//	go test -run '^$' -bench BenchmarkReconcile -count 6 -benchtime 20x
func BenchmarkReconcile(b *testing.B) {
	impls := []struct {
		name string
		mk   func(b *testing.B, workers int, m wqMetrics, c *reconcileCounter) reconcileTarget
	}{
		{"governor", newGovernorTarget},
		{"controllerruntime-priorityqueue", func(b *testing.B, w int, m wqMetrics, c *reconcileCounter) reconcileTarget {
			return newCRTarget(b, w, true, m, c)
		}},
		{"controllerruntime-fifo", func(b *testing.B, w int, m wqMetrics, c *reconcileCounter) reconcileTarget {
			return newCRTarget(b, w, false, m, c)
		}},
	}
	for _, m := range wqMetricsModes {
		for _, workers := range []int{1, 4, 16} {
			for _, impl := range impls {
				b.Run(fmt.Sprintf("metrics=%s/workers=%d/impl=%s", m, workers, impl.name), func(b *testing.B) {
					c := &reconcileCounter{done: make(chan struct{}, 1)}
					t := impl.mk(b, workers, m, c)
					defer t.stop()
					// Warm up: one batch before measuring.
					run := func() {
						c.want.Add(reconcileKeys)
						for i := range reconcileKeys {
							t.push(i)
						}
						select {
						case <-c.done:
						case <-time.After(time.Minute):
							b.Fatalf("batch not reconciled: %d of %d", c.n.Load(), c.want.Load())
						}
					}
					run()
					var before, after runtime.MemStats
					runtime.ReadMemStats(&before)
					b.ReportAllocs()
					b.ResetTimer()
					for b.Loop() {
						run()
					}
					b.StopTimer()
					runtime.ReadMemStats(&after)
					total := float64(b.N) * reconcileKeys
					b.ReportMetric(total/b.Elapsed().Seconds(), "reconciles/s")
					b.ReportMetric(float64(after.Mallocs-before.Mallocs)/total, "allocs/reconcile")
				})
			}
		}
	}
}
