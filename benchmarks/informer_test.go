package benchmarks

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/store/meta"
)

// The informer benchmarks feed Governor's Informer and client-go's
// SharedIndexInformer from the same kind of source, in the same run: a
// List that returns n Pods and a Watch that yields events the benchmark
// pushes into a buffered channel. Governor caches the typed pod (same JSON
// as v1.Pod); client-go caches *v1.Pod with its namespace index, as
// informer factories configure it (Governor's cache has a built-in
// namespace index).

// infSide drives one implementation.
type infSide interface {
	// start runs an informer over objs (fresh() builds the list on every
	// List call when set) with h handlers that each call count on every
	// add and update. It returns once the informer runs.
	start(h int, count func()) infRun
}

type infRun interface {
	// send pushes a MODIFIED event for object i.
	send(i int)
	// waitSynced waits until the informer reports HasSynced.
	waitSynced()
	stop()
}

// infCounter counts handler calls and signals when a target is reached.
type infCounter struct {
	n      atomic.Int64
	target atomic.Int64
	done   chan struct{}
}

func newInfCounter() *infCounter {
	c := &infCounter{done: make(chan struct{}, 1)}
	c.target.Store(-1)
	return c
}

func (c *infCounter) inc() {
	if c.n.Add(1) == c.target.Load() {
		c.done <- struct{}{}
	}
}

// await waits until the count reaches target.
func (c *infCounter) await(tb testing.TB, target int64) {
	c.target.Store(target)
	if c.n.Load() >= target {
		select { // it may have signalled already
		case <-c.done:
		default:
		}
		return
	}
	select {
	case <-c.done:
	case <-time.After(5 * time.Minute):
		tb.Fatalf("handlers made %d calls, want %d", c.n.Load(), target)
	}
}

// ---- Governor ----

type infGovSide struct {
	objs  []*pod
	fresh func() []*pod                                      // if set, List returns new objects
	proj  func(lw informer.ListerWatcher[*pod]) infGovRunner // if set, informer over a projection
}

type infGovRunner interface {
	Run(context.Context) error
	HasSynced() bool
	SyncDone() <-chan struct{}
}

type infGovRun struct {
	objs   []*pod
	ch     chan meta.WatchEvent[*pod]
	inf    infGovRunner
	cancel context.CancelFunc
	done   chan struct{}
}

var infDiscard = slog.New(slog.NewTextHandler(io.Discard, nil))

func (g infGovSide) start(h int, count func()) infRun {
	r := &infGovRun{objs: g.objs, ch: make(chan meta.WatchEvent[*pod], 4096), done: make(chan struct{})}
	lw := informer.FuncListerWatcher[*pod]{
		ListFunc: func(ctx context.Context, _ meta.ListOptions) (*meta.List[*pod], error) {
			items := g.objs
			if g.fresh != nil {
				items = g.fresh()
			}
			return &meta.List[*pod]{Items: items, ResourceVersion: strconv.Itoa(len(items))}, nil
		},
		WatchFunc: func(ctx context.Context, _ meta.ListOptions) (<-chan meta.WatchEvent[*pod], error) {
			return r.ch, nil
		},
	}
	if g.proj != nil {
		r.inf = g.proj(lw)
	} else {
		inf := informer.New[*pod](lw, informer.Options[*pod]{Logger: infDiscard})
		for range h {
			inf.AddHandler(informer.HandlerFuncs[*pod]{
				AddFunc:    func(*pod, bool) { count() },
				UpdateFunc: func(_, _ *pod) { count() },
			})
		}
		r.inf = inf
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.inf.Run(ctx); close(r.done) }()
	return r
}

func (r *infGovRun) send(i int) {
	r.ch <- meta.WatchEvent[*pod]{Type: meta.Modified, Object: r.objs[i%len(r.objs)]}
}
func (r *infGovRun) waitSynced() { <-r.inf.SyncDone() }
func (r *infGovRun) stop()       { r.cancel(); <-r.done }

// ---- client-go ----

type infCGSide struct {
	list      *corev1.PodList
	ptrs      []*corev1.Pod
	fresh     func() *corev1.PodList
	transform cache.TransformFunc // if set, the informer's transform
}

// infCGLW is a cache.ListerWatcher over a fixed list and a channel. It says it
// does not stream lists, so that client-go does List then Watch, as
// Governor does by default.
type infCGLW struct {
	list func() kruntime.Object
	ch   chan watch.Event
}

func (l *infCGLW) List(metav1.ListOptions) (kruntime.Object, error) { return l.list(), nil }
func (l *infCGLW) Watch(metav1.ListOptions) (watch.Interface, error) {
	return watch.NewProxyWatcher(l.ch), nil
}
func (l *infCGLW) IsWatchListSemanticsUnSupported() bool { return true }

type infCGRun struct {
	ptrs   []*corev1.Pod
	ch     chan watch.Event
	inf    cache.SharedIndexInformer
	cancel context.CancelFunc
	done   chan struct{}
}

func (c infCGSide) start(h int, count func()) infRun {
	r := &infCGRun{ptrs: c.ptrs, ch: make(chan watch.Event, 4096), done: make(chan struct{})}
	lw := &infCGLW{ch: r.ch, list: func() kruntime.Object {
		if c.fresh != nil {
			return c.fresh()
		}
		return c.list
	}}
	r.inf = cache.NewSharedIndexInformer(lw, &corev1.Pod{}, 0, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	if c.transform != nil {
		if err := r.inf.SetTransform(c.transform); err != nil {
			panic(err)
		}
	}
	for range h {
		r.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { count() },
			UpdateFunc: func(_, _ any) { count() },
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.inf.Run(ctx.Done()); close(r.done) }()
	return r
}

func (r *infCGRun) send(i int) {
	r.ch <- watch.Event{Type: watch.Modified, Object: r.ptrs[i%len(r.ptrs)]}
}

func (r *infCGRun) waitSynced() {
	// client-go has no sync channel on the informer; check often so that
	// the wait adds little to what is measured.
	for !r.inf.HasSynced() {
		time.Sleep(100 * time.Microsecond)
	}
}
func (r *infCGRun) stop() { r.cancel(); <-r.done }

// ---- objects ----

// infKubePod returns the i-th v1.Pod of a collection.
func infKubePod(i int) *corev1.Pod {
	p := kubePod(fmt.Sprintf("ns-%d", i%10), fmt.Sprintf("web-7d4b9c8f6d-%06d", i))
	p.UID = types.UID(fmt.Sprintf("c0a80a1e-5b7f-4e9b-8f3a-%012d", i))
	p.ResourceVersion = strconv.Itoa(i + 1)
	p.CreationTimestamp = metav1.NewTime(benchEpoch)
	return p
}

// infToPod converts a v1.Pod into our pod through JSON, so both infSides hold
// the same data.
func infToPod(tb testing.TB, kp *corev1.Pod) *pod {
	b, err := json.Marshal(kp)
	if err != nil {
		tb.Fatal(err)
	}
	var p pod
	if err := json.Unmarshal(b, &p); err != nil {
		tb.Fatal(err)
	}
	return &p
}

type infSides struct {
	gov infGovSide
	cg  infCGSide
}

var infSidesCache = map[int]infSides{}

// infBenchSides returns both implementations over the same n Pods.
func infBenchSides(tb testing.TB, n int) infSides {
	if s, ok := infSidesCache[n]; ok {
		return s
	}
	list := &corev1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: strconv.Itoa(n)}, Items: make([]corev1.Pod, n)}
	ptrs := make([]*corev1.Pod, n)
	objs := make([]*pod, n)
	var tmpl *pod
	for i := range n {
		kp := infKubePod(i)
		list.Items[i] = *kp
		ptrs[i] = &list.Items[i]
		if tmpl == nil {
			tmpl = infToPod(tb, kp)
		}
		// Same data as infToPod gives, without n JSON round trips.
		p := meta.DeepCopy(tmpl)
		p.Name, p.Namespace, p.UID, p.ResourceVersion = kp.Name, kp.Namespace, string(kp.UID), kp.ResourceVersion
		objs[i] = p
	}
	s := infSides{gov: infGovSide{objs: objs}, cg: infCGSide{list: list, ptrs: ptrs}}
	infSidesCache[n] = s
	return s
}

func infForEachSide(b *testing.B, s infSides, f func(b *testing.B, side infSide)) {
	b.Run("impl=governor", func(b *testing.B) { f(b, s.gov) })
	b.Run("impl=clientgo", func(b *testing.B) { f(b, s.cg) })
}

// BenchmarkInformerEvents measures MODIFIED events through the informer
// to every handler: one op is one event, handled by all handlers.
func BenchmarkInformerEvents(b *testing.B) {
	const n = 1000
	s := infBenchSides(b, n)
	for _, h := range []int{1, 4} {
		b.Run(fmt.Sprintf("handlers=%d", h), func(b *testing.B) {
			infForEachSide(b, s, func(b *testing.B, side infSide) {
				c := newInfCounter()
				r := side.start(h, c.inc)
				defer r.stop()
				c.await(b, int64(h*n)) // the initial adds
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				for i := range b.N {
					r.send(i)
				}
				c.await(b, int64(h*(n+b.N)))
				b.StopTimer()
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
			})
		})
	}
}

// BenchmarkInformerSync measures an initial list of 100k Pods until the
// informer has synced and one handler has had every add.
func BenchmarkInformerSync(b *testing.B) {
	const n = 100_000
	s := infBenchSides(b, n)
	infForEachSide(b, s, func(b *testing.B, side infSide) {
		b.ReportAllocs()
		for range b.N {
			c := newInfCounter()
			r := side.start(1, c.inc)
			r.waitSynced()
			c.await(b, n)
			b.StopTimer()
			r.stop()
			b.StartTimer()
		}
	})
}

// infHeapAlloc returns the live heap after a full collection.
func infHeapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// infPodSummary is what a typical controller keeps of a Pod: a projection.
type infPodSummary struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	NodeName        string
	Phase           string
}

// infSummarize projects a Pod on infPodSummary. The summary owns its
// maps: it shares nothing with p, which may be another cache's object.
func infSummarize(p *pod) *infPodSummary {
	return &infPodSummary{
		ObjectMeta: meta.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID,
			ResourceVersion: p.ResourceVersion, Labels: maps.Clone(p.Labels), Annotations: maps.Clone(p.Annotations)},
		NodeName: p.Spec.NodeName,
		Phase:    p.Status.Phase,
	}
}

// infStripPod is client-go's way to the same summary: an informer
// transform that keeps of a v1.Pod the fields infSummarize keeps (name,
// namespace, UID, resource version, labels, annotations, node name and
// phase), in a new Pod that owns its maps. Anything else (a tombstone)
// passes unchanged.
func infStripPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID,
			ResourceVersion: p.ResourceVersion, Labels: maps.Clone(p.Labels), Annotations: maps.Clone(p.Annotations)},
		Spec:   corev1.PodSpec{NodeName: p.Spec.NodeName},
		Status: corev1.PodStatus{Phase: p.Status.Phase},
	}, nil
}

// BenchmarkInformerMemory measures the heap an informer keeps per cached
// Pod once synced, when the source hands it fresh objects: B/pod is the
// total (object included), obj-B/pod the object alone (measured by
// building the same objects outside any informer) and overhead-B/pod the
// difference. cache=full caches whole Pods; cache=summary caches the same
// few fields on both sides: ours the infPodSummary projection
// (informer.Project), client-go's a Pod stripped to those fields by its
// transform (SharedIndexInformer.SetTransform with infStripPod).
func BenchmarkInformerMemory(b *testing.B) {
	const n = 100_000
	s := infBenchSides(b, n)
	freshGov := func() []*pod {
		out := make([]*pod, n)
		for i, p := range s.gov.objs {
			out[i] = meta.DeepCopy(p)
		}
		return out
	}
	freshCG := func() *corev1.PodList {
		l := &corev1.PodList{ListMeta: s.cg.list.ListMeta, Items: make([]corev1.Pod, n)}
		for i := range s.cg.list.Items {
			s.cg.list.Items[i].DeepCopyInto(&l.Items[i])
		}
		return l
	}
	measure := func(b *testing.B, side infSide, objectBytes float64) {
		var total float64
		for range b.N {
			before := infHeapAlloc()
			r := side.start(0, nil)
			r.waitSynced()
			after := infHeapAlloc()
			total += (float64(after) - float64(before)) / n
			r.stop()
		}
		b.ReportMetric(total/float64(b.N), "B/pod")
		if objectBytes > 0 {
			b.ReportMetric(objectBytes, "obj-B/pod")
			b.ReportMetric(total/float64(b.N)-objectBytes, "overhead-B/pod")
		}
	}
	objectSize := func(build func() any) float64 {
		before := infHeapAlloc()
		keep := build()
		after := infHeapAlloc()
		runtime.KeepAlive(keep)
		return (float64(after)-float64(before))/n - 8 // minus the slice of pointers
	}
	b.Run("cache=full", func(b *testing.B) {
		b.Run("impl=governor", func(b *testing.B) {
			obj := objectSize(func() any { return freshGov() })
			measure(b, infGovSide{objs: s.gov.objs, fresh: freshGov}, obj)
		})
		b.Run("impl=clientgo", func(b *testing.B) {
			obj := objectSize(func() any {
				l := freshCG()
				ptrs := make([]*corev1.Pod, n)
				for i := range l.Items {
					ptrs[i] = l.Items[i].DeepCopy() // client-go caches a copy of each item
				}
				return ptrs
			})
			measure(b, infCGSide{list: s.cg.list, ptrs: s.cg.ptrs, fresh: freshCG}, obj)
		})
	})
	b.Run("cache=summary", func(b *testing.B) {
		b.Run("impl=governor", func(b *testing.B) {
			measure(b, infGovSide{objs: s.gov.objs, fresh: freshGov, proj: func(lw informer.ListerWatcher[*pod]) infGovRunner {
				return informer.New(informer.Project(lw, infSummarize), informer.Options[*infPodSummary]{Logger: infDiscard})
			}}, 0)
		})
		b.Run("impl=clientgo", func(b *testing.B) {
			measure(b, infCGSide{list: s.cg.list, ptrs: s.cg.ptrs, fresh: freshCG, transform: infStripPod}, 0)
		})
	})
}
