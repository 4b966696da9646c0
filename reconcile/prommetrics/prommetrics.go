// Package prommetrics reports the metrics of
// [github.com/governor-io/governor/reconcile] controllers and leader
// election to Prometheus, under controller-runtime's and client-go's names
// and labels, so that existing dashboards work:
// controller_runtime_reconcile_total{controller,result},
// controller_runtime_reconcile_errors_total,
// controller_runtime_terminal_reconcile_errors_total,
// controller_runtime_reconcile_panics_total,
// controller_runtime_reconcile_timeouts_total,
// controller_runtime_reconcile_time_seconds,
// controller_runtime_max_concurrent_reconciles and
// controller_runtime_active_workers (label "controller"), ours
// governor_reconcile_stale_cache_waits_total{controller,outcome}, and
// leader_election_master_status{name}, 1 while the elector of the lease
// name leads and 0 otherwise.
//
// A reconcile.Manager makes a [Provider] on its registry by itself; make
// one only for controllers that run without a manager. A Provider
// registers on the registry its caller passes, never on the global one
// unless that is what the caller passes.
//
// The package does not import reconcile (the manager imports it): its
// methods return the metric interfaces of package workqueue, which
// reconcile's are aliases of.
package prommetrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/governor-io/governor/workqueue"
)

// Metric names.
const (
	ReconcileTotalName          = "controller_runtime_reconcile_total"
	ReconcileErrorsName         = "controller_runtime_reconcile_errors_total"
	TerminalReconcileErrorsName = "controller_runtime_terminal_reconcile_errors_total"
	ReconcilePanicsName         = "controller_runtime_reconcile_panics_total"
	ReconcileTimeoutsName       = "controller_runtime_reconcile_timeouts_total"
	ReconcileTimeName           = "controller_runtime_reconcile_time_seconds"
	MaxConcurrentReconcilesName = "controller_runtime_max_concurrent_reconciles"
	ActiveWorkersName           = "controller_runtime_active_workers"
	StaleCacheWaitsName         = "governor_reconcile_stale_cache_waits_total"
	LeaderElectionName          = "leader_election_master_status"
)

// reconcileTimeBuckets span 5 ms to a minute, as controller-runtime's do.
var reconcileTimeBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35,
	0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5,
	6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60}

// Provider is a reconcile.MetricsProvider backed by Prometheus. One
// Provider serves any number of controllers and electors.
type Provider struct {
	total          *prometheus.CounterVec
	errors         *prometheus.CounterVec
	terminalErrors *prometheus.CounterVec
	panics         *prometheus.CounterVec
	timeouts       *prometheus.CounterVec
	reconcileTime  *prometheus.HistogramVec
	maxConcurrent  *prometheus.GaugeVec
	activeWorkers  *prometheus.GaugeVec
	staleWaits     *prometheus.CounterVec
	leader         *leaderCollector
}

// New returns a Provider registered on reg. It returns the registration
// error, for example when reg already holds metrics with these names.
func New(reg prometheus.Registerer) (*Provider, error) {
	ctrl := []string{"controller"}
	p := &Provider{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: ReconcileTotalName,
			Help: "Total number of reconciliations per controller.",
		}, []string{"controller", "result"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: ReconcileErrorsName,
			Help: "Total number of reconciliation errors per controller.",
		}, ctrl),
		terminalErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: TerminalReconcileErrorsName,
			Help: "Total number of terminal reconciliation errors per controller.",
		}, ctrl),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: ReconcilePanicsName,
			Help: "Total number of reconciliation panics per controller.",
		}, ctrl),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: ReconcileTimeoutsName,
			Help: "Total number of reconciliations cut short by the per-reconcile timeout.",
		}, ctrl),
		reconcileTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    ReconcileTimeName,
			Help:    "Length of time per reconciliation per controller.",
			Buckets: reconcileTimeBuckets,
		}, ctrl),
		maxConcurrent: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MaxConcurrentReconcilesName,
			Help: "Maximum number of concurrent reconciles per controller.",
		}, ctrl),
		activeWorkers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: ActiveWorkersName,
			Help: "Number of workers reconciling right now, per controller.",
		}, ctrl),
		staleWaits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: StaleCacheWaitsName,
			Help: "Reconciles that waited for the cache to catch up with their own writes, by outcome (caught_up, timeout).",
		}, []string{"controller", "outcome"}),
		leader: &leaderCollector{
			desc: prometheus.NewDesc(LeaderElectionName,
				"Whether this candidate leads the lease name: 1 while leading, 0 otherwise.", []string{"name"}, nil),
			leading: map[string]func() bool{},
		},
	}
	for _, c := range []prometheus.Collector{p.total, p.errors, p.terminalErrors, p.panics,
		p.timeouts, p.reconcileTime, p.maxConcurrent, p.activeWorkers, p.staleWaits, p.leader} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// NewReconcileTotalMetric returns the controller_runtime_reconcile_total
// counter of the controller and result.
func (p *Provider) NewReconcileTotalMetric(controller, result string) workqueue.CounterMetric {
	return p.total.WithLabelValues(controller, result)
}

// NewReconcileErrorsMetric returns the
// controller_runtime_reconcile_errors_total counter of the controller.
func (p *Provider) NewReconcileErrorsMetric(controller string) workqueue.CounterMetric {
	return p.errors.WithLabelValues(controller)
}

// NewTerminalReconcileErrorsMetric returns the
// controller_runtime_terminal_reconcile_errors_total counter of the
// controller.
func (p *Provider) NewTerminalReconcileErrorsMetric(controller string) workqueue.CounterMetric {
	return p.terminalErrors.WithLabelValues(controller)
}

// NewReconcilePanicsMetric returns the
// controller_runtime_reconcile_panics_total counter of the controller.
func (p *Provider) NewReconcilePanicsMetric(controller string) workqueue.CounterMetric {
	return p.panics.WithLabelValues(controller)
}

// NewReconcileTimeoutsMetric returns the
// controller_runtime_reconcile_timeouts_total counter of the controller.
func (p *Provider) NewReconcileTimeoutsMetric(controller string) workqueue.CounterMetric {
	return p.timeouts.WithLabelValues(controller)
}

// NewReconcileTimeMetric returns the
// controller_runtime_reconcile_time_seconds histogram of the controller.
func (p *Provider) NewReconcileTimeMetric(controller string) workqueue.HistogramMetric {
	return p.reconcileTime.WithLabelValues(controller)
}

// NewActiveWorkersMetric returns the controller_runtime_active_workers
// gauge of the controller, which starts at 0.
func (p *Provider) NewActiveWorkersMetric(controller string) workqueue.GaugeMetric {
	g := p.activeWorkers.WithLabelValues(controller)
	g.Set(0)
	return g
}

// SetMaxConcurrentReconciles sets the
// controller_runtime_max_concurrent_reconciles gauge of the controller.
func (p *Provider) SetMaxConcurrentReconciles(controller string, workers int) {
	p.maxConcurrent.WithLabelValues(controller).Set(float64(workers))
}

// NewStaleCacheWaitsMetric returns the
// governor_reconcile_stale_cache_waits_total counter of the controller and
// outcome.
func (p *Provider) NewStaleCacheWaitsMetric(controller, outcome string) workqueue.CounterMetric {
	return p.staleWaits.WithLabelValues(controller, outcome)
}

// NewLeaderElectionMetric reports leading as
// leader_election_master_status{name} at every scrape: 1 while it returns
// true, 0 otherwise. A later elector of the same name replaces an earlier
// one.
func (p *Provider) NewLeaderElectionMetric(name string, leading func() bool) {
	p.leader.mu.Lock()
	p.leader.leading[name] = leading
	p.leader.mu.Unlock()
}

// leaderCollector reads the electors' state when scraped, so that the
// gauge is never stale and no goroutine refreshes it.
type leaderCollector struct {
	desc    *prometheus.Desc
	mu      sync.Mutex
	leading map[string]func() bool
}

// Describe sends the gauge's descriptor.
func (c *leaderCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect sends one sample per elector.
func (c *leaderCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, f := range c.leading {
		v := 0.0
		if f() {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, name)
	}
}
