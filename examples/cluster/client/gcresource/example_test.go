package gcresource_test

import (
	"context"
	"fmt"
	"net/http/httptest"
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

// The garbage collector of an API server: deleting a ReplicaSet deletes
// its pods.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// An API server on memory storage, serving pods and replicasets.
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	srv, err := apiserver.New(apiserver.Config{KV: engine})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	if err := apiserver.Register(srv, corev1.Pods); err != nil {
		panic(err)
	}
	if err := apiserver.Register(srv, appsv1.ReplicaSets); err != nil {
		panic(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	if err := srv.WaitReady(ctx); err != nil {
		panic(err)
	}

	// The collector, in a manager, over the client: For takes a typed
	// client, New only what discovery tells of a resource.
	c, err := client.New(client.Config{Host: ts.URL})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	rss, pods := client.For(c, appsv1.ReplicaSets), client.For(c, corev1.Pods)
	mgr, err := reconcile.NewManager(reconcile.ManagerOptions{})
	if err != nil {
		panic(err)
	}
	_, err = gc.New(mgr, gc.Options{},
		gcresource.For(rss),
		gcresource.New(c, gc.Info{Resource: "pods", APIVersion: "v1", Kind: "Pod", Namespaced: true}))
	if err != nil {
		panic(err)
	}
	run, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(run) }()
	defer func() { stop(); <-done }()

	// A ReplicaSet and the pod it controls.
	labels := map[string]string{"app": "web"}
	spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}}
	rs, err := rss.Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: appsv1.ReplicaSetSpec{Selector: &api.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: meta.ObjectMeta{Labels: labels}, Spec: spec}},
	})
	if err != nil {
		panic(err)
	}
	pod := &corev1.Pod{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "web-1", Labels: labels}, Spec: spec}
	if err := meta.SetControllerReference(rs, pod); err != nil {
		panic(err)
	}
	pod, err = pods.Create(ctx, pod)
	if err != nil {
		panic(err)
	}

	// Watch the pods, then delete the ReplicaSet.
	watchCtx, endWatch := context.WithCancel(ctx)
	defer endWatch()
	events, err := pods.Watch(watchCtx, meta.ListOptions{Namespace: "default", ResourceVersion: pod.ResourceVersion})
	if err != nil {
		panic(err)
	}
	if _, err := rss.Delete(ctx, "default", "web", meta.DeleteOptions{}); err != nil {
		panic(err)
	}
	for ev := range events {
		if ev.Type == meta.Deleted {
			fmt.Println("collected pod", ev.Object.Name)
			endWatch()
		}
	}
	// Output:
	// collected pod web-1
}
