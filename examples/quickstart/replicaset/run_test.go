package replicaset_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/governor-io/governor/examples/quickstart/replicaset"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunScript(t *testing.T) {
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	var out bytes.Buffer
	if err := replicaset.Run(context.Background(), engine, &out); err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"governor quickstart on the embedded in-memory store:",
		"== create replicaset demo/web with 3 replicas",
		"added finalizer " + replicaset.Finalizer,
		"   ok: 3 pods: web-0 web-1 web-2\n",
		"   ok: 5 pods: web-0 web-1 web-2 web-3 web-4\n",
		"   ok: 2 pods: web-0 web-1\n",
		"being deleted: deleted pod web-0",
		"pods gone, removed finalizer",
		"   ok: replicaset and pods gone",
		"== done",
		"manager stopped",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	// Read-your-own-writes: no pod was ever created twice.
	if n := strings.Count(got, "created pod"); n != 5 {
		t.Errorf("created %d pods, want 5 (3, then 2 more):\n%s", n, got)
	}

	// End state: nothing left but the released lease.
	ctx := context.Background()
	sets := store.New(engine, replicaset.SetResource())
	pods := store.New(engine, replicaset.PodResource())
	if l, err := sets.List(ctx, meta.ListOptions{}); err != nil || len(l.Items) != 0 {
		t.Errorf("replicasets left: %v, %v", l, err)
	}
	if l, err := pods.List(ctx, meta.ListOptions{}); err != nil || len(l.Items) != 0 {
		t.Errorf("pods left: %v, %v", l, err)
	}
	lease, err := store.New(engine, store.LeaseResource()).Get(ctx, replicaset.Namespace, "quickstart")
	if err != nil || lease.Holder() != "" {
		t.Errorf("lease after Run: %+v, %v; want released", lease, err)
	}
}

func TestRunStopsCleanlyWhenCancelled(t *testing.T) {
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	if err := replicaset.Run(ctx, engine, &out); err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
	if !strings.Contains(out.String(), "interrupted") {
		t.Fatalf("output does not say it was interrupted:\n%s", out.String())
	}
}

func TestRunCleansUpAnInterruptedRun(t *testing.T) {
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	ctx := context.Background()
	// An earlier run left the set (with its finalizer) and a pod behind.
	sets := store.New(engine, replicaset.SetResource())
	set, err := sets.Create(ctx, &replicaset.ReplicaSet{
		ObjectMeta: meta.ObjectMeta{Namespace: replicaset.Namespace, Name: replicaset.SetName, Finalizers: []string{replicaset.Finalizer}},
		Spec:       replicaset.ReplicaSetSpec{Replicas: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := store.New(engine, replicaset.PodResource()).Create(ctx, &replicaset.Pod{ObjectMeta: meta.ObjectMeta{
		Namespace: replicaset.Namespace, Name: "web-0", Labels: map[string]string{"replicaset": "web"},
		OwnerReferences: []meta.OwnerReference{{APIVersion: replicaset.APIVersion, Kind: "ReplicaSet", Name: "web", UID: set.UID, Controller: &yes}},
	}}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := replicaset.Run(ctx, engine, &out); err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "left by an earlier run") || !strings.Contains(out.String(), "== done") {
		t.Fatalf("output:\n%s", out.String())
	}
}
