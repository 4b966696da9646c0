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
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/workqueue"
	"github.com/governor-io/governor/workqueue/prommetrics"
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
	// Logger gets the manager's logs. Nil discards them.
	Logger *slog.Logger
	// Registry receives the controller metrics and is served on /metrics.
	// Nil means a new private registry (see [Manager.Registry]).
	Registry *prometheus.Registry
	// Addr is the address of the HTTP server that serves /metrics,
	// /healthz and /readyz, such as ":8080", or "127.0.0.1:0" for any free
	// port ([Manager.Addr] tells which). "" serves nothing.
	Addr string
	// LeaderElection, when set, runs leader election; controllers that
	// need a leader start only once this replica leads. Its Clock and
	// Logger default to the manager's.
	LeaderElection *LeaderElectionOptions
	// GracefulShutdownTimeout bounds how long shutdown waits for the
	// reconciles in flight. Zero means [DefaultDrainTimeout].
	GracefulShutdownTimeout time.Duration
	// CacheSyncTimeout bounds how long Start waits for the caches to
	// sync. Zero means [DefaultCacheSyncTimeout].
	CacheSyncTimeout time.Duration
}

// Manager runs caches (informers) and runnables (controllers) together. On
// Start it starts the caches and waits for them to sync, then starts the
// runnables that need no leader; with leader election, it then campaigns
// and starts the leader-only runnables once elected, with warm caches. On
// shutdown it stops the runnables and lets their reconciles drain, then
// releases the lease, then stops the caches and the HTTP server.
type Manager struct {
	opts     ManagerOptions
	clk      clock.Clock
	log      *slog.Logger
	registry *prometheus.Registry
	metrics  *Metrics
	fresh    *Freshness
	elector  *Elector
	queueMet workqueue.MetricsProvider

	mu        sync.Mutex
	caches    []namedCache
	runnables []Runnable
	checks    map[string]func() error
	ready     map[string]func() error
	started   bool

	synced   atomic.Bool
	addr     atomic.Pointer[net.Addr]
	startedC chan struct{}
	electedC chan struct{}
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
	metrics, err := NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	queueMet, err := prommetrics.New(reg)
	if err != nil {
		return nil, fmt.Errorf("%w: register workqueue metrics: %w", ErrInvalidOptions, err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Manager{
		queueMet: queueMet, opts: opts, clk: clock.OrReal(opts.Clock), log: log, registry: reg, metrics: metrics,
		fresh: NewFreshness(), checks: map[string]func() error{}, ready: map[string]func() error{},
		startedC: make(chan struct{}), electedC: make(chan struct{}),
	}
	if le := opts.LeaderElection; le != nil {
		leo := *le
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

// Metrics returns the controller metrics registered on the registry. Pass
// it in [Options].Metrics of the manager's controllers.
func (m *Manager) Metrics() *Metrics { return m.metrics }

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
// before Start. A Controller created without a Clock takes the manager's.
func (m *Manager) Add(r Runnable) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		return fmt.Errorf("%w: Add after Start", ErrAlreadyStarted)
	}
	if r == nil {
		return fmt.Errorf("%w: nil runnable", ErrInvalidOptions)
	}
	if ic, ok := r.(interface{ inheritClock(clock.Clock) }); ok {
		ic.inheritClock(m.clk)
	}
	m.runnables = append(m.runnables, r)
	return nil
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
// returns nil; or returns the first error (a runnable failing, the caches
// not syncing in time, leadership lost: [ErrLeaderLost]) after shutting
// down the same way. A Manager starts once.
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
	var firstErr error
	var errOnce sync.Once
	fail := func(err error) {
		if err == nil {
			return
		}
		errOnce.Do(func() { firstErr = err })
		stop(err)
	}
	// Each tier has its own context, so that shutdown can go in order.
	detached := context.WithoutCancel(ctx)
	cacheCtx, stopCaches := context.WithCancel(detached)
	defer stopCaches()
	electCtx, stopElect := context.WithCancel(detached)
	defer stopElect()
	runCtx, stopRun := context.WithCancel(detached)
	defer stopRun()

	var server serverGroup
	if m.opts.Addr != "" {
		if err := server.start(m, fail); err != nil {
			return err
		}
	}
	defer server.stop(m.clk)

	var cacheG, electG, runG errgroup.Group
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
	if m.waitCaches(stopCtx, caches, fail) {
		m.synced.Store(true)
		close(m.startedC)
		m.log.Info("caches synced; starting runnables")
		startRunnable := func(r Runnable) {
			runG.Go(func() error {
				err := r.Start(runCtx)
				fail(err)
				return err
			})
		}
		var leaderOnly []Runnable
		for _, r := range runnables {
			if m.elector == nil || !needsLeader(r) {
				startRunnable(r)
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
				for _, r := range leaderOnly {
					startRunnable(r)
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
	select {
	case <-drained:
	case <-t.C():
		fail(fmt.Errorf("%w: manager after %s", ErrDrainTimeout, m.opts.GracefulShutdownTimeout))
		<-drained
	}
	t.Stop()
	// 2. Only now release the lease: no leader-only work runs any more.
	stopElect()
	_ = electG.Wait()
	// 3. Caches last.
	stopCaches()
	_ = cacheG.Wait()
	if firstErr != nil && !errors.Is(firstErr, context.Canceled) {
		return firstErr
	}
	return nil
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
		fail(fmt.Errorf("reconcile: caches did not sync within %s: %s", m.opts.CacheSyncTimeout, strings.Join(names, ", ")))
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
