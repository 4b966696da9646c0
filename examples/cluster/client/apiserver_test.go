package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/examples/cluster/api/appsv1"
	"github.com/governor-io/governor/examples/cluster/api/autoscalingv1"
	"github.com/governor-io/governor/examples/cluster/api/corev1"
	"github.com/governor-io/governor/examples/cluster/api/policyv1"
	"github.com/governor-io/governor/examples/cluster/apiserver"
	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// The tests in this file run the client against the example control
// plane's own API server, in-process on memory storage.

type realServer struct {
	engine *mvcc.Engine
	srv    *apiserver.Server
	ts     *httptest.Server
}

func newRealServer(t *testing.T, cfg apiserver.Config) *realServer {
	t.Helper()
	r := &realServer{engine: mvcc.New(mvcc.Options{})}
	cfg.KV = r.engine
	s, err := apiserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.srv = s
	if err := apiserver.Register(s, corev1.Pods); err != nil {
		t.Fatal(err)
	}
	if err := apiserver.Register(s, corev1.Namespaces); err != nil {
		t.Fatal(err)
	}
	if err := apiserver.Register(s, appsv1.Deployments); err != nil {
		t.Fatal(err)
	}
	r.ts = httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		r.ts.Close()
		_ = s.Close()
		r.engine.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *realServer) client(t *testing.T) *Client {
	t.Helper()
	c, err := New(Config{Host: r.ts.URL, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func pod(ns, name string, labels map[string]string, image string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image, Args: []string{"-g", "daemon"}}}},
	}
}

func TestAPIServerVerbs(t *testing.T) {
	rs := newRealServer(t, apiserver.Config{})
	c := rs.client(t)
	pods := For(c, corev1.Pods)
	ctx := context.Background()

	web, err := pods.Create(ctx, pod("default", "web", map[string]string{"app": "web"}, "nginx:1.20"), FieldManager("test"))
	if err != nil {
		t.Fatal(err)
	}
	if web.UID == "" || web.Kind != "Pod" || web.APIVersion != "v1" || web.Status.Phase != corev1.PodPending {
		t.Fatalf("created %+v", web.ObjectMeta)
	}
	if _, err := pods.Create(ctx, pod("default", "db", map[string]string{"app": "db"}, "postgres")); err != nil {
		t.Fatal(err)
	}
	gen := pod("default", "", nil, "busybox")
	gen.GenerateName = "job-"
	job, err := pods.Create(ctx, gen)
	if err != nil || !strings.HasPrefix(job.Name, "job-") {
		t.Fatalf("generateName: %q, %v", job.Name, err)
	}
	if _, err := pods.Create(ctx, pod("default", "dry", nil, "x"), DryRun()); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Get(ctx, "default", "dry"); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("dry-run pod: %v, want NotFound", err)
	}
	if _, err := pods.Create(ctx, pod("default", "web", nil, "x")); !errors.Is(err, meta.ErrAlreadyExists) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}

	l, err := pods.List(ctx, meta.ListOptions{Namespace: "default", LabelSelector: "app=web"})
	if err != nil || fmt.Sprint(podNames(l.Items)) != "[web]" {
		t.Fatalf("label selector: %v, %v", podNames(l.Items), err)
	}
	all, err := pods.ListAll(ctx, meta.ListOptions{Limit: 1})
	if err != nil || len(all.Items) != 3 {
		t.Fatalf("ListAll: %d items, %v", len(all.Items), err)
	}
	if _, err := pods.List(ctx, meta.ListOptions{FieldSelector: "spec.nope=x"}); !errors.Is(err, meta.ErrBadRequest) && !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("unknown field selector: %v, want a 4xx Status", err)
	}

	// Update, and a stale one.
	stale := meta.DeepCopy(web)
	web.Labels["tier"] = "front"
	if web, err = pods.Update(ctx, web); err != nil {
		t.Fatal(err)
	}
	stale.Labels["tier"] = "back"
	if _, err := pods.Update(ctx, stale); !errors.Is(err, meta.ErrConflict) || !strings.Contains(err.Error(), "the object has been modified") {
		t.Fatalf("stale update: %v, want Kubernetes' Conflict", err)
	}
	web.Status.Phase = corev1.PodRunning
	if web, err = pods.UpdateStatus(ctx, web); err != nil || web.Status.Phase != corev1.PodRunning {
		t.Fatalf("UpdateStatus: %v, %v", web.Status.Phase, err)
	}
	running, err := pods.List(ctx, meta.ListOptions{FieldSelector: "status.phase=Running"})
	if err != nil || fmt.Sprint(podNames(running.Items)) != "[web]" {
		t.Fatalf("field selector: %v, %v", podNames(running.Items), err)
	}

	// Each patch type.
	p, err := pods.Patch(ctx, "default", "web", MergePatch, []byte(`{"metadata":{"labels":{"tier":null}}}`))
	if err != nil || p.Labels["tier"] != "" {
		t.Fatalf("merge patch: %v, %v", p.Labels, err)
	}
	p, err = pods.Patch(ctx, "default", "web", JSONPatch, []byte(`[{"op":"add","path":"/metadata/annotations","value":{"a":"1"}}]`))
	if err != nil || p.Annotations["a"] != "1" {
		t.Fatalf("json patch: %v, %v", p.Annotations, err)
	}
	// Strategic merge patch merges containers by name: the image changes,
	// the args stay (a merge patch would replace the list).
	p, err = pods.Patch(ctx, "default", "web", StrategicMergePatch,
		[]byte(`{"spec":{"containers":[{"name":"app","image":"nginx:1.21"}]}}`))
	if err != nil || len(p.Spec.Containers) != 1 || p.Spec.Containers[0].Image != "nginx:1.21" || fmt.Sprint(p.Spec.Containers[0].Args) != "[-g daemon]" {
		t.Fatalf("strategic merge patch: %+v, %v", p.Spec.Containers, err)
	}
	p, err = pods.PatchStatus(ctx, "default", "web", MergePatch, []byte(`{"status":{"message":"ok"}}`))
	if err != nil || p.Status.Message != "ok" {
		t.Fatalf("status patch: %q, %v", p.Status.Message, err)
	}

	// Delete with preconditions, then for real.
	wrong := "not-the-uid"
	if _, err := pods.Delete(ctx, "default", "web", meta.DeleteOptions{Preconditions: &meta.Preconditions{UID: &wrong}}); !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("delete with a wrong uid: %v, want Conflict", err)
	}
	if _, err := pods.Delete(ctx, "default", "web", meta.DeleteOptions{PropagationPolicy: meta.DeletePropagationBackground}, GracePeriod(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Get(ctx, "default", "web"); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("get after delete: %v, want NotFound", err)
	}
	if err := pods.DeleteCollection(ctx, meta.ListOptions{Namespace: "default"}, meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if left, err := pods.List(ctx, meta.ListOptions{}); err != nil || len(left.Items) != 0 {
		t.Fatalf("after deletecollection: %v, %v", podNames(left.Items), err)
	}

	// A cluster-scoped resource.
	nss := For(c, corev1.Namespaces)
	if _, err := nss.Create(ctx, &corev1.Namespace{ObjectMeta: meta.ObjectMeta{Name: "team-a"}}); err != nil {
		t.Fatal(err)
	}
	if ns, err := nss.Get(ctx, "", "team-a"); err != nil || ns.Name != "team-a" {
		t.Fatalf("namespace: %v, %v", ns, err)
	}
	if _, err := nss.Get(ctx, "default", "team-a"); !errors.Is(err, meta.ErrBadRequest) {
		t.Fatalf("a namespaced get of a cluster-scoped resource: %v, want BadRequest", err)
	}
}

func podNames(items []*corev1.Pod) []string {
	var out []string
	for _, p := range items {
		out = append(out, p.Name)
	}
	return out
}

func TestAPIServerWatchFromBeyondTheCacheWindowIsExpired(t *testing.T) {
	rs := newRealServer(t, apiserver.Config{WatchCacheSize: 4})
	pods := For(rs.client(t), corev1.Pods)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first, err := pods.Create(ctx, pod("default", "p0", nil, "x"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 10; i++ {
		if _, err := pods.Create(ctx, pod("default", fmt.Sprintf("p%d", i), nil, "x")); err != nil {
			t.Fatal(err)
		}
	}
	// The cache must have seen the writes before the watch is asked to
	// start behind them: a consistent list waits for that.
	if _, err := pods.List(ctx, meta.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	ch, err := pods.Watch(ctx, meta.ListOptions{ResourceVersion: first.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	ev, ok := <-ch
	if !ok || ev.Type != meta.Error || !errors.Is(ev.Err, meta.ErrExpired) {
		t.Fatalf("event %v %v (open %v), want ERROR Expired", ev.Type, ev.Err, ok)
	}
}

// TestAPIServerInformer runs an informer over the client against the API
// server: it syncs (by list and watch, and by a streaming list), follows
// changes, and resumes after the server drops every connection.
func TestAPIServerInformer(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			rs := newRealServer(t, apiserver.Config{})
			pods := For(rs.client(t), corev1.Pods)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for _, n := range []string{"a", "b"} {
				if _, err := pods.Create(ctx, pod("default", n, nil, "v1")); err != nil {
					t.Fatal(err)
				}
			}
			inf := informer.New[*corev1.Pod](pods, informer.Options[*corev1.Pod]{Name: "pods", StreamInitialList: stream})
			seen := make(chan string, 100)
			var mu sync.Mutex
			var all []string
			note := func(s string) {
				mu.Lock()
				all = append(all, s)
				mu.Unlock()
				seen <- s
			}
			if _, err := inf.AddHandler(informer.HandlerFuncs[*corev1.Pod]{
				AddFunc:    func(p *corev1.Pod, _ bool) { note("add " + p.Name) },
				UpdateFunc: func(_, p *corev1.Pod) { note("update " + p.Name + " " + p.Spec.Containers[0].Image) },
				DeleteFunc: func(p *corev1.Pod, _ bool) { note("delete " + p.Name) },
			}); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- inf.Run(ctx) }()
			await := func(want string) {
				t.Helper()
				timeout := time.After(30 * time.Second)
				for {
					select {
					case s := <-seen:
						if s == want {
							return
						}
					case <-timeout:
						mu.Lock()
						defer mu.Unlock()
						t.Fatalf("never saw %q; saw %q", want, all)
					}
				}
			}
			select {
			case <-inf.SyncDone():
			case <-time.After(30 * time.Second):
				t.Fatal("never synced")
			}
			await("add a")
			await("add b")

			if _, err := pods.Create(ctx, pod("default", "c", nil, "v1")); err != nil {
				t.Fatal(err)
			}
			await("add c")

			// Every connection dropped, as when the server restarts: the
			// informer watches again from its resourceVersion.
			rs.ts.CloseClientConnections()
			if _, err := pods.Patch(ctx, "default", "a", StrategicMergePatch, []byte(`{"metadata":{"labels":{"x":"y"}}}`)); err != nil {
				t.Fatal(err)
			}
			await("update a v1")
			if _, err := pods.Delete(ctx, "default", "b", meta.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			await("delete b")
			cancel()
			<-done
		})
	}
}

// TestAPIServerRestartKeepsTheInformerInStep stops the API server and
// starts a new one on the same storage and address: the client retries
// the refused connections, the informer resumes its watch from its
// resourceVersion, and sees every change made after the restart.
func TestAPIServerRestartKeepsTheInformerInStep(t *testing.T) {
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	start := func(ln net.Listener) (stop func()) {
		s, err := apiserver.New(apiserver.Config{KV: engine, Listener: ln})
		if err != nil {
			t.Fatal(err)
		}
		if err := apiserver.Register(s, corev1.Pods); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	}
	stop := start(ln)
	c, err := New(Config{Host: "http://" + addr, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pods := For(c, corev1.Pods)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, n := range []string{"a", "b"} {
		if _, err := pods.Create(ctx, pod("default", n, nil, "v1")); err != nil {
			t.Fatal(err)
		}
	}
	inf := informer.New[*corev1.Pod](pods, informer.Options[*corev1.Pod]{Name: "pods", StreamInitialList: true})
	seen := make(chan string, 100)
	if _, err := inf.AddHandler(informer.HandlerFuncs[*corev1.Pod]{
		AddFunc:    func(p *corev1.Pod, _ bool) { seen <- "add " + p.Name },
		UpdateFunc: func(_, p *corev1.Pod) { seen <- "update " + p.Name + " " + p.Labels["v"] },
		DeleteFunc: func(p *corev1.Pod, _ bool) { seen <- "delete " + p.Name },
	}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- inf.Run(ctx) }()
	await := func(want string) {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case s := <-seen:
				if s == want {
					return
				}
			case <-timeout:
				t.Fatalf("never saw %q", want)
			}
		}
	}
	await("add a")
	await("add b")

	stop()
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	stop = start(ln2)
	defer func() { stop() }()

	if _, err := pods.Patch(ctx, "default", "a", MergePatch, []byte(`{"metadata":{"labels":{"v":"2"}}}`)); err != nil {
		t.Fatal(err)
	}
	await("update a 2")
	if _, err := pods.Create(ctx, pod("default", "c", nil, "v1")); err != nil {
		t.Fatal(err)
	}
	await("add c")
	if _, err := pods.Delete(ctx, "default", "b", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	await("delete b")
	if got, err := inf.Lister().List(""); err != nil || len(got) != 2 {
		t.Fatalf("cache holds %d pods (%v), want a and c", len(got), err)
	}
	cancel()
	<-done
}

func TestAPIServerSubresources(t *testing.T) {
	rs := newRealServer(t, apiserver.Config{})
	c := rs.client(t)
	ctx := context.Background()

	// Scale, as kubectl scale and the horizontal autoscaler use it.
	deps := For(c, appsv1.Deployments)
	two := int32(2)
	d := &appsv1.Deployment{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "web"}}
	d.Spec.Replicas = &two
	d.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	d.Spec.Template.Labels = map[string]string{"app": "web"}
	d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "app", Image: "nginx"}}
	if _, err := deps.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	var sc autoscalingv1.Scale
	if err := deps.Subresource("scale").Get(ctx, "default", "web", &sc); err != nil || sc.Spec.Replicas != 2 {
		t.Fatalf("scale: %+v, %v", sc, err)
	}
	sc.Spec.Replicas = 5
	if err := deps.Subresource("scale").Update(ctx, "default", "web", &sc, &sc); err != nil || sc.Spec.Replicas != 5 {
		t.Fatalf("scale update: %+v, %v", sc, err)
	}
	if got, err := deps.Get(ctx, "default", "web"); err != nil || *got.Spec.Replicas != 5 {
		t.Fatalf("deployment after scale: %v, %v", got.Spec.Replicas, err)
	}
	if err := deps.Subresource("scale").Patch(ctx, "default", "web", MergePatch, []byte(`{"spec":{"replicas":1}}`), &sc); err != nil || sc.Spec.Replicas != 1 {
		t.Fatalf("scale patch: %+v, %v", sc, err)
	}

	// Binding, as a scheduler binds a pod, and its errors.
	pods := For(c, corev1.Pods)
	if _, err := pods.Create(ctx, pod("default", "p", nil, "x")); err != nil {
		t.Fatal(err)
	}
	bind := &corev1.Binding{ObjectMeta: meta.ObjectMeta{Name: "p", Namespace: "default"}, Target: corev1.ObjectReference{Kind: "Node", Name: "node-1"}}
	if err := pods.Subresource("binding").Create(ctx, "default", "p", bind, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := pods.Get(ctx, "default", "p"); err != nil || got.Spec.NodeName != "node-1" {
		t.Fatalf("pod after binding: %q, %v", got.Spec.NodeName, err)
	}
	if err := pods.Subresource("binding").Create(ctx, "default", "p", bind, nil); !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("a second binding: %v, want Conflict", err)
	}

	// Eviction deletes the pod.
	ev := &policyv1.Eviction{ObjectMeta: meta.ObjectMeta{Name: "p", Namespace: "default"}}
	if err := pods.Subresource("eviction").Create(ctx, "default", "p", ev, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Get(ctx, "default", "p"); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("pod after eviction: %v, want NotFound", err)
	}
}
