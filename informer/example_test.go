package informer_test

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// Pod is a small Kubernetes-shaped type for the examples.
type Pod struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            PodSpec `json:"spec"`
}

// PodSpec is the desired state of a Pod.
type PodSpec struct {
	NodeName string `json:"nodeName,omitempty"`
	Image    string `json:"image,omitempty"`
}

// newPods returns a Pod store over a fresh in-memory engine, and the
// function that closes the engine.
func newPods() (*store.Store[*Pod], func() error) {
	engine := mvcc.New(mvcc.Options{})
	return store.New[*Pod](engine, store.Resource[*Pod]{Name: "pods", Kind: "Pod", APIVersion: "v1", Namespaced: true}), engine.Close
}

func pod(ns, name, node string, labels map[string]string) *Pod {
	return &Pod{ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: name, Labels: labels}, Spec: PodSpec{NodeName: node}}
}

// An informer over the in-process store: a handler hears of every change,
// and the lister reads the cache.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pods, closeEngine := newPods()
	defer closeEngine()
	pods.Create(ctx, pod("default", "web-1", "node-a", map[string]string{"app": "web"}))

	inf := informer.New[*Pod](pods, informer.Options[*Pod]{Name: "pods"})
	events := make(chan string, 10)
	reg, _ := inf.AddHandler(informer.HandlerFuncs[*Pod]{
		AddFunc:    func(p *Pod, initial bool) { events <- fmt.Sprintf("add %s initial=%v", p.Key(), initial) },
		UpdateFunc: func(old, p *Pod) { events <- fmt.Sprintf("update %s node %s", p.Key(), p.Spec.NodeName) },
		DeleteFunc: func(p *Pod, known bool) { events <- fmt.Sprintf("delete %s known=%v", p.Key(), known) },
	})
	done := make(chan struct{})
	go func() { inf.Run(ctx); close(done) }()
	if !informer.WaitForCacheSync(ctx, reg) {
		return
	}
	fmt.Println(<-events)

	pods.Create(ctx, pod("default", "db-1", "node-b", map[string]string{"app": "db"}))
	fmt.Println(<-events)
	pods.Delete(ctx, "default", "db-1", meta.DeleteOptions{})
	fmt.Println(<-events)

	web, _ := inf.Lister().List("app=web")
	fmt.Println("web pods:", len(web), web[0].Spec.NodeName)
	cancel()
	<-done
	// Output:
	// add default/web-1 initial=true
	// add default/db-1 initial=false
	// delete default/db-1 known=true
	// web pods: 1 node-a
}

// Named indexes answer "which objects have this value" without a scan.
func ExampleCache() {
	byNode := func(p *Pod) []string { return []string{p.Spec.NodeName} }
	c := informer.NewCache(informer.CacheOptions[*Pod]{Indexers: map[string]informer.IndexFunc[*Pod]{"node": byNode}})
	c.Add(pod("default", "a", "node-1", nil))
	c.Add(pod("default", "b", "node-2", nil))
	c.Add(pod("kube-system", "c", "node-1", nil))

	keys, _ := c.IndexKeys("node", "node-1")
	slices.Sort(keys)
	fmt.Println(keys)

	// Cached objects are shared: copy before changing one.
	p, _ := c.Get("default/a")
	mine := meta.DeepCopy(p)
	mine.Spec.NodeName = "node-3"
	fmt.Println(p.Spec.NodeName, mine.Spec.NodeName)
	// Output:
	// [default/a kube-system/c]
	// node-1 node-3
}

// PodSummary is the little the example's controller needs of a Pod.
type PodSummary struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Node            string
}

// Project caches a compact type instead of the full object.
func ExampleProject() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pods, closeEngine := newPods()
	defer closeEngine()
	pods.Create(ctx, pod("default", "web-1", "node-a", map[string]string{"app": "web"}))

	summaries := informer.Project[*Pod, *PodSummary](pods, func(p *Pod) *PodSummary {
		return &PodSummary{ObjectMeta: meta.ObjectMeta{Namespace: p.Namespace, Name: p.Name,
			ResourceVersion: p.ResourceVersion, Annotations: p.Annotations}, Node: p.Spec.NodeName}
	})
	inf := informer.New(summaries, informer.Options[*PodSummary]{})
	done := make(chan struct{})
	go func() { inf.Run(ctx); close(done) }()
	informer.WaitForCacheSync(ctx, inf)
	s, _ := inf.Lister().Get("default", "web-1")
	fmt.Println(s.Name, "runs on", s.Node)
	cancel()
	<-done
	// Output: web-1 runs on node-a
}

// A Factory gives every controller the same informer for a type.
func ExampleFactory() {
	ctx, cancel := context.WithCancel(context.Background())
	pods, closeEngine := newPods()
	defer closeEngine()
	pods.Create(ctx, pod("default", "web-1", "node-a", nil))
	f := informer.NewFactory(informer.FactoryOptions{})
	a := informer.InformerFor[*Pod](f, pods, informer.Options[*Pod]{})
	b := informer.InformerFor[*Pod](f, pods, informer.Options[*Pod]{})
	f.Start(ctx)
	f.WaitForCacheSync(ctx)
	fmt.Println(a == b, a.Lister().Len())
	cancel()
	f.Shutdown()
	// Output: true 1
}

// HandlerOptions.LatestPerKey gives a lagging handler one merged
// notification per key.
func ExampleHandlerOptions_latestPerKey() {
	ctx, cancel := context.WithCancel(context.Background())
	pods, closeEngine := newPods()
	defer closeEngine()
	inf := informer.New[*Pod](pods, informer.Options[*Pod]{})
	release, seen := make(chan struct{}), make(chan string, 10)
	inf.AddHandlerWithOptions(informer.HandlerFuncs[*Pod]{
		AddFunc: func(p *Pod, _ bool) {
			<-release // a slow handler
			seen <- fmt.Sprintf("add %s node=%q", p.Name, p.Spec.NodeName)
		},
		UpdateFunc: func(old, p *Pod) { seen <- "update " + p.Name },
	}, informer.HandlerOptions{LatestPerKey: true})
	// A second, prompt handler tells us when the last update is cached.
	caughtUp := make(chan struct{})
	check := func(p *Pod) {
		if p.Spec.NodeName == "n3" {
			close(caughtUp)
		}
	}
	inf.AddHandler(informer.HandlerFuncs[*Pod]{
		AddFunc:    func(p *Pod, _ bool) { check(p) },
		UpdateFunc: func(_, p *Pod) { check(p) },
	})
	done := make(chan struct{})
	go func() { inf.Run(ctx); close(done) }()
	informer.WaitForCacheSync(ctx, inf)

	pods.Create(ctx, pod("default", "a", "", nil)) // the slow handler is stuck in this add
	p, _ := pods.Create(ctx, pod("default", "b", "", nil))
	for _, node := range []string{"n1", "n2", "n3"} {
		p.Spec.NodeName = node
		p, _ = pods.Update(ctx, p)
	}
	<-caughtUp
	close(release)
	fmt.Println(<-seen)
	fmt.Println(<-seen) // b's add and three updates, merged
	cancel()
	<-done
	// Output:
	// add a node=""
	// add b node="n3"
}

// WaitForCacheSync blocks until every informer or handler has synced.
func ExampleWaitForCacheSync() {
	ctx, cancel := context.WithCancel(context.Background())
	pods, closeEngine := newPods()
	defer closeEngine()
	for _, name := range []string{"a", "b", "c"} {
		pods.Create(ctx, pod("default", name, "", nil))
	}
	inf := informer.New[*Pod](pods, informer.Options[*Pod]{})
	var names []string
	reg, _ := inf.AddHandler(informer.HandlerFuncs[*Pod]{AddFunc: func(p *Pod, _ bool) { names = append(names, p.Name) }})
	done := make(chan struct{})
	go func() { inf.Run(ctx); close(done) }()
	// Once the registration has synced, the handler has handled the
	// initial list.
	fmt.Println(informer.WaitForCacheSync(ctx, inf, reg), strings.Join(names, ","))
	cancel()
	<-done
	// Output: true a,b,c
}
