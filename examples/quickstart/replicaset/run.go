package replicaset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// Namespace and SetName name the ReplicaSet the demo script drives.
const (
	Namespace = "demo"
	SetName   = "web"
)

// StepTimeout bounds each step of the script.
const StepTimeout = 30 * time.Second

// Setup is the demo's control plane, built by [NewSetup].
type Setup struct {
	Sets    *store.Store[*ReplicaSet]
	Pods    *store.Store[*Pod]
	Manager *reconcile.Manager
	// Controller is the ReplicaSet controller, already added to Manager.
	Controller *reconcile.Controller[reconcile.Request]

	progress chan struct{} // closed and replaced after every reconcile
	mu       sync.Mutex
}

// NewSetup builds stores for ReplicaSets, Pods and Leases on backend, their
// informers, and a manager running the ReplicaSet controller under leader
// election (lease demo/quickstart). The controller prints its actions to out.
func NewSetup(backend kv.KV, out io.Writer, mo reconcile.ManagerOptions) (*Setup, error) {
	clk := clock.OrReal(mo.Clock)
	s := &Setup{
		Sets:     store.NewWithOptions(backend, SetResource(), store.Options{Clock: clk}),
		Pods:     store.NewWithOptions(backend, PodResource(), store.Options{Clock: clk}),
		progress: make(chan struct{}),
	}
	if mo.LeaderElection == nil {
		host, _ := os.Hostname()
		mo.LeaderElection = &reconcile.LeaderElectionOptions{
			Lock:     reconcile.StoreLeaseLock(store.NewWithOptions(backend, store.LeaseResource(), store.Options{Clock: clk}), Namespace, "quickstart"),
			Identity: fmt.Sprintf("%s-%d", host, os.Getpid()),
			Name:     "quickstart",
		}
	}
	if mo.GracefulShutdownTimeout == 0 {
		mo.GracefulShutdownTimeout = 10 * time.Second
	}
	mgr, err := reconcile.NewManager(mo)
	if err != nil {
		return nil, err
	}
	s.Manager = mgr
	sets, err := reconcile.ClientFor(mgr, s.Sets)
	if err != nil {
		return nil, err
	}
	pods, err := reconcile.ClientFor(mgr, s.Pods)
	if err != nil {
		return nil, err
	}
	rec := &Reconciler{Sets: sets, Pods: pods, Out: out}
	ctrl, err := reconcile.NewController(mgr, "replicaset", reconcile.Func[reconcile.Request](
		func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
			defer s.bump()
			return rec.Reconcile(ctx, req)
		}), reconcile.Options[reconcile.Request]{Workers: 2},
		reconcile.For(s.Sets), reconcile.Owns(s.Pods))
	if err != nil {
		return nil, err
	}
	s.Controller = ctrl
	return s, nil
}

func (s *Setup) bump() {
	s.mu.Lock()
	close(s.progress)
	s.progress = make(chan struct{})
	s.mu.Unlock()
}

func (s *Setup) changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.progress
}

// waitFor waits until cond holds, re-checking after every reconcile.
func (s *Setup) waitFor(ctx context.Context, what string, cond func(ctx context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeoutCause(ctx, StepTimeout, fmt.Errorf("quickstart: %s: not reached within %s", what, StepTimeout))
	defer cancel()
	for {
		ch := s.changed()
		ok, err := cond(ctx)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// gone reports whether the demo set and its pods are gone.
func (s *Setup) gone(ctx context.Context) (bool, error) {
	_, err := s.Sets.Get(ctx, Namespace, SetName)
	if err != nil && !errors.Is(err, meta.ErrNotFound) {
		return false, err
	}
	names, lerr := s.PodNames(ctx)
	return err != nil && len(names) == 0, lerr
}

// removeLeftovers deletes a demo set that an interrupted earlier run left
// in a persistent store (etcd, say), and lets the controller clean it up.
func (s *Setup) removeLeftovers(ctx context.Context, out io.Writer) error {
	if ok, err := s.gone(ctx); err != nil || ok {
		return err
	}
	fmt.Fprintf(out, "== removing %s/%s left by an earlier run\n", Namespace, SetName)
	if _, err := s.Sets.Delete(ctx, Namespace, SetName, meta.DeleteOptions{}); err != nil && !errors.Is(err, meta.ErrNotFound) {
		return err
	}
	return s.waitFor(ctx, "leftovers gone", s.gone)
}

// PodNames returns the names of the pods of the demo set, from the store.
func (s *Setup) PodNames(ctx context.Context) ([]string, error) {
	list, err := s.Pods.List(ctx, meta.ListOptions{Namespace: Namespace, LabelSelector: "replicaset=" + SetName})
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(list.Items))
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			names = append(names, p.Name)
		}
	}
	return names, nil
}

// settled reports whether the demo set has n pods and a status that says so.
func (s *Setup) settled(n int) func(ctx context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		set, err := s.Sets.Get(ctx, Namespace, SetName)
		if err != nil {
			return false, err
		}
		names, err := s.PodNames(ctx)
		if err != nil {
			return false, err
		}
		return len(names) == n && set.Status.Replicas == int32(n) && set.Status.ObservedGeneration == set.Generation, nil
	}
}

// Run is the quickstart demo on backend, printing to out: it starts a
// manager with the ReplicaSet controller, creates demo/web with 3 replicas,
// scales it to 5 and to 2, deletes it and watches the finalizer clean up,
// then shuts down (releasing the lease) and returns nil. When ctx is done
// first it shuts down the same way and returns nil.
func Run(ctx context.Context, backend kv.KV, out io.Writer) error {
	return RunWith(ctx, backend, out, reconcile.ManagerOptions{})
}

// RunWith is [Run] with manager options (an HTTP address, a logger, a
// clock).
func RunWith(ctx context.Context, backend kv.KV, out io.Writer, mo reconcile.ManagerOptions) error {
	return RunWithOptions(ctx, backend, out, RunOptions{Manager: mo})
}

// RunOptions configure [RunWithOptions].
type RunOptions struct {
	// Manager configures the manager (an HTTP address, a logger, a clock).
	Manager reconcile.ManagerOptions
	// KeepRunning keeps the manager running after the script, until ctx is
	// done, so that its /metrics, /healthz and /readyz can be scraped.
	KeepRunning bool
}

// RunWithOptions is [Run] with options. With KeepRunning, once the script
// is done it prints that the manager keeps running (and where its metrics
// are, when it serves HTTP) and waits for ctx before shutting down.
func RunWithOptions(ctx context.Context, backend kv.KV, out io.Writer, ro RunOptions) error {
	mo := ro.Manager
	// The script and the controller's workers print to out concurrently.
	out = &lockedWriter{w: out}
	s, err := NewSetup(backend, out, mo)
	if err != nil {
		return err
	}
	mgrCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	done := make(chan error, 1)
	go func() { done <- s.Manager.Start(mgrCtx) }()
	stopManager := func() error {
		stop()
		err := <-done
		fmt.Fprintln(out, "manager stopped: reconciles drained, lease released")
		return err
	}

	fmt.Fprintf(out, "governor quickstart on %s: a manager and a ReplicaSet controller\n", storeName(backend))
	select {
	case <-s.Manager.Elected():
	case err := <-done:
		return fmt.Errorf("quickstart: manager stopped: %w", err)
	case <-ctx.Done():
		fmt.Fprintln(out, "interrupted")
		return stopManager()
	}
	if a := s.Manager.Addr(); a != nil {
		fmt.Fprintf(out, "metrics: http://%s/metrics (also /healthz and /readyz)\n", a)
	}
	fmt.Fprintf(out, "caches synced; this replica leads (lease %s/quickstart)\n", Namespace)

	err = s.script(ctx, out)
	if err == nil && ro.KeepRunning && ctx.Err() == nil {
		if a := s.Manager.Addr(); a != nil {
			fmt.Fprintf(out, "the manager keeps running; metrics: http://%s/metrics (Ctrl-C to stop)\n", a)
		} else {
			fmt.Fprintln(out, "the manager keeps running (Ctrl-C to stop)")
		}
		select {
		case <-ctx.Done():
		case err := <-done:
			return fmt.Errorf("quickstart: manager stopped: %w", err)
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(out, "interrupted")
		err = nil
	}
	if serr := stopManager(); err == nil {
		err = serr
	}
	return err
}

func (s *Setup) script(ctx context.Context, out io.Writer) error {
	step := func(n int) error {
		if err := s.waitFor(ctx, fmt.Sprintf("%d replicas", n), s.settled(n)); err != nil {
			return err
		}
		names, err := s.PodNames(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "   ok: %d pods: %s\n", len(names), strings.Join(names, " "))
		return nil
	}
	scale := func(n int32) error {
		fmt.Fprintf(out, "== scale %s/%s to %d\n", Namespace, SetName, n)
		_, err := s.Sets.GuaranteedUpdate(ctx, Namespace, SetName, func(rs *ReplicaSet) (*ReplicaSet, error) {
			rs.Spec.Replicas = n
			return rs, nil
		})
		if err != nil {
			return err
		}
		return step(int(n))
	}

	if err := s.removeLeftovers(ctx, out); err != nil {
		return err
	}
	fmt.Fprintf(out, "== create replicaset %s/%s with 3 replicas\n", Namespace, SetName)
	_, err := s.Sets.Create(ctx, &ReplicaSet{
		ObjectMeta: meta.ObjectMeta{Namespace: Namespace, Name: SetName},
		Spec:       ReplicaSetSpec{Replicas: 3, Template: PodSpec{Image: "nginx:1.27"}},
	})
	if err != nil {
		return fmt.Errorf("quickstart: %w", err)
	}
	if err := step(3); err != nil {
		return err
	}
	if err := scale(5); err != nil {
		return err
	}
	if err := scale(2); err != nil {
		return err
	}
	fmt.Fprintf(out, "== delete replicaset %s/%s (its finalizer holds it until the controller deletes its pods)\n", Namespace, SetName)
	if _, err := s.Sets.Delete(ctx, Namespace, SetName, meta.DeleteOptions{}); err != nil {
		return err
	}
	if err := s.waitFor(ctx, "the set and its pods gone", s.gone); err != nil {
		return err
	}
	fmt.Fprintln(out, "   ok: replicaset and pods gone")
	fmt.Fprintln(out, "== done")
	return nil
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// storeName names the store under the demo in its banner: its String
// method when it has one (etcdkv's names etcd and its endpoints), the
// in-memory engine by what it is, anything else by its type.
func storeName(backend kv.KV) string {
	switch b := backend.(type) {
	case fmt.Stringer:
		return b.String()
	case *mvcc.Engine:
		return "the embedded in-memory store"
	default:
		return fmt.Sprintf("a %T", backend)
	}
}
