// Package reconciletest runs a user's controllers against a real in-memory
// store, a real [reconcile.Manager] and a fake clock, so that a controller
// test is deterministic and needs neither an API server (envtest) nor a fake
// client that disagrees with the real store.
//
// A test makes an [Env], adds a store and its informer per type with
// [AddInformer], adds its controllers to the Env's Manager ([NewController],
// or the operator's own setup function given env.Manager), and starts it.
// It then writes objects through the stores, calls [Env.Settle] to wait
// until nothing is left to do (every cache has caught up with the store,
// every informer handler has handled what it got, every queue is empty and
// no reconcile is in flight), and asserts on the stored objects and on the
// Events in [Env].Events. [Env.Step] moves the fake clock, which fires
// delayed requeues, backoffs and timeouts, and settles again:
//
//	func TestBackup(t *testing.T) {
//		env := reconciletest.New(t)
//		backups := reconciletest.AddInformer(env, BackupResource())
//		jobs := reconciletest.AddInformer(env, JobResource())
//		r := &BackupReconciler{Backups: backups.Client(env), Jobs: jobs.Client(env)}
//		reconciletest.NewController(env, "backup", r, reconcile.Options[reconcile.Request]{},
//			reconcile.For(backups.Store), reconcile.Owns(jobs.Store))
//		env.Start()
//		ctx := context.Background()
//		if _, err := backups.Store.Create(ctx, &Backup{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "nightly"}}); err != nil {
//			t.Fatal(err)
//		}
//		env.Settle()        // the first job is created
//		env.Step(time.Hour) // the hourly requeue fires: the second one
//		l, err := jobs.Store.List(ctx, meta.ListOptions{Namespace: "ns"})
//		if err != nil || len(l.Items) != 2 {
//			t.Fatalf("jobs = %v, %v; want 2", l, err)
//		}
//	}
//
// The Env's informers run with the cache-mutation detector
// ([informer.Options].DetectMutations): a handler or reconciler that
// modifies a shared cached object instead of a copy fails the test, with
// the object and the change named ([Options].AllowCacheMutations turns it
// off).
//
// Settle waits on the components' activity signals ([informer.Informer.Activity],
// [reconcile.Controller.Activity]), never on wall time: it wakes when
// something changes, and returns as soon as everything is idle. An Env
// needs only a [TB], so that an Example can run one too.
package reconciletest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/event"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// Epoch is the time a new Env's fake clock starts at.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// DefaultSettleTimeout is the wall-clock time [Env.Settle] waits before it
// fails the test: a guard against a controller that never settles, not a
// synchronisation delay.
const DefaultSettleTimeout = 30 * time.Second

// Controller is what [Env.AddController] accepts: a [reconcile.Controller]
// of any request type.
type Controller interface {
	reconcile.Runnable
	Name() string
	Idle() bool
	Activity() <-chan struct{}
}

// TB is the part of [testing.TB] that an [Env] uses. *testing.T and
// *testing.B are TBs; so is anything else that reports failures, such as
// an Example's own reporter. Fatalf must not return: it stops the
// goroutine (runtime.Goexit, as testing does) or panics.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	// Cleanup registers a function to call when the test ends.
	Cleanup(func())
}

// Env is one test's control plane: a fake clock, an in-memory MVCC engine,
// and a manager that runs informers and controllers on them.
type Env struct {
	// T is the test.
	T TB
	// Clock is the fake clock that every part of the Env uses.
	Clock *clocktest.Fake
	// KV is the in-memory engine behind every store of the Env.
	KV *mvcc.Engine
	// Manager runs the informers and controllers.
	Manager *reconcile.Manager
	// Events is the store of the Events that the manager's
	// [reconcile.Manager.EventRecorder] recorders write (a store on KV
	// unless [WithManagerOptions] sets another): list it to assert on what
	// a controller recorded.
	Events *store.Store[*event.Event]
	// SettleTimeout bounds Settle in wall-clock time.
	SettleTimeout time.Duration

	mu        sync.Mutex
	informers []envInformer
	cancel    context.CancelFunc
	done      chan error
}

// envInformer is an informer of the Env, of any object type.
type envInformer interface {
	Idle() bool
	Activity() <-chan struct{}
	// caughtUp compares the cache with the store.
	caughtUp(ctx context.Context) (bool, error)
	CheckMutations() error
	name() string
}

// Options configure an [Env]. The zero value gives the defaults.
type Options struct {
	// Manager are the options the Env's manager is made with. Its Clock is
	// always the Env's; a zero GracefulShutdownTimeout means one minute,
	// and nil Events means an event store on the Env's engine. Unless
	// AllowCacheMutations is set, DetectCacheMutations is on, and a nil
	// OnCacheMutation fails the test with the error.
	Manager reconcile.ManagerOptions
	// AllowCacheMutations turns off the cache-mutation detector. By default
	// the Env's informers keep a private copy of every cached object, and a
	// handler or reconciler that modifies a shared object fails the test:
	// when a handler returns, at the next event on the object, at Settle,
	// and when the Env stops.
	AllowCacheMutations bool
}

// New returns an Env with the default [Options], whose parts are closed
// when the test ends.
func New(t TB) *Env {
	t.Helper()
	return NewWithOptions(t, Options{})
}

// NewWithOptions returns an Env configured by opts, whose parts are closed
// when the test ends.
func NewWithOptions(t TB, opts Options) *Env {
	t.Helper()
	clk := clocktest.New(Epoch)
	engine := mvcc.New(mvcc.Options{Clock: clk})
	mo := opts.Manager
	if mo.GracefulShutdownTimeout == 0 {
		mo.GracefulShutdownTimeout = time.Minute
	}
	if mo.Events == nil {
		mo.Events = store.NewWithOptions(engine, event.Resource, store.Options{Clock: clk})
	}
	if !opts.AllowCacheMutations {
		mo.DetectCacheMutations = true
		if mo.OnCacheMutation == nil {
			mo.OnCacheMutation = func(err error) { t.Errorf("reconciletest: %v", err) }
		}
	}
	mo.Clock = clk
	mgr, err := reconcile.NewManager(mo)
	if err != nil {
		t.Fatalf("reconciletest: %v", err)
	}
	e := &Env{T: t, Clock: clk, KV: engine, Manager: mgr, Events: mo.Events, SettleTimeout: DefaultSettleTimeout}
	t.Cleanup(func() {
		e.Stop()
		_ = engine.Close()
	})
	return e
}

// Informer is an informer that an [Env] runs, with the store it watches.
type Informer[T meta.Object] struct {
	*informer.Informer[T]
	// Store is the store the informer watches; write through it.
	Store *store.Store[T]

	resource string
}

// AddInformer makes a store of r on the Env's engine and gets the manager's
// shared informer over it ([reconcile.InformerFor]): the one that
// [reconcile.For], [reconcile.Owns] and [reconcile.Watches] of the same
// Store use. Call it before [Env.Start].
func AddInformer[T meta.Object](e *Env, r store.Resource[T]) *Informer[T] {
	e.T.Helper()
	st := store.NewWithOptions(e.KV, r, store.Options{Clock: e.Clock})
	inf, err := reconcile.InformerFor(e.Manager, st)
	if err != nil {
		e.T.Fatalf("reconciletest: %v", err)
	}
	i := &Informer[T]{Informer: inf, Store: st, resource: r.Name}
	e.mu.Lock()
	e.informers = append(e.informers, i)
	e.mu.Unlock()
	return i
}

func (i *Informer[T]) name() string { return i.resource }

// caughtUp reports whether the cache holds exactly what the store holds,
// at the same resourceVersions.
func (i *Informer[T]) caughtUp(ctx context.Context) (bool, error) {
	if !i.HasSynced() {
		return false, nil
	}
	list, err := i.Store.List(ctx, meta.ListOptions{})
	if err != nil {
		return false, err
	}
	cached, err := i.Lister().List("")
	if err != nil {
		return false, err
	}
	if len(cached) != len(list.Items) {
		return false, nil
	}
	for _, obj := range list.Items {
		m := obj.GetObjectMeta()
		c, ok := i.Lister().Get(m.Namespace, m.Name)
		if !ok || c.GetObjectMeta().ResourceVersion != m.ResourceVersion {
			return false, nil
		}
	}
	return true, nil
}

// Client returns the manager's [reconcile.Client] over the informer
// ([reconcile.ClientFor]), which records its writes in the manager's
// Freshness.
func (i *Informer[T]) Client(e *Env) *reconcile.Client[T] {
	e.T.Helper()
	c, err := reconcile.ClientFor(e.Manager, i.Store)
	if err != nil {
		e.T.Fatalf("reconciletest: %v", err)
	}
	return c
}

// AddController adds a controller made with [reconcile.New] to the
// manager. Call it before [Env.Start]. A controller made with
// [reconcile.NewController] is already added: use [NewController], or
// call reconcile.NewController on the Env's Manager, as an operator's own
// setup function does. [Env.Settle] waits on every controller of the
// manager, however it was added.
func (e *Env) AddController(c Controller) {
	e.T.Helper()
	if err := e.Manager.Add(c); err != nil {
		e.T.Fatalf("reconciletest: %v", err)
	}
}

// NewController is [reconcile.NewController] on the Env's manager (its
// fake clock, metrics and Freshness), failing the test on an error. Use the Stores of the Env's informers in the watches, so
// that they share the informers:
//
//	reconciletest.NewController(env, "replicaset", rec, reconcile.Options[reconcile.Request]{},
//		reconcile.For(sets.Store), reconcile.Owns(pods.Store))
//
// Call it before [Env.Start].
func NewController(e *Env, name string, r reconcile.Reconciler[reconcile.Request], opts reconcile.Options[reconcile.Request], watches ...reconcile.Watch) *reconcile.Controller[reconcile.Request] {
	e.T.Helper()
	c, err := reconcile.NewController(e.Manager, name, r, opts, watches...)
	if err != nil {
		e.T.Fatalf("reconciletest: %v", err)
	}
	return c
}

// ControllerOptions returns [reconcile.Options] wired to the Env: its clock,
// the manager's metrics and Freshness.
func ControllerOptions[Req comparable](e *Env, name string) reconcile.Options[Req] {
	return reconcile.Options[Req]{Name: name, Clock: e.Clock, Metrics: e.Manager.Metrics(),
		Freshness: e.Manager.Freshness()}
}

// Start starts the manager and waits until its caches have synced and the
// controllers have settled.
func (e *Env) Start() {
	e.T.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.done = make(chan error, 1)
	go func() { e.done <- e.Manager.Start(ctx) }()
	select {
	case <-e.Manager.Started():
	case err := <-e.done:
		e.done <- err
		e.T.Fatalf("reconciletest: manager stopped while starting: %v", err)
	case <-time.After(e.SettleTimeout):
		e.T.Fatalf("reconciletest: caches did not sync within %s", e.SettleTimeout)
	}
	e.Settle()
}

// Stop stops the manager and waits for it. The Env's cleanup calls it; a
// test may call it earlier.
func (e *Env) Stop() {
	e.T.Helper()
	if e.cancel == nil {
		return
	}
	e.cancel()
	e.cancel = nil
	select {
	case err := <-e.done:
		if err != nil {
			e.T.Errorf("reconciletest: manager stopped with %v", err)
		}
	case <-time.After(e.SettleTimeout):
		e.T.Errorf("reconciletest: manager did not stop within %s", e.SettleTimeout)
	}
}

// Step moves the fake clock forward by d, firing what is due, and settles.
func (e *Env) Step(d time.Duration) {
	e.T.Helper()
	e.Clock.Step(d)
	e.Settle()
}

// Settle waits until nothing is left to do: every informer has synced, its
// cache holds what its store holds, and each of its handlers has handled
// what was buffered for it and is not in a call; every controller has
// synced, has an empty queue and no reconcile in flight. It waits on the
// components' activity signals, never on wall time, and returns as soon as
// all of them are idle at once.
//
// Requests waiting out a delay (RequeueAfter, backoff) are not work until
// the clock reaches them: use [Env.Step]. Work that a component starts on
// its own when a fake-clock timer fires counts from the moment it is due
// for the components that report it: a controller's delayed requeues, an
// informer's resyncs, a [reconcile.Periodic] source's ticks. A timer that
// a component of your own reads in its own goroutine counts only once its
// effect shows (a request enqueued, an object written). Settle fails the
// test if the Env does not settle within SettleTimeout of wall-clock time,
// naming what was still busy, and if a cached object was modified.
func (e *Env) Settle() {
	e.T.Helper()
	if err := e.settle(); err != nil {
		e.T.Fatalf("reconciletest: %v", err)
	}
}

func (e *Env) settle() error {
	ctx, cancel := context.WithTimeout(context.Background(), e.SettleTimeout)
	defer cancel()
	for {
		e.mu.Lock()
		var ctrls []Controller
		for _, r := range e.Manager.Runnables() {
			if c, ok := r.(Controller); ok {
				ctrls = append(ctrls, c)
			}
		}
		infs := append([]envInformer(nil), e.informers...)
		e.mu.Unlock()
		// Take the wake-up channels before checking, so that no change
		// after a check is missed.
		cases := make([]reflect.SelectCase, 0, len(infs)+len(ctrls)+1)
		for _, i := range infs {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(i.Activity())})
		}
		for _, c := range ctrls {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c.Activity())})
		}
		busy, err := e.busy(ctx, ctrls, infs)
		if err != nil {
			return err
		}
		if len(busy) == 0 {
			// The checks are one after the other, not one atomic read: a
			// component that changed while another was checked (a
			// reconcile that wrote and finished) has closed its channel
			// since. Settled only if none has.
			if !anyReady(cases) {
				return checkMutations(infs)
			}
			continue
		}
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())})
		if chosen, _, _ := reflect.Select(cases); chosen == len(cases)-1 {
			return fmt.Errorf("not settled after %s: %s", e.SettleTimeout, strings.Join(busy, "; "))
		}
	}
}

// checkMutations returns what the informers' mutation detectors find.
func checkMutations(infs []envInformer) error {
	var errs []error
	for _, i := range infs {
		errs = append(errs, i.CheckMutations())
	}
	return errors.Join(errs...)
}

// anyReady reports whether any of the channels is closed, without waiting.
func anyReady(cases []reflect.SelectCase) bool {
	cases = append(cases, reflect.SelectCase{Dir: reflect.SelectDefault})
	chosen, _, _ := reflect.Select(cases)
	return chosen != len(cases)-1
}

// busy returns what is not idle, all of it, so that a failure names
// everything that kept the Env from settling.
func (e *Env) busy(ctx context.Context, ctrls []Controller, infs []envInformer) ([]string, error) {
	var busy []string
	for _, i := range infs {
		ok, err := i.caughtUp(ctx)
		if err != nil {
			return nil, fmt.Errorf("compare the %s cache with its store: %w", i.name(), err)
		}
		if !ok {
			busy = append(busy, fmt.Sprintf("the %s cache is behind its store", i.name()))
		}
		if !i.Idle() {
			busy = append(busy, fmt.Sprintf("the %s informer has handlers at work or a resync due", i.name()))
		}
	}
	for _, c := range ctrls {
		if !c.Idle() {
			busy = append(busy, fmt.Sprintf("controller %s has work", c.Name()))
		}
	}
	return busy, nil
}
