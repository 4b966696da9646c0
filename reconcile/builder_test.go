package reconcile_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// gadget is a stored type that widgets own.
type gadget struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
}

func gadgetResource() store.Resource[*gadget] {
	return store.Resource[*gadget]{Name: "gadgets", Kind: "Gadget", APIVersion: "test/v1", Namespaced: true}
}

// builderEnv is a manager over an in-memory engine with widget and gadget
// stores.
type builderEnv struct {
	engine  *mvcc.Engine
	widgets *store.Store[*widget]
	gadgets *store.Store[*gadget]
	mgr     *reconcile.Manager
	reg     *prometheus.Registry
}

func newBuilderEnv(t *testing.T, mo reconcile.ManagerOptions) *builderEnv {
	t.Helper()
	engine := mvcc.New(mvcc.Options{})
	t.Cleanup(func() { _ = engine.Close() })
	mo.Registry = prometheus.NewRegistry()
	mgr, err := reconcile.NewManager(mo)
	if err != nil {
		t.Fatal(err)
	}
	return &builderEnv{engine: engine, widgets: store.New(engine, widgetResource()), gadgets: store.New(engine, gadgetResource()),
		mgr: mgr, reg: mo.Registry}
}

// start runs the manager until the test ends and waits for its caches.
func (e *builderEnv) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := waitChan(t, done, "manager to stop"); err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	waitChan(t, e.mgr.Elected(), "manager to start its controllers")
}

// requestRecorder is a reconciler that sends every request it gets.
func requestRecorder() (reconcile.Reconciler[reconcile.Request], chan reconcile.Request) {
	ch := make(chan reconcile.Request, 64)
	return reconcile.Func[reconcile.Request](func(_ context.Context, req reconcile.Request) (reconcile.Result, error) {
		ch <- req
		return reconcile.Done(), nil
	}), ch
}

// waitRequest waits until want arrives on ch, skipping other requests.
func waitRequest(t *testing.T, ch <-chan reconcile.Request, want reconcile.Request) {
	t.Helper()
	for {
		if got := waitChan(t, ch, "request "+want.String()); got == want {
			return
		}
	}
}

// Owns maps an owned object to its controller owner with the apiVersion and
// kind of the For resource: nothing to spell, so nothing to misspell.
func TestNewControllerOwnsMapsToTheForResource(t *testing.T) {
	e := newBuilderEnv(t, reconcile.ManagerOptions{})
	r, reqs := requestRecorder()
	if _, err := reconcile.NewController(e.mgr, "widget", r, reconcile.Options[reconcile.Request]{},
		reconcile.Owns(e.gadgets), reconcile.For(e.widgets)); err != nil {
		t.Fatal(err)
	}
	e.start(t)
	ctx := context.Background()
	owner, err := e.widgets.Create(ctx, &widget{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "w1"}})
	if err != nil {
		t.Fatal(err)
	}
	waitRequest(t, reqs, reconcile.Request{Namespace: "ns", Name: "w1"})
	// An owner reference made from the stored owner's own type meta, as
	// every owner-reference helper does, names the owner "w2": only Owns
	// can enqueue that request, as no widget w2 exists.
	yes := true
	ref := meta.OwnerReference{APIVersion: owner.APIVersion, Kind: owner.Kind, Name: "w2", UID: "u2", Controller: &yes}
	if _, err := e.gadgets.Create(ctx, &gadget{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "g1",
		OwnerReferences: []meta.OwnerReference{ref}}}); err != nil {
		t.Fatal(err)
	}
	waitRequest(t, reqs, reconcile.Request{Namespace: "ns", Name: "w2"})
}

// The builder refuses wiring that would silently map nothing.
func TestNewControllerRefusesWiringThatMapsNothing(t *testing.T) {
	e := newBuilderEnv(t, reconcile.ManagerOptions{})
	r, _ := requestRecorder()
	noKind := widgetResource()
	noKind.Kind = ""
	for name, watches := range map[string][]reconcile.Watch{
		"owns without for": {reconcile.Owns(e.gadgets)},
		"for without kind": {reconcile.For(store.New(e.engine, noKind)), reconcile.Owns(e.gadgets)},
		"two fors":         {reconcile.For(e.widgets), reconcile.For(e.gadgets)},
		"watches, no map":  {reconcile.Watches[*gadget](e.gadgets, nil)},
		"good, then bad":   {reconcile.For(e.widgets), reconcile.Watches[*gadget](e.gadgets, nil)},
	} {
		if _, err := reconcile.NewController(e.mgr, "bad", r, reconcile.Options[reconcile.Request]{}, watches...); !errors.Is(err, reconcile.ErrInvalidOptions) {
			t.Errorf("%s: err = %v, want ErrInvalidOptions", name, err)
		}
	}
	// Refused wiring leaves nothing behind: no informer runs.
	e.start(t)
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "reflector_") {
			t.Fatalf("refused controllers left informers running: %s", mf.GetName())
		}
	}
}

// Two controllers that watch one type share the manager's one informer of
// it, which the manager runs without an AddCache.
func TestManagerSharesOneInformerPerType(t *testing.T) {
	e := newBuilderEnv(t, reconcile.ManagerOptions{})
	r1, reqs1 := requestRecorder()
	r2, reqs2 := requestRecorder()
	if _, err := reconcile.NewController(e.mgr, "first", r1, reconcile.Options[reconcile.Request]{}, reconcile.For(e.widgets)); err != nil {
		t.Fatal(err)
	}
	if _, err := reconcile.NewController(e.mgr, "second", r2, reconcile.Options[reconcile.Request]{},
		reconcile.For(e.gadgets), reconcile.Watches(e.widgets, reconcile.OwnKey[*widget]())); err != nil {
		t.Fatal(err)
	}
	inf1, err := reconcile.InformerFor(e.mgr, e.widgets)
	if err != nil {
		t.Fatal(err)
	}
	// Another store of the same type and keys (a second store.New) shares it too.
	inf2, err := reconcile.InformerFor(e.mgr, store.New(e.engine, widgetResource()))
	if err != nil {
		t.Fatal(err)
	}
	if inf1 != inf2 {
		t.Fatal("two informers of widgets")
	}
	other := widgetResource()
	other.Prefix = "/elsewhere"
	if _, err := reconcile.InformerFor(e.mgr, store.New(e.engine, other)); !errors.Is(err, reconcile.ErrInvalidOptions) {
		t.Fatalf("informer over a store with other keys: err = %v, want ErrInvalidOptions", err)
	}
	e.start(t)
	if _, err := e.widgets.Create(context.Background(), &widget{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "a"}}); err != nil {
		t.Fatal(err)
	}
	waitRequest(t, reqs1, reconcile.Request{Namespace: "ns", Name: "a"})
	waitRequest(t, reqs2, reconcile.Request{Namespace: "ns", Name: "a"})
	// One informer of widgets listed once, on the manager's registry.
	if n := counterValue(t, e.reg, "reflector_lists_total", "name", "widgets"); n != 1 {
		t.Fatalf("reflector_lists_total{name=widgets} = %v, want 1 (one shared informer)", n)
	}
	if _, err := reconcile.InformerFor(e.mgr, e.widgets); err != nil {
		t.Fatalf("the existing informer after Start: %v", err)
	}
	if _, err := reconcile.ClientFor(e.mgr, store.New(e.engine, store.LeaseResource())); !errors.Is(err, reconcile.ErrAlreadyStarted) {
		t.Fatalf("a new informer after Start: err = %v, want ErrAlreadyStarted", err)
	}
}

// counterValue returns the value of the counter of family in reg whose
// labels include labels (pairs of name and value).
func counterValue(t *testing.T, reg *prometheus.Registry, family string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != family {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no %s%v", family, labels)
	return 0
}

// signalBuffer is a log destination that signals every write.
type signalBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	wrote chan struct{}
}

func newSignalBuffer() *signalBuffer { return &signalBuffer{wrote: make(chan struct{}, 1)} }

func (s *signalBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	select {
	case s.wrote <- struct{}{}:
	default:
	}
	return n, err
}

// waitFor waits until the buffer holds sub and returns what it holds.
func (s *signalBuffer) waitFor(t *testing.T, sub string) string {
	t.Helper()
	for {
		s.mu.Lock()
		out := s.b.String()
		s.mu.Unlock()
		if strings.Contains(out, sub) {
			return out
		}
		waitChan(t, s.wrote, "a log line with "+sub)
	}
}

// A manager created without a logger prints a reconcile error: the
// newcomer's failing controller is never silent.
func TestManagerDefaultLoggerPrintsReconcileErrors(t *testing.T) {
	out := newSignalBuffer()
	restore := reconcile.SetDefaultLogOutput(out)
	defer restore()
	e := newBuilderEnv(t, reconcile.ManagerOptions{})
	var once sync.Once
	r := reconcile.Func[reconcile.Request](func(context.Context, reconcile.Request) (reconcile.Result, error) {
		var err error
		once.Do(func() { err = errors.New("boom: spec is wrong") })
		return reconcile.Done(), err
	})
	if _, err := reconcile.NewController(e.mgr, "failing", r, reconcile.Options[reconcile.Request]{}, reconcile.For(e.widgets)); err != nil {
		t.Fatal(err)
	}
	e.start(t)
	if _, err := e.widgets.Create(context.Background(), &widget{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "a"}}); err != nil {
		t.Fatal(err)
	}
	line := out.waitFor(t, "boom: spec is wrong")
	for _, want := range []string{"level=ERROR", "controller=failing", "request=ns/a"} {
		if !strings.Contains(line, want) {
			t.Errorf("log %q lacks %q", line, want)
		}
	}
}

// A controller made with New and given to Manager.Add takes the manager's
// logger and metrics, and its reconcile context carries the logger with the
// controller's name and the request, once each.
func TestManagerGivesControllersItsLoggerAndMetrics(t *testing.T) {
	out := newSignalBuffer()
	e := newBuilderEnv(t, reconcile.ManagerOptions{Logger: slog.New(slog.NewTextHandler(out, nil))})
	r := reconcile.Func[reconcile.Request](func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		reconcile.LoggerFrom(ctx).Info("reconciling from the context")
		return reconcile.Done(), nil
	})
	c, err := reconcile.New[reconcile.Request](r, reconcile.Options[reconcile.Request]{Name: "plain"})
	if err != nil {
		t.Fatal(err)
	}
	reqs := make(chan reconcile.Request, 1)
	if err := errors.Join(c.Watch(reconcile.Channel(reqs)), e.mgr.Add(c)); err != nil {
		t.Fatal(err)
	}
	e.start(t)
	reqs <- reconcile.Request{Namespace: "ns", Name: "a"}
	all := out.waitFor(t, "reconciling from the context")
	waitIdle(t, c)
	var line string
	for _, l := range strings.Split(all, "\n") {
		if strings.Contains(l, "reconciling from the context") {
			line = l
		}
	}
	for _, want := range []string{"controller=plain", "request=ns/a"} {
		if strings.Count(line, want) != 1 {
			t.Errorf("log %q has %q %d times, want once", line, want, strings.Count(line, want))
		}
	}
	if n := counterValue(t, e.reg, "controller_runtime_reconcile_total", "controller", "plain", "result", "success"); n != 1 {
		t.Fatalf("controller_runtime_reconcile_total{controller=plain} on the manager's registry = %v, want 1", n)
	}
}

// A controller without a Logger that runs on its own prints a reconcile
// error too.
func TestStandaloneControllerDefaultLoggerPrintsReconcileErrors(t *testing.T) {
	out := newSignalBuffer()
	restore := reconcile.SetDefaultLogOutput(out)
	defer restore()
	var once sync.Once
	r := reconcile.Func[string](func(context.Context, string) (reconcile.Result, error) {
		var err error
		once.Do(func() { err = errors.New("boom on its own") })
		return reconcile.Done(), err
	})
	c, err := reconcile.New[string](r, reconcile.Options[string]{Name: "alone"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Start(ctx) }()
	defer func() { cancel(); waitChan(t, done, "controller to stop") }()
	c.Enqueue("x")
	line := out.waitFor(t, "boom on its own")
	for _, want := range []string{"level=ERROR", "controller=alone", "request=x"} {
		if !strings.Contains(line, want) {
			t.Errorf("log %q lacks %q", line, want)
		}
	}
}
