package reconcile

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics holds the controller metrics of one Prometheus registry, under
// controller-runtime's names and labels, so that existing dashboards work:
//
//	controller_runtime_reconcile_total{controller,result}
//	controller_runtime_reconcile_errors_total{controller}
//	controller_runtime_terminal_reconcile_errors_total{controller}
//	controller_runtime_reconcile_panics_total{controller}
//	controller_runtime_reconcile_timeouts_total{controller}
//	controller_runtime_reconcile_time_seconds{controller}
//	controller_runtime_max_concurrent_reconciles{controller}
//	controller_runtime_active_workers{controller}
//
// The "result" label is one of success, error, requeue and requeue_after.
// Share one Metrics among the controllers of a registry; a [Manager] does
// that for you.
type Metrics struct {
	total          *prometheus.CounterVec
	errors         *prometheus.CounterVec
	terminalErrors *prometheus.CounterVec
	panics         *prometheus.CounterVec
	timeouts       *prometheus.CounterVec
	reconcileTime  *prometheus.HistogramVec
	maxConcurrent  *prometheus.GaugeVec
	activeWorkers  *prometheus.GaugeVec
	freshnessWaits *prometheus.CounterVec
}

// reconcileTimeBuckets span 5 ms to a minute, as controller-runtime's do.
var reconcileTimeBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35,
	0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5,
	6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60}

// NewMetrics makes the controller metrics and registers them on reg. A nil
// reg keeps them unregistered (they still count, at the same cost). It
// fails, with an error matching [ErrInvalidOptions], when reg already has
// metrics of these names.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	ctrl := []string{"controller"}
	m := &Metrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controller_runtime_reconcile_total",
			Help: "Total number of reconciliations per controller.",
		}, []string{"controller", "result"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controller_runtime_reconcile_errors_total",
			Help: "Total number of reconciliation errors per controller.",
		}, ctrl),
		terminalErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controller_runtime_terminal_reconcile_errors_total",
			Help: "Total number of terminal reconciliation errors per controller.",
		}, ctrl),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controller_runtime_reconcile_panics_total",
			Help: "Total number of reconciliation panics per controller.",
		}, ctrl),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controller_runtime_reconcile_timeouts_total",
			Help: "Total number of reconciliations cut short by the per-reconcile timeout.",
		}, ctrl),
		reconcileTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "controller_runtime_reconcile_time_seconds",
			Help:    "Length of time per reconciliation per controller.",
			Buckets: reconcileTimeBuckets,
		}, ctrl),
		maxConcurrent: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "controller_runtime_max_concurrent_reconciles",
			Help: "Maximum number of concurrent reconciles per controller.",
		}, ctrl),
		activeWorkers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "controller_runtime_active_workers",
			Help: "Number of workers reconciling right now, per controller.",
		}, ctrl),
		freshnessWaits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "governor_reconcile_stale_cache_waits_total",
			Help: "Reconciles that waited for the cache to catch up with their own writes, by outcome (caught_up, timeout).",
		}, []string{"controller", "outcome"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.total, m.errors, m.terminalErrors, m.panics,
			m.timeouts, m.reconcileTime, m.maxConcurrent, m.activeWorkers, m.freshnessWaits} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("%w: register controller metrics: %w", ErrInvalidOptions, err)
			}
		}
	}
	return m, nil
}

// controllerMetrics are the children of [Metrics] for one controller, bound
// once so that a reconcile does no label lookup.
type controllerMetrics struct {
	success, requeue, requeueAfter, errorTotal prometheus.Counter
	errors, terminalErrors, panics, timeouts   prometheus.Counter
	reconcileTime                              prometheus.Observer
	activeWorkers                              prometheus.Gauge
	freshCaughtUp, freshTimeout                prometheus.Counter
}

func (m *Metrics) forController(name string, workers int) *controllerMetrics {
	cm := &controllerMetrics{
		success:        m.total.WithLabelValues(name, "success"),
		requeue:        m.total.WithLabelValues(name, "requeue"),
		requeueAfter:   m.total.WithLabelValues(name, "requeue_after"),
		errorTotal:     m.total.WithLabelValues(name, "error"),
		errors:         m.errors.WithLabelValues(name),
		terminalErrors: m.terminalErrors.WithLabelValues(name),
		panics:         m.panics.WithLabelValues(name),
		timeouts:       m.timeouts.WithLabelValues(name),
		reconcileTime:  m.reconcileTime.WithLabelValues(name),
		activeWorkers:  m.activeWorkers.WithLabelValues(name),
		freshCaughtUp:  m.freshnessWaits.WithLabelValues(name, "caught_up"),
		freshTimeout:   m.freshnessWaits.WithLabelValues(name, "timeout"),
	}
	m.maxConcurrent.WithLabelValues(name).Set(float64(workers))
	cm.activeWorkers.Set(0)
	return cm
}
