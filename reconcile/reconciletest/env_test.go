package reconciletest_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/reconcile/reconciletest"
	"github.com/governor-io/governor/store/meta"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newReplicaSetEnv runs the tests' ReplicaSet controller in an Env.
func newReplicaSetEnv(t *testing.T) (*reconciletest.Env, *reconciletest.Informer[*ReplicaSet], *reconciletest.Informer[*Pod]) {
	env := reconciletest.New(t)
	sets := reconciletest.AddInformer(env, SetResource())
	pods := reconciletest.AddInformer(env, PodResource())
	rec := &Reconciler{Sets: sets.Client(env), Pods: pods.Client(env)}
	reconciletest.NewController(env, "replicaset", rec, reconcile.Options[reconcile.Request]{},
		reconcile.For(sets.Store), reconcile.Owns(pods.Store))
	env.Start()
	return env, sets, pods
}

func podCount(t *testing.T, pods *reconciletest.Informer[*Pod]) int {
	t.Helper()
	l, err := pods.Store.List(context.Background(), meta.ListOptions{Namespace: "ns"})
	if err != nil {
		t.Fatal(err)
	}
	return len(l.Items)
}

func TestReplicaSetThroughTheHarness(t *testing.T) {
	env, sets, pods := newReplicaSetEnv(t)
	ctx := context.Background()
	if _, err := sets.Store.Create(ctx, &ReplicaSet{
		ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec:       ReplicaSetSpec{Replicas: 3},
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
	if _, err := pods.Store.Delete(ctx, "ns", "web-1", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	env.Settle()
	if _, err := pods.Store.Get(ctx, "ns", "web-1"); err != nil || podCount(t, pods) != 3 {
		t.Fatalf("web-1 not replaced: %v, %d pods", err, podCount(t, pods))
	}

	if _, err := sets.Store.Delete(ctx, "ns", "web", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	env.Settle()
	if n := podCount(t, pods); n != 0 {
		t.Fatalf("pods after delete = %d, want 0", n)
	}
	if _, err := sets.Store.Get(ctx, "ns", "web"); !errors.Is(err, meta.ErrNotFound) {
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

// flappingController is a Controller that is always idle but announces
// activity at each of its first Idle calls, so that Settle checks
// everything again; at the third it runs onThird. It lets a test act at a
// known point of Settle's checks, whatever the scheduling.
type flappingController struct {
	mu      sync.Mutex
	act     chan struct{}
	calls   int
	onThird func()
}

func newFlappingController() *flappingController {
	return &flappingController{act: make(chan struct{})}
}

func (f *flappingController) Start(ctx context.Context) error { <-ctx.Done(); return nil }
func (f *flappingController) NeedLeaderElection() bool        { return false }
func (f *flappingController) Name() string                    { return "flapping" }

func (f *flappingController) Activity() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.act
}

func (f *flappingController) Idle() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.onThird == nil {
		return true // not armed yet
	}
	f.calls++
	if f.calls <= 3 {
		if f.calls == 3 {
			f.onThird()
		}
		close(f.act)
		f.act = make(chan struct{})
	}
	return true
}

func (f *flappingController) arm(onThird func()) {
	f.mu.Lock()
	f.onThird = onThird
	f.mu.Unlock()
}

// A handler that is not a controller's, still in its call, keeps Settle
// waiting even though every cache has caught up and every controller is
// idle. Settle used to check only caches and controllers, twice a
// millisecond apart: here it checks twice with the handler held in its call.
func TestSettleWaitsForEveryInformerHandler(t *testing.T) {
	env := reconciletest.New(t)
	sets := reconciletest.AddInformer(env, SetResource())
	gate := make(chan struct{})
	var handled atomic.Bool
	if _, err := sets.AddHandler(informer.HandlerFuncs[*ReplicaSet]{
		AddFunc: func(*ReplicaSet, bool) {
			<-gate
			handled.Store(true)
		},
	}); err != nil {
		t.Fatal(err)
	}
	flap := newFlappingController()
	env.AddController(flap)
	env.Start()

	// The handler is released only at Settle's third round of checks (or
	// when the test ends, should Settle return before that).
	var release sync.Once
	open := func() { release.Do(func() { close(gate) }) }
	t.Cleanup(open) // runs before the Env's cleanup stops the manager
	flap.arm(open)
	if _, err := sets.Store.Create(context.Background(), &ReplicaSet{
		ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "web"},
	}); err != nil {
		t.Fatal(err)
	}
	env.Settle()
	if !handled.Load() {
		t.Fatal("Settle returned while an informer handler was still in its call")
	}
}

// chainReconcilers: a parent's reconcile creates its child, and the
// child's reconcile marks it. Each step needs an informer event and a
// reconcile, so Settle must follow the whole chain.
func TestSettleFollowsAChainOfReconciles(t *testing.T) {
	env := reconciletest.New(t)
	sets := reconciletest.AddInformer(env, SetResource())
	pods := reconciletest.AddInformer(env, PodResource())
	var childReconciles atomic.Int64

	parent := reconcile.Func[reconcile.Request](func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		if _, ok := sets.Lister().Get(req.Namespace, req.Name); !ok {
			return reconcile.Result{}, nil
		}
		_, err := pods.Store.Create(ctx, &Pod{ObjectMeta: meta.ObjectMeta{Namespace: req.Namespace, Name: req.Name + "-child"}})
		if errors.Is(err, meta.ErrAlreadyExists) {
			err = nil
		}
		return reconcile.Result{}, err
	})
	child := reconcile.Func[reconcile.Request](func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		childReconciles.Add(1)
		pod, ok := pods.Lister().Get(req.Namespace, req.Name)
		if !ok || pod.Spec.Image != "" {
			return reconcile.Result{}, nil
		}
		pod = meta.DeepCopy(pod)
		pod.Spec.Image = "reconciled"
		_, err := pods.Store.Update(ctx, pod)
		return reconcile.Result{}, err
	})
	for _, c := range []struct {
		name string
		r    reconcile.Reconciler[reconcile.Request]
		src  reconcile.Source[reconcile.Request]
	}{
		{"parents", parent, reconcile.FromInformer(sets.Informer, reconcile.OwnKey[*ReplicaSet](), reconcile.InformerOptions[*ReplicaSet]{})},
		{"children", child, reconcile.FromInformer(pods.Informer, reconcile.OwnKey[*Pod](), reconcile.InformerOptions[*Pod]{})},
	} {
		ctrl, err := reconcile.New(c.r, reconciletest.ControllerOptions[reconcile.Request](env, c.name))
		if err != nil {
			t.Fatal(err)
		}
		if err := ctrl.Watch(c.src); err != nil {
			t.Fatal(err)
		}
		env.AddController(ctrl)
	}
	env.Start()

	for i := range 5 {
		if _, err := sets.Store.Create(context.Background(), &ReplicaSet{
			ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: fmt.Sprintf("set-%d", i)},
		}); err != nil {
			t.Fatal(err)
		}
	}
	env.Settle()
	for i := range 5 {
		pod, err := pods.Store.Get(context.Background(), "ns", fmt.Sprintf("set-%d-child", i))
		if err != nil || pod.Spec.Image != "reconciled" {
			t.Fatalf("child of set-%d after Settle = %+v, %v; want it created and reconciled", i, pod, err)
		}
		if c, ok := pods.Lister().Get("ns", pod.Name); !ok || c.ResourceVersion != pod.ResourceVersion {
			t.Fatalf("the pods cache is behind the store after Settle")
		}
	}
	// Each child is reconciled once created and once more for its own
	// update, which Settle must also have waited for.
	if n := childReconciles.Load(); n != 10 {
		t.Errorf("child reconciles = %d, want 10", n)
	}
}

// Step fires a Periodic source's ticker; the source enqueues in its own
// goroutine, so Step's Settle must wait for the tick to be handled, and
// must not wait for ever when the tick enqueues nothing.
func TestStepWaitsForPeriodicSources(t *testing.T) {
	env := reconciletest.New(t)
	var calls atomic.Int64
	var list atomic.Value
	list.Store([]string{"x"})
	r := reconcile.Func[string](func(context.Context, string) (reconcile.Result, error) {
		calls.Add(1)
		return reconcile.Result{}, nil
	})
	ctrl, err := reconcile.New[string](r, reconciletest.ControllerOptions[string](env, "periodic"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ctrl.Watch(reconcile.Periodic(time.Minute, func() []string { return list.Load().([]string) }, env.Clock)); err != nil {
		t.Fatal(err)
	}
	env.AddController(ctrl)
	env.Start()
	for i := range 3 {
		env.Step(time.Minute)
		if n := calls.Load(); n != int64(i+1) {
			t.Fatalf("reconciles after %d periods = %d, want %d", i+1, n, i+1)
		}
	}
	list.Store([]string(nil))
	env.Step(time.Minute) // a tick with nothing to enqueue still settles
	env.Step(3 * time.Minute)
	if n := calls.Load(); n != 3 {
		t.Fatalf("reconciles after empty ticks = %d, want 3", n)
	}
	list.Store([]string{"x"})
	env.Step(time.Minute)
	if n := calls.Load(); n != 4 {
		t.Fatalf("reconciles after the list came back = %d, want 4", n)
	}
}

func TestNewWithOptionsGivesTheManagerItsOptionsButTheEnvsClock(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	env := reconciletest.NewWithOptions(t, reconciletest.Options{Manager: reconcile.ManagerOptions{
		Logger: log,
		Clock:  clocktest.New(time.Unix(0, 0)),
	}})
	if env.Manager.Logger() != log {
		t.Error("the manager does not log through the given logger")
	}
	if env.Manager.Clock() != env.Clock {
		t.Error("the manager does not run on the Env's clock")
	}
}

// An operator's own setup function adds its controller to the Env's
// Manager with reconcile.NewController, not through the Env: Settle still
// waits for it, because it waits on every controller of the manager.
func TestSettleWaitsForControllersAddedToTheManager(t *testing.T) {
	env := reconciletest.New(t)
	sets := reconciletest.AddInformer(env, SetResource())
	pods := reconciletest.AddInformer(env, PodResource())
	gate := make(chan struct{})
	var release sync.Once
	open := func() { release.Do(func() { close(gate) }) }
	t.Cleanup(open) // should Settle return early, the reconcile still ends
	podClient := pods.Client(env)
	r := reconcile.Func[reconcile.Request](func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		<-gate
		_, err := podClient.Create(ctx, &Pod{ObjectMeta: meta.ObjectMeta{Namespace: req.Namespace, Name: req.Name + "-pod"}})
		return reconcile.Done(), err
	})
	if _, err := reconcile.NewController(env.Manager, "setup", r, reconcile.Options[reconcile.Request]{}, reconcile.For(sets.Store)); err != nil {
		t.Fatal(err)
	}
	flap := newFlappingController()
	env.AddController(flap)
	env.Start()

	// The reconcile is held until Settle's third round of checks.
	flap.arm(open)
	if _, err := sets.Store.Create(context.Background(), &ReplicaSet{
		ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "web"},
	}); err != nil {
		t.Fatal(err)
	}
	env.Settle()
	if _, err := pods.Store.Get(context.Background(), "ns", "web-pod"); err != nil {
		t.Fatalf("Settle returned before the manager's controller reconciled: %v", err)
	}
}
