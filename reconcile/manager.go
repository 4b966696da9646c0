package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/informer"
	informerprom "github.com/governor-io/governor/informer/prommetrics"
	reconcileprom "github.com/governor-io/governor/reconcile/prommetrics"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/event"
	"github.com/governor-io/governor/workqueue"
	workqueueprom "github.com/governor-io/governor/workqueue/prommetrics"
)

// Runnable is anything a [Manager] runs: a [Controller], or a user's own
// loop. Start blocks until ctx is done and returns nil after a clean stop.
type Runnable interface {
	Start(ctx context.Context) error
}

// LeaderRunnable is a [Runnable] that says whether it must run only on the
// leader. A Runnable that does not implement it runs only on the leader.
type LeaderRunnable interface {
	Runnable
	NeedLeaderElection() bool
}

// RunnableFunc adapts a function to a [Runnable].
type RunnableFunc func(ctx context.Context) error

// Start calls f(ctx).
func (f RunnableFunc) Start(ctx context.Context) error { return f(ctx) }

// Cache is an informer as the [Manager] runs it: every
// *informer.Informer[T] is one.
type Cache interface {
	Run(ctx context.Context) error
	HasSynced() bool
}

// ManagerOptions configure a [Manager]. The zero value runs without leader
// election and without an HTTP server.
type ManagerOptions struct {
	// Clock drives every wait of the manager, its elector and (unless they
	// set their own) its controllers. Nil means the wall clock.
	Clock clock.Clock
	// Logger gets the manager's logs, and those of what it runs (its
	// elector, the controllers and informers it is given or creates) unless
	// they set their own. Nil means errors to standard error and nothing
	// else: a failing reconcile is never silent.
	Logger *slog.Logger
	// Registry is served on /metrics. The manager registers on it, with
	// no further wiring, the metrics of everything it runs: its
	// controllers' (controller-runtime's controller_runtime_* names), their
	// work queues' (client-go's workqueue_*), its informers' (reflector_*
	// and informer_*), its elector's (leader_election_master_status), and
	// the Go and process collectors (go_*, process_*) unless the registry
	// has them already. Nil means a new private registry (see
	// [Manager.Registry]).
	Registry *prometheus.Registry
	// Addr is the address of the HTTP server that serves /metrics,
	// /healthz and /readyz, such as ":8080", or "127.0.0.1:0" for any free
	// port ([Manager.Addr] tells which). "" serves nothing.
	Addr string
	// LeaderElection, when set, runs leader election; controllers that
	// need a leader start only once this replica leads. Its Clock and
	// Logger default to the manager's.
	LeaderElection *LeaderElectionOptions
	// GracefulShutdownTimeout bounds how long Start's shutdown waits for
	// the runnables to stop; past it, Start returns an error matching
	// [ErrShutdownTimeout] and the lease stays held until they do stop.
	// Zero means [DefaultDrainTimeout].
	GracefulShutdownTimeout time.Duration
	// CacheSyncTimeout bounds how long Start waits for the caches to
	// sync. Zero means [DefaultCacheSyncTimeout].
	CacheSyncTimeout time.Duration
	// DetectCacheMutations turns on [informer.Options].DetectMutations in
	// the informers the manager creates ([InformerFor]): a handler or
	// reconciler that modifies a cached object is reported to
	// OnCacheMutation. It is for tests; reconciletest turns it on.
	DetectCacheMutations bool
	// OnCacheMutation gets each [informer.MutationError] that
	// DetectCacheMutations finds. Nil panics with it.
	OnCacheMutation func(err error)
	// Events is the store that the recorders of [Manager.EventRecorder]
	// write Kubernetes Events into (a Store made with event.Resource). Nil
	// means they only log the events, through the manager's logger.
	Events *store.Store[*event.Event]
}

// Manager runs caches (informers) and runnables (controllers) together. On
// Start it starts the caches and waits for them to sync, then starts the
// runnables that need no leader; with leader election, it then campaigns
// and starts the leader-only runnables once elected, with warm caches. On
// shutdown it stops the runnables and lets their reconciles drain, within
// GracefulShutdownTimeout, then releases the lease, then stops the caches
// and the HTTP server. Leader-only runnables stop as soon as leadership can
// no longer be proven ([Elector.Lost]).
type Manager struct {
	opts     ManagerOptions
	clk      clock.Clock
	log      *slog.Logger
	registry *prometheus.Registry
	metrics  MetricsProvider
	infMet   informer.MetricsProvider // nil when the registry refused it
	fresh    *Freshness
	elector  *Elector
	queueMet workqueue.MetricsProvider

	mu        sync.Mutex
	caches    []namedCache
	shared    sharedCaches // informers and clients made by InformerFor and ClientFor
	recorders map[string]*event.Recorder
	runnables []Runnable
	checks    map[string]func() error
	ready     map[string]func() error
	started   bool

	synced   atomic.Bool
	addr     atomic.Pointer[net.Addr]
	startedC chan struct{}
	electedC chan struct{}
	stoppedC chan struct{}
}

type namedCache struct {
	name string
	c    Cache
}

// NewManager returns a Manager. It fails with an error matching
// [ErrInvalidOptions] on bad leader election options or when the registry
// already holds controller metrics.
func NewManager(opts ManagerOptions) (*Manager, error) {
	if opts.GracefulShutdownTimeout < 0 || opts.CacheSyncTimeout < 0 {
		return nil, fmt.Errorf("%w: negative manager timeout", ErrInvalidOptions)
	}
	if opts.GracefulShutdownTimeout == 0 {
		opts.GracefulShutdownTimeout = DefaultDrainTimeout
	}
	if opts.CacheSyncTimeout == 0 {
		opts.CacheSyncTimeout = DefaultCacheSyncTimeout
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	metrics, err := reconcileprom.New(reg)
	if err != nil {
		return nil, fmt.Errorf("%w: register controller metrics: %w", ErrInvalidOptions, err)
	}
	queueMet, err := workqueueprom.New(reg)
	if err != nil {
		return nil, fmt.Errorf("%w: register workqueue metrics: %w", ErrInvalidOptions, err)
	}
	log := opts.Logger
	if log == nil {
		log = defaultManagerLogger()
	}
	m := &Manager{
		queueMet: queueMet, opts: opts, clk: clock.OrReal(opts.Clock), log: log, registry: reg, metrics: metrics,
		fresh: NewFreshness(), checks: map[string]func() error{}, ready: map[string]func() error{},
		startedC: make(chan struct{}), electedC: make(chan struct{}), stoppedC: make(chan struct{}),
	}
	if met, err := informerprom.New(reg); err != nil {
		// The registry already has the informer metrics of the user's own
		// informers: the manager's go without rather than fail.
		log.Warn("informer metrics not registered; the manager's informers run without them", "err", err)
	} else {
		m.infMet = met
	}
	for _, c := range []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		var are prometheus.AlreadyRegisteredError
		if err := reg.Register(c); err != nil && !errors.As(err, &are) {
			return nil, fmt.Errorf("%w: register the Go and process collectors: %w", ErrInvalidOptions, err)
		}
	}
	if le := opts.LeaderElection; le != nil {
		leo := *le
		if leo.Metrics == nil {
			leo.Metrics = metrics
		}
		if leo.Clock == nil {
			leo.Clock = opts.Clock
		}
		if leo.Logger == nil {
			leo.Logger = log
		}
		if m.elector, err = NewElector(leo); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Clock returns the manager's clock.
func (m *Manager) Clock() clock.Clock { return m.clk }

// Logger returns the manager's logger.
func (m *Manager) Logger() *slog.Logger { return m.log }

// Registry returns the Prometheus registry served on /metrics.
func (m *Manager) Registry() *prometheus.Registry { return m.registry }

// Metrics returns the controller and leader election metrics provider
// registered on the registry. [NewController] and [Manager.Add] give it to
// controllers whose [Options].Metrics is nil.
func (m *Manager) Metrics() MetricsProvider { return m.metrics }

// InformerMetrics returns the informer metrics provider registered on the
// registry (client-go's reflector_* names and our informer_*), or nil when
// the registry already held those metrics. The manager's own informers
// ([InformerFor]) use it; pass it in informer.Options.Metrics of informers
// made by hand.
func (m *Manager) InformerMetrics() informer.MetricsProvider { return m.infMet }

// QueueMetrics returns the workqueue metrics provider registered on the
// registry (client-go's workqueue_* names, with the controller's name as
// the "name" label). Pass it in [Options].QueueMetrics.
func (m *Manager) QueueMetrics() workqueue.MetricsProvider { return m.queueMet }

// Freshness returns the manager's [Freshness], shared by its controllers
// and clients for read-your-own-writes.
func (m *Manager) Freshness() *Freshness { return m.fresh }

// Elector returns the manager's elector, or nil without leader election.
func (m *Manager) Elector() *Elector { return m.elector }

// IsLeader reports whether this replica leads. Without leader election it
// is always true.
func (m *Manager) IsLeader() bool { return m.elector == nil || m.elector.IsLeader() }

// Started returns a channel that is closed once the HTTP server listens
// and the caches have synced.
func (m *Manager) Started() <-chan struct{} { return m.startedC }

// Elected returns a channel that is closed once this replica leads and its
// leader-only runnables have started (without leader election: once the
// caches have synced and the runnables have started).
func (m *Manager) Elected() <-chan struct{} { return m.electedC }

// Addr returns the address the HTTP server listens on, or nil before it
// does (or without a server).
func (m *Manager) Addr() net.Addr {
	if a := m.addr.Load(); a != nil {
		return *a
	}
	return nil
}

// AddCache adds an informer to run. name labels it in logs and in /readyz.
// Caches must be added before Start.
func (m *Manager) AddCache(name string, c Cache) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		return fmt.Errorf("%w: AddCache after Start", ErrAlreadyStarted)
	}
	if c == nil {
		return fmt.Errorf("%w: nil cache %q", ErrInvalidOptions, name)
	}
	m.caches = append(m.caches, namedCache{name, c})
	return nil
}

// Add adds a runnable, such as a [Controller]. Runnables must be added
// before Start. A Controller takes the manager's clock, logger, metrics and
// [Freshness] where its options set none.
func (m *Manager) Add(r Runnable) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		return fmt.Errorf("%w: Add after Start", ErrAlreadyStarted)
	}
	if r == nil {
		return fmt.Errorf("%w: nil runnable", ErrInvalidOptions)
	}
	if ic, ok := r.(interface{ inherit(*Manager) }); ok {
		ic.inherit(m)
	}
	m.runnables = append(m.runnables, r)
	return nil
}

// Runnables returns the runnables added to the manager, its controllers
// among them, in the order they were added: what a test harness such as
// reconciletest waits on.
func (m *Manager) Runnables() []Runnable {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Runnable(nil), m.runnables...)
}

// AddHealthCheck adds a check served by /healthz: it fails when any check
// returns an error.
func (m *Manager) AddHealthCheck(name string, check func() error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.checks[name] = check
}

// AddReadyCheck adds a check served by /readyz, which also fails until
// the caches have synced.
func (m *Manager) AddReadyCheck(name string, check func() error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ready[name] = check
}

func needsLeader(r Runnable) bool {
	if lr, ok := r.(LeaderRunnable); ok {
		return lr.NeedLeaderElection()
	}
	return true
}

// Start runs everything until ctx is done, then shuts down in order and
// returns nil; or returns what stopped it, after shutting down the same
// way: the first error of a runnable or a cache, an error matching
// [ErrCacheSyncTimeout] naming the caches or controller that did not sync
// in time, or one matching [ErrLeaderLost] once leadership could no longer
// be proven (the leader-only runnables' contexts are cancelled at that
// instant, before the elector returns).
//
// Shutdown cancels the runnables' contexts and waits for them up to
// GracefulShutdownTimeout. If some are still running then, Start returns
// at once with an error matching [ErrShutdownTimeout] that names them,
// while the manager goes on renewing the lease until they really stop, so
// that no other replica starts leader-only work alongside them; then it
// releases the lease, stops the caches and closes [Manager.Stopped]. A
// Manager starts once.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		return ErrAlreadyStarted
	}
	m.started = true
	caches := append([]namedCache(nil), m.caches...)
	runnables := append([]Runnable(nil), m.runnables...)
	m.mu.Unlock()

	// stop ends the run: ctx done, or the first error of any part.
	stopCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var errMu sync.Mutex
	var firstErr error
	fail := func(err error) {
		if err == nil {
			return
		}
		errMu.Lock()
		// A runnable that returns context.Canceled once the run is
		// stopping has stopped cleanly; before that, it is what stopped
		// the run.
		if firstErr == nil && !(errors.Is(err, context.Canceled) && stopCtx.Err() != nil) {
			firstErr = err
		}
		errMu.Unlock()
		stop(err)
	}
	runErr := func() error {
		errMu.Lock()
		defer errMu.Unlock()
		return firstErr
	}
	// Each tier has its own context, so that shutdown can go in order.
	detached := context.WithoutCancel(ctx)
	cacheCtx, stopCaches := context.WithCancel(detached)
	electCtx, stopElect := context.WithCancel(detached)
	runCtx, stopRun := context.WithCancel(detached)
	var cacheG, electG, runG errgroup.Group
	// finish stops the elector (releasing the lease) and then the caches,
	// once no runnable runs any more.
	finish := func() {
		stopElect()
		_ = electG.Wait()
		stopCaches()
		_ = cacheG.Wait()
		close(m.stoppedC)
	}

	var server serverGroup
	if m.opts.Addr != "" {
		if err := server.start(m, fail); err != nil {
			stopRun()
			finish()
			return err
		}
	}
	defer server.stop(m.clk)

	for _, c := range caches {
		cacheG.Go(func() error {
			if err := c.c.Run(cacheCtx); err != nil {
				err = fmt.Errorf("reconcile: cache %s: %w", c.name, err)
				fail(err)
				return err
			}
			return nil
		})
	}
	var running runningSet
	if m.waitCaches(stopCtx, caches, fail) {
		m.synced.Store(true)
		close(m.startedC)
		m.log.Info("caches synced; starting runnables")
		startRunnable := func(ctx context.Context, r Runnable) {
			id := running.add(r)
			runG.Go(func() error {
				defer running.done(id)
				err := r.Start(ctx)
				fail(err)
				return err
			})
		}
		var leaderOnly []Runnable
		for _, r := range runnables {
			if m.elector == nil || !needsLeader(r) {
				startRunnable(runCtx, r)
			} else {
				leaderOnly = append(leaderOnly, r)
			}
		}
		if m.elector != nil {
			electG.Go(func() error {
				err := m.elector.Run(electCtx)
				fail(err)
				return err
			})
			select {
			case <-m.elector.Elected():
				m.log.Info("elected leader; starting leader-only runnables", "count", len(leaderOnly))
				// Leader-only work stops the instant leadership can no
				// longer be proven, without waiting for the elector.
				leaderCtx, stopLeader := context.WithCancel(runCtx)
				runG.Go(func() error {
					defer stopLeader()
					select {
					case <-m.elector.Lost():
						m.log.Error("leadership lost; stopping leader-only runnables")
						fail(m.elector.lostErr())
					case <-runCtx.Done():
					}
					return nil
				})
				for _, r := range leaderOnly {
					startRunnable(leaderCtx, r)
				}
				close(m.electedC)
			case <-stopCtx.Done():
			}
		} else {
			close(m.electedC)
		}
	}
	<-stopCtx.Done()
	m.log.Info("shutting down", "cause", context.Cause(stopCtx))

	// 1. Runnables stop taking work and drain (each controller bounds its
	// own drain; the manager bounds the whole).
	stopRun()
	drained := make(chan struct{})
	go func() { _ = runG.Wait(); close(drained) }()
	t := m.clk.NewTimer(m.opts.GracefulShutdownTimeout)
	defer t.Stop()
	select {
	case <-drained:
	case <-t.C():
		names := running.names()
		m.log.Error("graceful shutdown timed out; holding the lease until the runnables stop",
			"timeout", m.opts.GracefulShutdownTimeout, "running", names)
		// 2 and 3 happen once they stop: until then the lease stays
		// held, so that no other replica starts their work alongside.
		go func() {
			<-drained
			finish()
		}()
		terr := fmt.Errorf("%w: after %s, still running: %s (the lease stays held until they stop)",
			ErrShutdownTimeout, m.opts.GracefulShutdownTimeout, strings.Join(names, ", "))
		if err := runErr(); err != nil {
			return errors.Join(err, terr)
		}
		return terr
	}
	// 2. Only now release the lease: no leader-only work runs any more.
	// 3. Caches last.
	finish()
	return runErr()
}

// Stopped returns a channel that is closed once everything Start started
// has stopped: the runnables, the elector (having released the lease) and
// the caches. After a shutdown that timed out ([ErrShutdownTimeout]), that
// is after Start returned.
func (m *Manager) Stopped() <-chan struct{} { return m.stoppedC }

// runningSet names the runnables that have not returned yet.
type runningSet struct {
	mu   sync.Mutex
	next int
	m    map[int]string
}

func (s *runningSet) add(r Runnable) int {
	name := fmt.Sprintf("%T", r)
	if n, ok := r.(interface{ Name() string }); ok {
		name = n.Name()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[int]string{}
	}
	s.next++
	s.m[s.next] = name
	return s.next
}

func (s *runningSet) done(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

func (s *runningSet) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.m))
	for _, n := range s.m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// waitCaches waits, without polling, for every cache to sync, and reports
// whether they did before ctx was done or the timeout passed.
func (m *Manager) waitCaches(ctx context.Context, caches []namedCache, fail func(error)) bool {
	if len(caches) == 0 {
		return ctx.Err() == nil
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var timedOut atomic.Bool
	t := m.clk.AfterFunc(m.opts.CacheSyncTimeout, func() { timedOut.Store(true); cancel() })
	defer t.Stop()
	synced := make([]informer.Synced, len(caches))
	for i, c := range caches {
		synced[i] = c.c
	}
	if informer.WaitForCacheSync(wctx, synced...) {
		return true
	}
	if timedOut.Load() {
		var names []string
		for _, c := range caches {
			if !c.c.HasSynced() {
				names = append(names, c.name)
			}
		}
		fail(fmt.Errorf("%w: caches did not sync within %s: %s", ErrCacheSyncTimeout, m.opts.CacheSyncTimeout, strings.Join(names, ", ")))
	}
	return false
}

// serverGroup runs the manager's HTTP server.
type serverGroup struct {
	srv  *http.Server
	done chan struct{}
}

func (s *serverGroup) start(m *Manager, fail func(error)) error {
	ln, err := net.Listen("tcp", m.opts.Addr)
	if err != nil {
		return fmt.Errorf("reconcile: manager listen on %s: %w", m.opts.Addr, err)
	}
	addr := ln.Addr()
	m.addr.Store(&addr)
	s.srv = &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fail(fmt.Errorf("reconcile: manager http server: %w", err))
		}
	}()
	m.log.Info("serving /metrics, /healthz and /readyz", "addr", addr.String())
	return nil
}

func (s *serverGroup) stop(clk clock.Clock) {
	if s.srv == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t := clk.AfterFunc(5*time.Second, cancel)
	defer t.Stop()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
	<-s.done
}

// Handler returns the manager's HTTP handler: /metrics, /healthz and
// /readyz. Start serves it on Addr; use it directly to mount it elsewhere.
func (m *Manager) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		m.serveChecks(w, m.checks, nil)
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		m.serveChecks(w, m.ready, func() error {
			if !m.synced.Load() {
				return errors.New("caches not synced")
			}
			return nil
		})
	})
	return mux
}

func (m *Manager) serveChecks(w http.ResponseWriter, checks map[string]func() error, base func() error) {
	m.mu.Lock()
	names := make([]string, 0, len(checks))
	fns := make(map[string]func() error, len(checks)+1)
	for n, f := range checks {
		names = append(names, n)
		fns[n] = f
	}
	m.mu.Unlock()
	if base != nil {
		names = append(names, "caches")
		fns["caches"] = base
	}
	sort.Strings(names)
	var b strings.Builder
	ok := true
	for _, n := range names {
		if err := fns[n](); err != nil {
			ok = false
			fmt.Fprintf(&b, "[-] %s failed: %v\n", n, err)
		} else {
			fmt.Fprintf(&b, "[+] %s ok\n", n)
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		b.WriteString("check failed\n")
	} else {
		b.WriteString("ok\n")
	}
	_, _ = w.Write([]byte(b.String()))
}
