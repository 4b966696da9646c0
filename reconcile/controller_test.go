package reconcile_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/reconcile/prommetrics"
)

// waitFor is the failure guard of every wait in these tests.
const waitFor = 10 * time.Second

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// recordingLimiter is a rate limiter that counts its calls and always waits
// one second, so that tests can tell a backoff from a fixed delay.
type recordingLimiter struct {
	mu      sync.Mutex
	when    int
	forgets int
}

func (l *recordingLimiter) When(string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.when++
	return time.Second
}

func (l *recordingLimiter) Forget(string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forgets++
}

func (l *recordingLimiter) NumRequeues(string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.when
}

func (l *recordingLimiter) counts() (when, forgets int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.when, l.forgets
}

// waitIdle waits until c has synced and has nothing ready or in flight.
// An informer handler's buffer drains without a notification, so while
// events are buffered for c's sources it re-checks every millisecond.
func waitIdle[Req comparable](t *testing.T, c *reconcile.Controller[Req]) {
	t.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for {
		ch := c.Activity()
		if c.Idle() {
			return
		}
		recheck := time.NewTimer(time.Millisecond)
		select {
		case <-ch:
		case <-recheck.C:
		case <-deadline.C:
			t.Fatalf("controller %s not idle after %s", c.Name(), waitFor)
		}
		recheck.Stop()
	}
}

// started runs c until the test ends.
func started[Req comparable](t *testing.T, c *reconcile.Controller[Req]) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("controller stopped with %v", err)
			}
		case <-time.After(waitFor):
			t.Errorf("controller did not stop")
		}
	})
}

func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
			if h := m.GetHistogram(); h != nil {
				return float64(h.GetSampleCount())
			}
		}
	}
	return 0
}

func TestResultOutcomes(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		res  reconcile.Result
		err  error
		// panics makes the reconciler panic instead of returning.
		panics bool
		// result is the controller_runtime_reconcile_total label that moves.
		result                    string
		errors, terminal, panicsN float64
		backoffs, forgets         int
		againAfter                time.Duration // 0: not reconciled again by time alone
	}{
		{name: "done forgets and waits for the next event", res: reconcile.Done(),
			result: "success", forgets: 1},
		{name: "requeue after D reconciles again after D", res: reconcile.RequeueAfter(3 * time.Second),
			result: "requeue_after", forgets: 1, againAfter: 3 * time.Second},
		{name: "requeue with backoff asks the rate limiter", res: reconcile.RequeueWithBackoff(),
			result: "requeue", backoffs: 1, againAfter: time.Second},
		{name: "error retries with backoff", err: boom,
			result: "error", errors: 1, backoffs: 1, againAfter: time.Second},
		{name: "error wins over a requeue result", res: reconcile.RequeueAfter(time.Hour), err: boom,
			result: "error", errors: 1, backoffs: 1, againAfter: time.Second},
		{name: "terminal error is never retried", err: reconcile.TerminalError(boom),
			result: "error", errors: 1, terminal: 1, forgets: 1},
		{name: "panic is recovered, counted and retried", panics: true,
			result: "error", errors: 1, panicsN: 1, backoffs: 1, againAfter: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clocktest.New(epoch)
			reg := prometheus.NewRegistry()
			metrics, err := prommetrics.New(reg)
			if err != nil {
				t.Fatal(err)
			}
			limiter := &recordingLimiter{}
			calls := make(chan string, 10)
			var n int
			var mu sync.Mutex
			r := reconcile.Func[string](func(ctx context.Context, req string) (reconcile.Result, error) {
				calls <- req
				mu.Lock()
				n++
				first := n == 1
				mu.Unlock()
				if !first {
					return reconcile.Done(), nil
				}
				if tt.panics {
					panic("reconciler bug")
				}
				return tt.res, tt.err
			})
			c, err := reconcile.New[string](r, reconcile.Options[string]{
				Name: "test", Clock: clk, Metrics: metrics, RateLimiter: limiter,
			})
			if err != nil {
				t.Fatal(err)
			}
			started(t, c)
			c.Enqueue("a")
			select {
			case <-calls:
			case <-time.After(waitFor):
				t.Fatal("no reconcile")
			}
			waitIdle(t, c)

			if got := counter(t, reg, "controller_runtime_reconcile_total", map[string]string{"controller": "test", "result": tt.result}); got != 1 {
				t.Errorf("reconcile_total{result=%s} = %v, want 1", tt.result, got)
			}
			for name, want := range map[string]float64{
				"controller_runtime_reconcile_errors_total":          tt.errors,
				"controller_runtime_terminal_reconcile_errors_total": tt.terminal,
				"controller_runtime_reconcile_panics_total":          tt.panicsN,
				"controller_runtime_reconcile_time_seconds":          1,
				"controller_runtime_max_concurrent_reconciles":       1,
				"controller_runtime_active_workers":                  0,
			} {
				if got := counter(t, reg, name, map[string]string{"controller": "test"}); got != want {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
			if got, _ := limiter.counts(); got != tt.backoffs {
				t.Errorf("rate limiter When calls = %d, want %d", got, tt.backoffs)
			}
			if _, got := limiter.counts(); got != tt.forgets {
				t.Errorf("rate limiter Forget calls = %d, want %d", got, tt.forgets)
			}

			if tt.againAfter == 0 {
				return
			}
			clk.Step(tt.againAfter - time.Millisecond)
			waitIdle(t, c)
			select {
			case <-calls:
				t.Fatalf("reconciled again before %s", tt.againAfter)
			default:
			}
			clk.Step(time.Millisecond)
			select {
			case <-calls:
			case <-time.After(waitFor):
				t.Fatalf("not reconciled again after %s", tt.againAfter)
			}
		})
	}
}

func TestResultConstructors(t *testing.T) {
	tests := []struct {
		res     reconcile.Result
		outcome reconcile.Outcome
		after   time.Duration
		str     string
	}{
		{reconcile.Result{}, reconcile.OutcomeDone, 0, "done"},
		{reconcile.Done(), reconcile.OutcomeDone, 0, "done"},
		{reconcile.RequeueAfter(time.Second), reconcile.OutcomeRequeueAfter, time.Second, "requeue after 1s"},
		{reconcile.RequeueAfter(0), reconcile.OutcomeDone, 0, "done"},
		{reconcile.RequeueAfter(-time.Second), reconcile.OutcomeDone, 0, "done"},
		{reconcile.RequeueWithBackoff(), reconcile.OutcomeRequeueWithBackoff, 0, "requeue with backoff"},
	}
	for _, tt := range tests {
		if tt.res.Outcome() != tt.outcome || tt.res.After() != tt.after || tt.res.String() != tt.str {
			t.Errorf("%v: got (%v, %v, %q), want (%v, %v, %q)", tt.res, tt.res.Outcome(), tt.res.After(), tt.res.String(), tt.outcome, tt.after, tt.str)
		}
	}
}

func TestTerminalError(t *testing.T) {
	cause := errors.New("spec can never be satisfied")
	err := reconcile.TerminalError(cause)
	if !errors.Is(err, reconcile.ErrTerminal) || !errors.Is(err, cause) || !reconcile.IsTerminal(err) {
		t.Fatalf("TerminalError(%v) does not match ErrTerminal and its cause", cause)
	}
	wrapped := errors.Join(errors.New("context"), err)
	if !reconcile.IsTerminal(wrapped) {
		t.Fatal("a wrapped terminal error is not terminal")
	}
	if reconcile.IsTerminal(cause) {
		t.Fatal("a plain error is terminal")
	}
}

func TestPerReconcileTimeout(t *testing.T) {
	clk := clocktest.New(epoch)
	reg := prometheus.NewRegistry()
	metrics, _ := prommetrics.New(reg)
	entered := make(chan struct{}, 1)
	causes := make(chan error, 1)
	r := reconcile.Func[string](func(ctx context.Context, req string) (reconcile.Result, error) {
		entered <- struct{}{}
		<-ctx.Done()
		causes <- context.Cause(ctx)
		return reconcile.Done(), ctx.Err()
	})
	c, err := reconcile.New[string](r, reconcile.Options[string]{Name: "slow", Clock: clk, Metrics: metrics,
		Timeout: 5 * time.Second, RateLimiter: &recordingLimiter{}})
	if err != nil {
		t.Fatal(err)
	}
	started(t, c)
	c.Enqueue("a")
	<-entered
	if err := clk.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	clk.Step(5 * time.Second)
	select {
	case cause := <-causes:
		if !errors.Is(cause, reconcile.ErrReconcileTimeout) || !errors.Is(cause, context.DeadlineExceeded) {
			t.Fatalf("cause = %v, want ErrReconcileTimeout", cause)
		}
	case <-time.After(waitFor):
		t.Fatal("timeout did not cancel the reconcile")
	}
	waitIdle(t, c)
	if got := testutil.ToFloat64(mustCollector(t, reg, "controller_runtime_reconcile_timeouts_total")); got != 1 {
		t.Fatalf("reconcile_timeouts_total = %v, want 1", got)
	}
}

func mustCollector(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	return gathererCollector{t: t, reg: reg, name: name}
}

// gathererCollector exposes one gathered counter to testutil.ToFloat64.
type gathererCollector struct {
	t    *testing.T
	reg  *prometheus.Registry
	name string
}

func (g gathererCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- prometheus.NewDesc(g.name, "copy", nil, nil)
}

func (g gathererCollector) Collect(ch chan<- prometheus.Metric) {
	v := counter(g.t, g.reg, g.name, nil)
	ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(g.name, "copy", nil, nil), prometheus.CounterValue, v)
}

func TestOneKeyNeverReconciledTwiceAtOnce(t *testing.T) {
	var mu sync.Mutex
	running := map[string]bool{}
	var overlap bool
	total := make(chan struct{}, 1000)
	r := reconcile.Func[string](func(ctx context.Context, req string) (reconcile.Result, error) {
		mu.Lock()
		if running[req] {
			overlap = true
		}
		running[req] = true
		mu.Unlock()
		mu.Lock()
		running[req] = false
		mu.Unlock()
		total <- struct{}{}
		return reconcile.Done(), nil
	})
	c, err := reconcile.New[string](r, reconcile.Options[string]{Name: "par", Workers: 8})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan string)
	if err := c.Watch(reconcile.Channel(ch)); err != nil {
		t.Fatal(err)
	}
	started(t, c)
	for i := range 500 {
		ch <- string(rune('a' + i%5))
	}
	waitIdle(t, c)
	mu.Lock()
	defer mu.Unlock()
	if overlap {
		t.Fatal("a key was reconciled by two workers at once")
	}
	if len(total) == 0 {
		t.Fatal("nothing reconciled")
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	r := reconcile.Func[string](func(context.Context, string) (reconcile.Result, error) { return reconcile.Done(), nil })
	for name, opts := range map[string]reconcile.Options[string]{
		"no name":          {},
		"negative workers": {Name: "x", Workers: -1},
		"negative timeout": {Name: "x", Timeout: -time.Second},
	} {
		if _, err := reconcile.New[string](r, opts); !errors.Is(err, reconcile.ErrInvalidOptions) {
			t.Errorf("%s: err = %v, want ErrInvalidOptions", name, err)
		}
	}
	reg := prometheus.NewRegistry()
	if _, err := prommetrics.New(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := prommetrics.New(reg); err == nil {
		t.Fatal("second prommetrics.New on one registry succeeded")
	}
	if _, err := reconcile.NewManager(reconcile.ManagerOptions{Registry: reg}); !errors.Is(err, reconcile.ErrInvalidOptions) {
		t.Fatalf("NewManager on a registry that has the controller metrics: err = %v, want ErrInvalidOptions", err)
	}
}
