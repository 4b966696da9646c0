package reconcile

import "github.com/governor-io/governor/workqueue"

// MetricsProvider makes the metrics of controllers and of leader election.
// The package prommetrics implements it with Prometheus, under
// controller-runtime's and client-go's names and labels, so that existing
// dashboards work:
//
//	controller_runtime_reconcile_total{controller,result}
//	controller_runtime_reconcile_errors_total{controller}
//	controller_runtime_terminal_reconcile_errors_total{controller}
//	controller_runtime_reconcile_panics_total{controller}
//	controller_runtime_reconcile_timeouts_total{controller}
//	controller_runtime_reconcile_time_seconds{controller}
//	controller_runtime_max_concurrent_reconciles{controller}
//	controller_runtime_active_workers{controller}
//	governor_reconcile_stale_cache_waits_total{controller,outcome}
//	leader_election_master_status{name}
//
// A [Manager] makes one and gives it to its controllers and its elector. A
// controller or elector without a provider keeps no metrics and pays
// nothing for them. A controller asks for its metrics once, when it is made
// (or added to a manager), so that a reconcile does no label lookup.
type MetricsProvider interface {
	// NewReconcileTotalMetric returns the counter of reconciles of the
	// controller that ended with result: one of success, error, requeue
	// and requeue_after ([Result.Outcome]).
	NewReconcileTotalMetric(controller, result string) CounterMetric
	// NewReconcileErrorsMetric returns the counter of reconciles that
	// returned an error or panicked.
	NewReconcileErrorsMetric(controller string) CounterMetric
	// NewTerminalReconcileErrorsMetric returns the counter of reconciles
	// that returned a terminal error.
	NewTerminalReconcileErrorsMetric(controller string) CounterMetric
	// NewReconcilePanicsMetric returns the counter of reconciles that
	// panicked.
	NewReconcilePanicsMetric(controller string) CounterMetric
	// NewReconcileTimeoutsMetric returns the counter of reconciles cut
	// short by Options.Timeout.
	NewReconcileTimeoutsMetric(controller string) CounterMetric
	// NewReconcileTimeMetric returns the histogram of the seconds a
	// reconcile took.
	NewReconcileTimeMetric(controller string) HistogramMetric
	// NewActiveWorkersMetric returns the gauge of the workers reconciling
	// right now.
	NewActiveWorkersMetric(controller string) GaugeMetric
	// SetMaxConcurrentReconciles records the controller's number of
	// workers.
	SetMaxConcurrentReconciles(controller string, workers int)
	// NewStaleCacheWaitsMetric returns the counter of reconciles that
	// waited for the cache to catch up with their own writes and ended
	// with outcome: caught_up or timeout.
	NewStaleCacheWaitsMetric(controller, outcome string) CounterMetric
	// NewLeaderElectionMetric registers leading, which reports whether the
	// elector of the lease name leads; the provider calls it when it
	// reports, so no goroutine polls for it.
	NewLeaderElectionMetric(name string, leading func() bool)
}

// CounterMetric is a value that only goes up. It is workqueue's, so that
// one implementation serves both packages.
type CounterMetric = workqueue.CounterMetric

// GaugeMetric is a value that goes up and down.
type GaugeMetric = workqueue.GaugeMetric

// HistogramMetric records observations, in seconds.
type HistogramMetric = workqueue.HistogramMetric

// controllerMetrics are the instruments of one controller, made once so
// that a reconcile does no label lookup. Without a provider they are
// no-ops.
type controllerMetrics struct {
	success, requeue, requeueAfter, errorTotal CounterMetric
	errors, terminalErrors, panics, timeouts   CounterMetric
	reconcileTime                              HistogramMetric
	activeWorkers                              GaugeMetric
	freshCaughtUp, freshTimeout                CounterMetric
}

func newControllerMetrics(p MetricsProvider, name string, workers int) *controllerMetrics {
	if p == nil {
		return noMetrics
	}
	p.SetMaxConcurrentReconciles(name, workers)
	return &controllerMetrics{
		success:        p.NewReconcileTotalMetric(name, "success"),
		requeue:        p.NewReconcileTotalMetric(name, "requeue"),
		requeueAfter:   p.NewReconcileTotalMetric(name, "requeue_after"),
		errorTotal:     p.NewReconcileTotalMetric(name, "error"),
		errors:         p.NewReconcileErrorsMetric(name),
		terminalErrors: p.NewTerminalReconcileErrorsMetric(name),
		panics:         p.NewReconcilePanicsMetric(name),
		timeouts:       p.NewReconcileTimeoutsMetric(name),
		reconcileTime:  p.NewReconcileTimeMetric(name),
		activeWorkers:  p.NewActiveWorkersMetric(name),
		freshCaughtUp:  p.NewStaleCacheWaitsMetric(name, "caught_up"),
		freshTimeout:   p.NewStaleCacheWaitsMetric(name, "timeout"),
	}
}

// noop is the instrument of a controller without metrics.
type noop struct{}

func (noop) Inc()            {}
func (noop) Dec()            {}
func (noop) Observe(float64) {}

var noMetrics = &controllerMetrics{
	success: noop{}, requeue: noop{}, requeueAfter: noop{}, errorTotal: noop{},
	errors: noop{}, terminalErrors: noop{}, panics: noop{}, timeouts: noop{},
	reconcileTime: noop{}, activeWorkers: noop{}, freshCaughtUp: noop{}, freshTimeout: noop{},
}
