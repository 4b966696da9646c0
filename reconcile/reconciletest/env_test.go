package reconciletest_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/governor-io/governor/examples/quickstart/replicaset"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/reconcile/reconciletest"
	"github.com/governor-io/governor/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newReplicaSetEnv runs the quickstart's ReplicaSet controller in an Env.
func newReplicaSetEnv(t *testing.T) (*reconciletest.Env, *reconciletest.Informer[*replicaset.ReplicaSet], *reconciletest.Informer[*replicaset.Pod]) {
	env := reconciletest.New(t)
	sets := reconciletest.AddInformer(env, replicaset.SetResource())
	pods := reconciletest.AddInformer(env, replicaset.PodResource())
	rec := &replicaset.Reconciler{Sets: sets.Client(env), Pods: pods.Client(env)}
	ctrl, err := reconcile.New[reconcile.Request](rec, reconciletest.ControllerOptions[reconcile.Request](env, "replicaset"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ctrl.Watch(reconcile.FromInformer(sets.Informer, reconcile.OwnKey[*replicaset.ReplicaSet](), reconcile.InformerOptions[*replicaset.ReplicaSet]{})); err != nil {
		t.Fatal(err)
	}
	if err := ctrl.Watch(reconcile.FromInformer(pods.Informer, reconcile.ControllerOwner[*replicaset.Pod](replicaset.APIVersion, "ReplicaSet"), reconcile.InformerOptions[*replicaset.Pod]{})); err != nil {
		t.Fatal(err)
	}
	env.AddController(ctrl)
	env.Start()
	return env, sets, pods
}

func podCount(t *testing.T, pods *reconciletest.Informer[*replicaset.Pod]) int {
	t.Helper()
	l, err := pods.Store.List(context.Background(), store.ListOptions{Namespace: "ns"})
	if err != nil {
		t.Fatal(err)
	}
	return len(l.Items)
}

func TestReplicaSetThroughTheHarness(t *testing.T) {
	env, sets, pods := newReplicaSetEnv(t)
	ctx := context.Background()
	if _, err := sets.Store.Create(ctx, &replicaset.ReplicaSet{
		ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec:       replicaset.ReplicaSetSpec{Replicas: 3},
	}); err != nil {
		t.Fatal(err)
	}
	env.Settle()
	if n := podCount(t, pods); n != 3 {
		t.Fatalf("pods after create = %d, want 3", n)
	}
	set, err := sets.Store.Get(ctx, "ns", "web")
	if err != nil || set.Status.Replicas != 3 || len(set.Finalizers) != 1 {
		t.Fatalf("set = %+v, %v; want status 3 and the finalizer", set, err)
	}

	// Someone deletes a pod behind the controller's back: it is replaced.
	if _, err := pods.Store.Delete(ctx, "ns", "web-1", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	env.Settle()
	if _, err := pods.Store.Get(ctx, "ns", "web-1"); err != nil || podCount(t, pods) != 3 {
		t.Fatalf("web-1 not replaced: %v, %d pods", err, podCount(t, pods))
	}

	if _, err := sets.Store.Delete(ctx, "ns", "web", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	env.Settle()
	if n := podCount(t, pods); n != 0 {
		t.Fatalf("pods after delete = %d, want 0", n)
	}
	if _, err := sets.Store.Get(ctx, "ns", "web"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("set after delete: %v, want NotFound", err)
	}
}

func TestStepFiresDelayedRequeues(t *testing.T) {
	env := reconciletest.New(t)
	var calls atomic.Int64
	r := reconcile.Func[string](func(context.Context, string) (reconcile.Result, error) {
		calls.Add(1)
		return reconcile.RequeueAfter(time.Minute), nil
	})
	ctrl, err := reconcile.New[string](r, reconciletest.ControllerOptions[string](env, "poller"))
	if err != nil {
		t.Fatal(err)
	}
	env.AddController(ctrl)
	env.Start()
	ctrl.Enqueue("x")
	env.Settle()
	if calls.Load() != 1 {
		t.Fatalf("calls = %d, want 1", calls.Load())
	}
	env.Step(59 * time.Second)
	if calls.Load() != 1 {
		t.Fatalf("calls after 59s = %d, want 1", calls.Load())
	}
	env.Step(time.Second)
	if calls.Load() != 2 {
		t.Fatalf("calls after 60s = %d, want 2", calls.Load())
	}
}
