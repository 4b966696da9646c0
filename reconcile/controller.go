package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/internal/broadcast"
	"github.com/governor-io/governor/workqueue"
)

// ErrAlreadyStarted matches the error of starting a [Controller] or a
// [Manager] a second time.
var ErrAlreadyStarted = errors.New("reconcile: already started")

// ErrDrainTimeout matches the error a controller returns when its
// reconciles in flight outlived the drain timeout at shutdown. Their
// contexts were cancelled.
var ErrDrainTimeout = errors.New("reconcile: reconciles still in flight at the drain timeout")

// ErrCacheSyncTimeout matches the error of a [Controller] whose sources, or
// of a [Manager] whose caches, did not sync within their CacheSyncTimeout.
// The message names the controller or the caches.
var ErrCacheSyncTimeout = errors.New("reconcile: caches did not sync in time")

// ErrShutdownTimeout matches the error of a [Manager] whose runnables had
// not stopped when its GracefulShutdownTimeout expired. The message names
// them. Their contexts are cancelled; the manager keeps the lease until
// they stop (see [Manager.Stopped]).
var ErrShutdownTimeout = errors.New("reconcile: runnables still running at the graceful shutdown timeout")

// ErrReconcileTimeout is the cause (context.Cause) of a reconcile context
// cancelled by the per-reconcile timeout. It wraps
// context.DeadlineExceeded.
var ErrReconcileTimeout = fmt.Errorf("reconcile: per-reconcile timeout: %w", context.DeadlineExceeded)

// Default option values.
const (
	DefaultDrainTimeout     = 30 * time.Second
	DefaultCacheSyncTimeout = 2 * time.Minute
	DefaultFreshnessTimeout = 5 * time.Second
)

// Options configure a [Controller]. Only Name is required.
type Options[Req comparable] struct {
	// Name names the controller in logs and in the "controller" label of
	// its metrics (and the "name" label of its queue's metrics).
	Name string
	// Workers is the number of reconciles that may run at once (on
	// different requests). Zero means 1.
	Workers int
	// Clock drives the queue's delays, the rate limiter's token bucket,
	// the per-reconcile timeout and the drain timeout. Nil means the clock
	// of the [Manager] the controller is added to, or the wall clock when
	// it runs on its own.
	Clock clock.Clock
	// RateLimiter sets the backoff of errors and of
	// [RequeueWithBackoff]. Nil means
	// workqueue.DefaultControllerRateLimiter on Clock.
	RateLimiter workqueue.RateLimiter[Req]
	// Tenant, when set, shares the workers fairly among tenants (for
	// example namespaces), so that one busy tenant cannot take them all.
	Tenant func(Req) string
	// Timeout, when > 0, cancels each reconcile's context after this long
	// (with cause [ErrReconcileTimeout]).
	Timeout time.Duration
	// Metrics receives the controller metrics. Nil means the metrics of
	// the [Manager] the controller is added to, or none when it runs on
	// its own.
	Metrics MetricsProvider
	// QueueMetrics, when set, instruments the work queue. [NewController]
	// sets the manager's ([Manager.QueueMetrics]); [Manager.Add] cannot,
	// as the queue exists by then.
	QueueMetrics workqueue.MetricsProvider
	// Logger gets the controller's logs, and (with the controller's name
	// and the request) the reconcile contexts' ([LoggerFrom]). Nil means
	// the logger of the [Manager] the controller is added to; on its own,
	// errors to standard error and nothing else.
	Logger *slog.Logger
	// NoLeaderElection lets the controller run on every replica of a
	// [Manager], leader or not. By default a controller runs only on the
	// leader.
	NoLeaderElection bool
	// Freshness, when set, makes the controller wait before reconciling a
	// request until the caches have caught up with the writes that earlier
	// reconciles of the request made through a [Client] (read your own
	// writes). Nil means the [Manager.Freshness] of the manager the
	// controller is added to, or none when it runs on its own.
	Freshness *Freshness
	// FreshnessTimeout bounds that wait. Zero means
	// [DefaultFreshnessTimeout].
	FreshnessTimeout time.Duration
	// DrainTimeout bounds how long shutdown waits for the reconciles in
	// flight. Zero means [DefaultDrainTimeout].
	DrainTimeout time.Duration
	// CacheSyncTimeout bounds how long Start waits for its sources to
	// sync. Zero means [DefaultCacheSyncTimeout].
	CacheSyncTimeout time.Duration
}

// Controller runs a [Reconciler] over a work queue fed by [Source]s. Its
// workers take one request at a time from the queue; the queue never hands
// the same request to two workers at once, and a request enqueued while it is
// being reconciled is reconciled again afterwards.
type Controller[Req comparable] struct {
	name    string
	r       Reconciler[Req]
	opts    Options[Req]
	clk     clock.Clock
	queue   *workqueue.Queue[Req]
	metrics *controllerMetrics
	log     *slog.Logger

	mu      sync.Mutex
	sources []Source[Req]
	started bool

	limiter workqueue.RateLimiter[Req]
	// delayed holds the due time of requests requeued with a delay, so
	// that Idle can tell work that is due but not yet back in the queue.
	delayMu  sync.Mutex
	delayed  map[Req]time.Time
	nDelayed atomic.Int64

	stopping atomic.Bool
	inFlight atomic.Int64
	synced   atomic.Bool
	activity *activity
}

// New returns a Controller that calls r. It fails with an error matching
// [ErrInvalidOptions] when Name is empty or Workers is negative.
func New[Req comparable](r Reconciler[Req], opts Options[Req]) (*Controller[Req], error) {
	if opts.Name == "" {
		return nil, fmt.Errorf("%w: controller needs a Name", ErrInvalidOptions)
	}
	if r == nil {
		return nil, fmt.Errorf("%w: controller %s needs a Reconciler", ErrInvalidOptions, opts.Name)
	}
	if opts.Workers < 0 || opts.Timeout < 0 || opts.DrainTimeout < 0 || opts.FreshnessTimeout < 0 || opts.CacheSyncTimeout < 0 {
		return nil, fmt.Errorf("%w: controller %s: negative worker count or timeout", ErrInvalidOptions, opts.Name)
	}
	if opts.Workers == 0 {
		opts.Workers = 1
	}
	if opts.DrainTimeout == 0 {
		opts.DrainTimeout = DefaultDrainTimeout
	}
	if opts.FreshnessTimeout == 0 {
		opts.FreshnessTimeout = DefaultFreshnessTimeout
	}
	if opts.CacheSyncTimeout == 0 {
		opts.CacheSyncTimeout = DefaultCacheSyncTimeout
	}
	log := opts.Logger
	if log == nil {
		log = defaultManagerLogger()
	}
	var clk clock.Clock = opts.Clock
	if clk == nil {
		clk = newInheritedClock()
	}
	c := &Controller[Req]{
		name: opts.Name, r: r, opts: opts, clk: clk,
		metrics:  newControllerMetrics(opts.Metrics, opts.Name, opts.Workers),
		log:      log.With("controller", opts.Name),
		activity: newActivity(),
	}
	c.limiter = opts.RateLimiter
	if c.limiter == nil {
		c.limiter = workqueue.DefaultControllerRateLimiter[Req](clk)
	}
	c.delayed = make(map[Req]time.Time)
	c.queue = workqueue.New(workqueue.Options[Req]{
		Name:        opts.Name,
		Clock:       clk,
		RateLimiter: c.limiter,
		Metrics:     opts.QueueMetrics,
		Tenant:      opts.Tenant,
	})
	return c, nil
}

// Name returns the controller's name.
func (c *Controller[Req]) Name() string { return c.name }

// inherit gives a controller what its options left unset of the
// [Manager] it is added to: the clock, the logger, the metrics and the
// freshness tracking. Add calls it before Start.
func (c *Controller[Req]) inherit(m *Manager) {
	if ic, ok := c.clk.(*inheritedClock); ok {
		ic.set(m.clk)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return
	}
	if c.opts.Logger == nil {
		c.log = m.log.With("controller", c.name)
	}
	if c.opts.Metrics == nil {
		c.metrics = newControllerMetrics(m.metrics, c.name, c.opts.Workers)
	}
	if c.opts.Freshness == nil {
		c.opts.Freshness = m.fresh
	}
}

// inheritedClock is the clock of a controller created without one: the
// wall clock until the controller is added to a Manager, then the
// manager's. The controller's queue and rate limiter hold it, so they
// follow the switch.
type inheritedClock struct{ c atomic.Pointer[clock.Clock] }

func newInheritedClock() *inheritedClock {
	ic := &inheritedClock{}
	ic.set(clock.Real{})
	return ic
}

func (ic *inheritedClock) set(clk clock.Clock) {
	clk = clock.OrReal(clk)
	ic.c.Store(&clk)
}

func (ic *inheritedClock) get() clock.Clock { return *ic.c.Load() }

func (ic *inheritedClock) Now() time.Time                  { return ic.get().Now() }
func (ic *inheritedClock) Since(t time.Time) time.Duration { return ic.get().Since(t) }
func (ic *inheritedClock) NewTimer(d time.Duration) clock.Timer {
	return ic.get().NewTimer(d)
}
func (ic *inheritedClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	return ic.get().AfterFunc(d, f)
}
func (ic *inheritedClock) NewTicker(d time.Duration) clock.Ticker {
	return ic.get().NewTicker(d)
}

// NeedLeaderElection reports whether the controller runs only on the
// leader (the default) or on every replica.
func (c *Controller[Req]) NeedLeaderElection() bool { return !c.opts.NoLeaderElection }

// Watch adds a source of requests. Sources must be added before Start.
func (c *Controller[Req]) Watch(src Source[Req]) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return fmt.Errorf("%w: controller %s: Watch after Start", ErrAlreadyStarted, c.name)
	}
	if src == nil {
		return fmt.Errorf("%w: controller %s: nil source", ErrInvalidOptions, c.name)
	}
	c.sources = append(c.sources, src)
	return nil
}

// Enqueue adds req to the queue directly, as a source would.
func (c *Controller[Req]) Enqueue(req Req) { queueAdapter[Req]{c}.Add(req) }

// queueAdapter is the Queue that sources feed; it notes activity so that
// a test harness can tell when the controller is idle.
type queueAdapter[Req comparable] struct{ c *Controller[Req] }

func (a queueAdapter[Req]) Add(req Req) {
	a.c.queue.Add(req)
	a.c.activity.bump()
}

func (a queueAdapter[Req]) AddWithPriority(req Req, priority int) {
	a.c.queue.AddWithPriority(req, priority)
	a.c.activity.bump()
}

func (a queueAdapter[Req]) AddAfter(req Req, d time.Duration) {
	a.c.requeueAfter(req, d)
	a.c.activity.bump()
}

// noteActivity lets a source that changed its Pending count without adding
// anything wake the waiters on the controller's Activity.
func (a queueAdapter[Req]) noteActivity() { a.c.activity.bump() }

// Start runs the controller until ctx is done: it starts the sources, waits
// for them to sync, then runs the workers. When ctx is done it stops taking
// work, lets the reconciles in flight finish for up to the drain timeout
// (then cancels their contexts), stops the sources and returns. It returns
// nil after a clean stop, an error matching [ErrDrainTimeout] when it had to
// cancel reconciles, one matching [ErrCacheSyncTimeout] when its sources did
// not sync within CacheSyncTimeout, or the error of a source.
func (c *Controller[Req]) Start(ctx context.Context) error {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return fmt.Errorf("%w: controller %s", ErrAlreadyStarted, c.name)
	}
	c.started = true
	sources := c.sources
	c.mu.Unlock()

	srcCtx, stopSources := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSources()
	g, gctx := errgroup.WithContext(srcCtx)
	for _, s := range sources {
		g.Go(func() error { return s.Start(gctx, queueAdapter[Req]{c}) })
	}
	// Once a source fails, or ctx is done, stop the sources.
	stopOnDone := context.AfterFunc(ctx, stopSources)
	defer stopOnDone()

	err := c.waitSources(ctx, gctx, sources)
	if err == nil {
		c.synced.Store(true)
		c.activity.bump()
		c.log.Info("starting workers", "workers", c.opts.Workers)
		err = c.runWorkers(ctx, gctx)
	}
	c.queue.ShutDown()
	stopSources()
	if gerr := g.Wait(); err == nil {
		err = gerr
	}
	c.activity.bump()
	return err
}

func (c *Controller[Req]) waitSources(ctx, gctx context.Context, sources []Source[Req]) error {
	wctx, cancel := context.WithCancelCause(gctx)
	defer cancel(nil)
	t := c.clk.AfterFunc(c.opts.CacheSyncTimeout, func() { cancel(ErrCacheSyncTimeout) })
	defer t.Stop()
	for _, s := range sources {
		if err := s.WaitForSync(wctx); err != nil {
			if ctx.Err() != nil {
				return nil // stopped before syncing: not an error
			}
			if gctx.Err() != nil {
				return nil // a source failed; g.Wait reports it
			}
			if errors.Is(context.Cause(wctx), ErrCacheSyncTimeout) {
				return fmt.Errorf("%w: controller %s: sources did not sync within %s", ErrCacheSyncTimeout, c.name, c.opts.CacheSyncTimeout)
			}
			return fmt.Errorf("reconcile: controller %s: wait for sources to sync: %w", c.name, err)
		}
	}
	return nil
}

// runWorkers runs the workers until ctx is done or a source fails, then
// drains.
func (c *Controller[Req]) runWorkers(ctx, gctx context.Context) error {
	if ctx.Err() != nil || gctx.Err() != nil {
		return nil
	}
	// Reconciles outlive ctx while draining; workCtx is cancelled only
	// when the drain times out.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	var wg sync.WaitGroup
	for range c.opts.Workers {
		wg.Go(func() { c.worker(ctx, workCtx) })
	}
	select {
	case <-ctx.Done():
	case <-gctx.Done():
	}
	c.log.Info("stopping: draining reconciles in flight", "inFlight", c.inFlight.Load())
	c.stopping.Store(true)
	c.queue.ShutDown()

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := c.clk.NewTimer(c.opts.DrainTimeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C():
		c.log.Warn("drain timeout: cancelling reconciles in flight", "inFlight", c.inFlight.Load())
		cancelWork()
		<-done
		return fmt.Errorf("%w: controller %s after %s", ErrDrainTimeout, c.name, c.opts.DrainTimeout)
	}
}

// worker reconciles until the queue shuts down. stop is the controller's
// context, checked after every Get so that no new work starts once it is
// done; ctx is the context reconciles run with.
func (c *Controller[Req]) worker(stop, ctx context.Context) {
	for {
		req, shutdown := c.queue.Get()
		if shutdown {
			return
		}
		if stop.Err() != nil || c.stopping.Load() {
			// Shutting down: take no new work. The request is level
			// state; the next leader or start picks it up.
			c.queue.Done(req)
			continue
		}
		if c.nDelayed.Load() > 0 {
			c.gotDelayed(req)
		}
		c.inFlight.Add(1)
		c.process(stop, ctx, req)
		c.queue.Done(req)
		c.inFlight.Add(-1)
		c.activity.bump()
	}
}

// process reconciles req once and requeues it as the outcome says. A wait
// for fresh caches ends early when stop is done.
func (c *Controller[Req]) process(stop, ctx context.Context, req Req) {
	m := c.metrics
	m.activeWorkers.Inc()
	start := c.clk.Now()
	if f := c.opts.Freshness; f != nil {
		switch f.wait(stop, req, c.clk, c.opts.FreshnessTimeout) {
		case waitCaughtUp:
			m.freshCaughtUp.Inc()
		case waitTimedOut:
			m.freshTimeout.Inc()
			c.log.Warn("cache did not catch up with own writes in time; reconciling anyway", "request", req, "timeout", c.opts.FreshnessTimeout)
		}
		ctx = withRequest(ctx, f, req)
	}
	ctx = WithLogger(ctx, c.log.With("request", req))
	res, err, timedOut := c.call(ctx, req)
	switch {
	case err != nil:
		m.errors.Inc()
		m.errorTotal.Inc()
		var pe *PanicError
		if errors.As(err, &pe) {
			m.panics.Inc()
			c.log.Error("reconciler panicked", "request", req, "panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
		}
		if timedOut {
			m.timeouts.Inc()
		}
		if IsTerminal(err) {
			m.terminalErrors.Inc()
			c.queue.Forget(req)
			c.log.Error("terminal reconcile error; not retrying", "request", req, "err", err)
		} else {
			c.requeueAfter(req, c.limiter.When(req))
			if pe == nil {
				c.log.Error("reconcile error; retrying with backoff", "request", req, "err", err)
			}
		}
		if !res.IsDone() {
			c.log.Warn("reconciler returned an error and a requeue Result; the Result is ignored", "request", req, "result", res.String())
		}
	case res.outcome == OutcomeRequeueAfter:
		c.queue.Forget(req)
		c.requeueAfter(req, res.after)
		m.requeueAfter.Inc()
	case res.outcome == OutcomeRequeueWithBackoff:
		c.requeueAfter(req, c.limiter.When(req))
		m.requeue.Inc()
	default:
		c.queue.Forget(req)
		m.success.Inc()
	}
	m.reconcileTime.Observe(c.clk.Since(start).Seconds())
	m.activeWorkers.Dec()
}

// requeueAfter adds req back after d, noting when it is due.
func (c *Controller[Req]) requeueAfter(req Req, d time.Duration) {
	if d > 0 {
		due := c.clk.Now().Add(d)
		c.delayMu.Lock()
		if prev, ok := c.delayed[req]; !ok || due.Before(prev) {
			if !ok {
				c.nDelayed.Add(1)
			}
			c.delayed[req] = due
		}
		c.delayMu.Unlock()
	}
	c.queue.AddAfter(req, d)
}

// gotDelayed forgets the due time of req once it is due and handed out.
func (c *Controller[Req]) gotDelayed(req Req) {
	c.delayMu.Lock()
	defer c.delayMu.Unlock()
	if due, ok := c.delayed[req]; ok && !due.After(c.clk.Now()) {
		delete(c.delayed, req)
		c.nDelayed.Add(-1)
	}
}

// dueDelayed reports whether a delayed request is due but not yet handed
// out (its timer fired, or is firing, in the queue).
func (c *Controller[Req]) dueDelayed() bool {
	if c.nDelayed.Load() == 0 {
		return false
	}
	now := c.clk.Now()
	c.delayMu.Lock()
	defer c.delayMu.Unlock()
	for _, due := range c.delayed {
		if !due.After(now) {
			return true
		}
	}
	return false
}

// call runs the reconciler with the per-reconcile timeout, turning a panic
// into a *PanicError.
func (c *Controller[Req]) call(ctx context.Context, req Req) (res Result, err error, timedOut bool) {
	if c.opts.Timeout > 0 {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		t := c.clk.AfterFunc(c.opts.Timeout, func() { cancel(ErrReconcileTimeout) })
		defer func() {
			t.Stop()
			timedOut = errors.Is(context.Cause(ctx), ErrReconcileTimeout)
			cancel(nil)
		}()
	}
	defer func() {
		if v := recover(); v != nil {
			res, err = Result{}, &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	res, err = c.r.Reconcile(ctx, req)
	return res, err, false
}

// Idle reports whether the controller has nothing to do right now: it has
// synced, its sources have handled their events, no request is ready in its
// queue or due from a delay, and none is being reconciled. Requests still
// waiting out a delay do not count.
func (c *Controller[Req]) Idle() bool {
	// Len before Processing: a request moves from queued to processing
	// under the queue's lock, so one that a worker takes between the two
	// reads is counted by the second. A worker holds its request in
	// processing until its reconcile has returned and requeued what it
	// must.
	if !c.synced.Load() || c.queue.Len() != 0 || c.queue.Processing() != 0 || c.dueDelayed() {
		return false
	}
	c.mu.Lock()
	for _, s := range c.sources {
		if p, ok := s.(interface{ Pending() int }); ok && p.Pending() > 0 {
			c.mu.Unlock()
			return false
		}
	}
	c.mu.Unlock()
	return true
}

// Activity returns a channel that is closed at the next change of the
// controller's state (a request enqueued or finished, sync, stop). A test
// harness waits on it instead of polling.
func (c *Controller[Req]) Activity() <-chan struct{} { return c.activity.wait() }

// activity is a broadcast of "something changed"; the informer's handlers
// signal their activity with the same [broadcast.Signal].
type activity struct{ s broadcast.Signal }

func newActivity() *activity { return &activity{} }

// bump wakes the waiters, if any; it is one atomic load when none waits.
func (a *activity) bump() { a.s.Bump() }

func (a *activity) wait() <-chan struct{} { return a.s.Next() }
