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
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	crevent "sigs.k8s.io/controller-runtime/pkg/event"
	crhandler "sigs.k8s.io/controller-runtime/pkg/handler"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"
	crreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"
	crsource "sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/governor-io/governor/reconcile"
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

func newGovernorTarget(b *testing.B, workers int, c *reconcileCounter) reconcileTarget {
	r := reconcile.Func[reconcile.Request](func(context.Context, reconcile.Request) (reconcile.Result, error) {
		c.hit()
		return reconcile.Done(), nil
	})
	ctrl, err := reconcile.New[reconcile.Request](r, reconcile.Options[reconcile.Request]{Name: "bench", Workers: workers})
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

func newCRTarget(b *testing.B, workers int, priorityQueue bool, c *reconcileCounter) reconcileTarget {
	crlog.SetLogger(logr.Discard())
	skip := true
	r := crreconcile.TypedFunc[crreconcile.Request](func(context.Context, crreconcile.Request) (crreconcile.Result, error) {
		c.hit()
		return crreconcile.Result{}, nil
	})
	ctrl, err := crcontroller.NewTypedUnmanaged[crreconcile.Request]("bench", crcontroller.TypedOptions[crreconcile.Request]{
		Reconciler: r, MaxConcurrentReconciles: workers, SkipNameValidation: &skip,
		UsePriorityQueue: &priorityQueue,
		RateLimiter:      workqueue.DefaultTypedControllerRateLimiter[crreconcile.Request](),
	})
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
// allocs/reconcile are per reconcile.
func BenchmarkReconcile(b *testing.B) {
	impls := []struct {
		name string
		mk   func(b *testing.B, workers int, c *reconcileCounter) reconcileTarget
	}{
		{"governor", newGovernorTarget},
		{"controllerruntime-priorityqueue", func(b *testing.B, w int, c *reconcileCounter) reconcileTarget { return newCRTarget(b, w, true, c) }},
		{"controllerruntime-fifo", func(b *testing.B, w int, c *reconcileCounter) reconcileTarget { return newCRTarget(b, w, false, c) }},
	}
	for _, workers := range []int{1, 4, 16} {
		for _, impl := range impls {
			b.Run(fmt.Sprintf("impl=%s/workers=%d", impl.name, workers), func(b *testing.B) {
				c := &reconcileCounter{done: make(chan struct{}, 1)}
				t := impl.mk(b, workers, c)
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
