package etcdkv_test

import (
	"context"
	"fmt"
	"log"
	"os"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/etcdkv"
	"github.com/governor-io/governor/store/etcdkv/embedded"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
)

// Gizmo is an example object type.
type Gizmo struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            GizmoSpec `json:"spec"`
}

// GizmoSpec is the desired state of a Gizmo.
type GizmoSpec struct {
	Replicas int `json:"replicas"`
}

var gizmos = store.Resource[*Gizmo]{Name: "gizmos", Kind: "Gizmo", APIVersion: "example.io/v1", Namespaced: true}

// The typed Store runs on etcd as on any engine. Here the etcd is embedded
// in the process; for a real cluster, give its endpoints (and TLS,
// username and password) in the Config.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "etcdkv-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	etcd, err := embedded.Start(ctx, embedded.Config{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer etcd.Close()

	backend, err := etcdkv.New(ctx, etcdkv.Config{
		Endpoints: []string{etcd.Endpoint()},
		Prefix:    "/example",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer backend.Close()

	s := store.New(backend, gizmos)
	g, err := s.Create(ctx, &Gizmo{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "web"}, Spec: GizmoSpec{Replicas: 2}})
	if err != nil {
		log.Fatal(err)
	}
	g.Spec.Replicas = 3
	if _, err := s.Update(ctx, g); err != nil {
		log.Fatal(err)
	}
	list, err := s.List(ctx, meta.ListOptions{Namespace: "default"})
	if err != nil {
		log.Fatal(err)
	}
	for _, g := range list.Items {
		fmt.Println(g.Name, g.Spec.Replicas, g.Generation)
	}

	// The object lives in etcd under the prefix.
	resp, err := backend.Client().Get(ctx, "/example/", clientv3.WithPrefix())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(resp.Kvs[0].Key))
	// Output:
	// web 3 2
	// /example/registry/gizmos/default/web
}

// A watch delivers every change from its start revision, with the previous
// value on deletes.
func ExampleKV_Watch() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "etcdkv-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	etcd, err := embedded.Start(ctx, embedded.Config{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer etcd.Close()
	backend, err := etcdkv.New(ctx, etcdkv.Config{Endpoints: []string{etcd.Endpoint()}, Prefix: "/example/"})
	if err != nil {
		log.Fatal(err)
	}
	defer backend.Close()

	first, _ := kv.Put(ctx, backend, "greeting", []byte("hello"))
	kv.Put(ctx, backend, "greeting", []byte("bonjour"))
	kv.Delete(ctx, backend, "greeting", "")

	events, err := backend.Watch(ctx, kv.WatchRequest{Key: "greeting", StartRevision: first})
	if err != nil {
		log.Fatal(err)
	}
	for n := 0; n < 3; {
		resp := <-events
		for _, e := range resp.Events {
			n++
			if e.Type == kv.EventDelete {
				fmt.Println(e.Type, e.KV.Key, "was", string(e.PrevKV.Value))
				continue
			}
			fmt.Println(e.Type, e.KV.Key, string(e.KV.Value))
		}
	}
	// Output:
	// PUT greeting hello
	// PUT greeting bonjour
	// DELETE greeting was bonjour
}
