package gcresource_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/examples/cluster/api/appsv1"
	"github.com/governor-io/governor/examples/cluster/api/corev1"
	"github.com/governor-io/governor/examples/cluster/apiserver"
	"github.com/governor-io/governor/examples/cluster/client"
	"github.com/governor-io/governor/examples/cluster/client/gcresource"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/reconcile/gc"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// The tests run reconcile/gc's collector, unchanged, in a reconcile.Manager
// against an in-process API server on memory storage, through the client:
// the control plane's garbage collector.

// cluster is an API server serving pods and replicasets, and a collector
// over it.
type cluster struct {
	url  string
	rss  *client.Resource[*appsv1.ReplicaSet]
	pods *client.Resource[*corev1.Pod]
}

// newServer starts an API server and returns its clients.
func newServer(t *testing.T) *cluster {
	t.Helper()
	engine := mvcc.New(mvcc.Options{})
	srv, err := apiserver.New(apiserver.Config{KV: engine})
	if err != nil {
		t.Fatal(err)
	}
	for _, reg := range []func() error{
		func() error { return apiserver.Register(srv, corev1.Namespaces) },
		func() error { return apiserver.Register(srv, corev1.Pods) },
		func() error { return apiserver.Register(srv, appsv1.ReplicaSets) },
	} {
		if err := reg(); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewServer(srv.Handler()) // 127.0.0.1:0
	t.Cleanup(func() {
		ts.Close()
		_ = srv.Close()
		engine.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Config{Host: ts.URL, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &cluster{url: ts.URL, rss: client.For(c, appsv1.ReplicaSets), pods: client.For(c, corev1.Pods)}
}

// newCluster starts an API server, and a collector over it in a manager.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	cl := newServer(t)
	mgr, err := reconcile.NewManager(reconcile.ManagerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gc.New(mgr, gc.Options{Workers: 2}, gcresource.For(cl.rss), gcresource.For(cl.pods)); err != nil {
		t.Fatal(err)
	}
	run, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(run) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("manager: %v", err)
		}
	})
	select {
	case <-mgr.Elected():
	case err := <-done:
		t.Fatalf("manager stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the manager did not start")
	}
	return cl
}

// replicaSet creates a ReplicaSet and, for each name in pods, a pod it
// owns: a controller reference (which sets blockOwnerDeletion) unless the
// name ends in "~", which makes a plain, non-blocking owner reference. It
// returns the ReplicaSet and the resourceVersion of the last write.
func (cl *cluster) replicaSet(t *testing.T, name string, pods ...string) (*appsv1.ReplicaSet, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	labels := map[string]string{"app": name}
	rs, err := cl.rss.Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: name},
		Spec: appsv1.ReplicaSetSpec{
			Selector: &api.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: meta.ObjectMeta{Labels: labels}, Spec: podSpec()},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	last := rs.ResourceVersion
	for _, p := range pods {
		pod := &corev1.Pod{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: strings.TrimSuffix(p, "~"), Labels: labels}, Spec: podSpec()}
		set := meta.SetControllerReference
		if strings.HasSuffix(p, "~") {
			set = meta.SetOwnerReference
		}
		if err := set(rs, pod); err != nil {
			t.Fatal(err)
		}
		created, err := cl.pods.Create(ctx, pod)
		if err != nil {
			t.Fatal(err)
		}
		last = created.ResourceVersion
	}
	return rs, last
}

func podSpec() corev1.PodSpec {
	return corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}}
}

// kubectlDelete deletes a ReplicaSet as `kubectl delete --cascade=...`
// does: a DELETE whose body is a DeleteOptions with the policy.
func (cl *cluster) kubectlDelete(t *testing.T, name string, policy meta.DeletionPropagation) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	body := fmt.Sprintf(`{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":%q}`, policy)
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete,
		cl.url+"/apis/apps/v1/namespaces/default/replicasets/"+name, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE replicaset %s: %s: %s", name, resp.Status, out)
	}
}

// waitFor lists the objects of r in namespace default, then watches them
// from the list's resourceVersion until cond holds of them (by name); it
// fails the test if that takes 30s.
func waitFor[T meta.Object](t *testing.T, r *client.Resource[T], what string, cond func(objs map[string]T) bool) map[string]T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := r.List(ctx, meta.ListOptions{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]T{}
	for _, o := range l.Items {
		objs[o.GetObjectMeta().Name] = o
	}
	if cond(objs) {
		return objs
	}
	events, err := r.Watch(ctx, meta.ListOptions{Namespace: "default", ResourceVersion: l.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	for ev := range events {
		switch ev.Type {
		case meta.Added, meta.Modified:
			objs[ev.Object.GetObjectMeta().Name] = ev.Object
		case meta.Deleted:
			delete(objs, ev.Object.GetObjectMeta().Name)
		case meta.Error:
			t.Fatalf("waiting for %s: %v", what, ev.Err)
		}
		if cond(objs) {
			return objs
		}
	}
	t.Fatalf("waiting for %s: the watch ended (%v) with %v", what, ctx.Err(), names(objs))
	return nil
}

func names[T meta.Object](objs map[string]T) []string {
	var out []string
	for n, o := range objs {
		m := o.GetObjectMeta()
		if m.DeletionTimestamp != nil {
			n += "(deleting)"
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func without(names ...string) func(map[string]*corev1.Pod) bool {
	return func(objs map[string]*corev1.Pod) bool {
		for _, n := range names {
			if _, ok := objs[n]; ok {
				return false
			}
		}
		return true
	}
}

func TestBackgroundDeletionDeletesTheDependents(t *testing.T) {
	cl := newCluster(t)
	cl.replicaSet(t, "web", "web-1", "web-2~")
	cl.replicaSet(t, "db", "db-1")
	cl.kubectlDelete(t, "web", meta.DeletePropagationBackground)

	pods := waitFor(t, cl.pods, "web's pods to go", without("web-1", "web-2"))
	if _, ok := pods["db-1"]; !ok {
		t.Fatalf("pods %v: db-1, whose owner stays, was collected", names(pods))
	}
}

func TestForegroundDeletionWaitsForTheBlockingDependents(t *testing.T) {
	cl := newCluster(t)
	rs, _ := cl.replicaSet(t, "web", "web-1", "web-2~")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// web-1 blocks its owner's deletion, and a finalizer of its own holds
	// it back once deleted.
	const hold = "example.io/hold"
	if _, err := cl.pods.Patch(ctx, "default", "web-1", client.MergePatch,
		[]byte(`{"metadata":{"finalizers":["`+hold+`"]}}`)); err != nil {
		t.Fatal(err)
	}
	cl.kubectlDelete(t, "web", meta.DeletePropagationForeground)

	waitFor(t, cl.pods, "web-1 deleting and web-2 gone", func(pods map[string]*corev1.Pod) bool {
		_, web2 := pods["web-2"]
		web1, ok := pods["web-1"]
		return !web2 && ok && web1.DeletionTimestamp != nil
	})
	// While web-1 is there, its owner waits, with the finalizer the
	// DELETE set.
	owner, err := cl.rss.Get(ctx, "default", "web")
	if err != nil {
		t.Fatalf("the owner of a blocking dependent: %v", err)
	}
	if owner.UID != rs.UID || owner.DeletionTimestamp == nil || !slices.Contains(owner.Finalizers, meta.FinalizerDeleteDependents) {
		t.Fatalf("the waiting owner: uid %s (want %s), deletionTimestamp %v, finalizers %v",
			owner.UID, rs.UID, owner.DeletionTimestamp, owner.Finalizers)
	}

	if _, err := cl.pods.Patch(ctx, "default", "web-1", client.MergePatch, []byte(`{"metadata":{"finalizers":null}}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, cl.rss, "web to go", func(rss map[string]*appsv1.ReplicaSet) bool { _, ok := rss["web"]; return !ok })
	waitFor(t, cl.pods, "web-1 to go", without("web-1"))
}

func TestOrphanDeletionKeepsTheDependents(t *testing.T) {
	cl := newCluster(t)
	cl.replicaSet(t, "web", "web-1", "web-2~")
	cl.kubectlDelete(t, "web", meta.DeletePropagationOrphan)

	waitFor(t, cl.rss, "web to go", func(rss map[string]*appsv1.ReplicaSet) bool { _, ok := rss["web"]; return !ok })
	// The collector removes the orphan finalizer only after the
	// references: once the owner is gone, its dependents are free.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := cl.pods.List(ctx, meta.ListOptions{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range l.Items {
		got = append(got, fmt.Sprintf("%s refs=%d deleting=%t", p.Name, len(p.OwnerReferences), p.DeletionTimestamp != nil))
	}
	if want := []string{"web-1 refs=0 deleting=false", "web-2 refs=0 deleting=false"}; !slices.Equal(got, want) {
		t.Fatalf("pods after an orphan delete of their owner: %q, want %q", got, want)
	}
}
