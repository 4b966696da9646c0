// Package prommetrics reports the metrics of
// [github.com/governor-io/governor/workqueue] queues to Prometheus, under
// the names client-go's workqueue uses, labelled by queue name:
// workqueue_depth, workqueue_adds_total, workqueue_queue_duration_seconds,
// workqueue_work_duration_seconds, workqueue_unfinished_work_seconds,
// workqueue_longest_running_processor_seconds and workqueue_retries_total.
//
// A [Provider] registers on the registry its caller passes, never on the
// global one unless that is what the caller passes.
package prommetrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/governor-io/governor/workqueue"
)

// Metric names, as client-go's workqueue exports them.
const (
	DepthName                   = "workqueue_depth"
	AddsName                    = "workqueue_adds_total"
	QueueDurationName           = "workqueue_queue_duration_seconds"
	WorkDurationName            = "workqueue_work_duration_seconds"
	UnfinishedWorkName          = "workqueue_unfinished_work_seconds"
	LongestRunningProcessorName = "workqueue_longest_running_processor_seconds"
	RetriesName                 = "workqueue_retries_total"
)

// Provider is a [workqueue.MetricsProvider] backed by Prometheus metric
// vectors with the label "name". One Provider serves any number of queues.
type Provider struct {
	depth    *prometheus.GaugeVec
	adds     *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	work     *prometheus.HistogramVec
	retries  *prometheus.CounterVec
	progress *progressCollector
}

var _ workqueue.MetricsProvider = (*Provider)(nil)

// New returns a Provider whose metrics are registered on reg. It returns
// the registration error, for example when reg already holds metrics with
// these names.
func New(reg prometheus.Registerer) (*Provider, error) {
	buckets := prometheus.ExponentialBuckets(10e-9, 10, 12)
	p := &Provider{
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: DepthName, Help: "Current depth of the workqueue.",
		}, []string{"name"}),
		adds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: AddsName, Help: "Total number of adds handled by the workqueue.",
		}, []string{"name"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: QueueDurationName, Help: "Seconds an item stays in the workqueue before it is requested.",
			Buckets: buckets,
		}, []string{"name"}),
		work: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: WorkDurationName, Help: "Seconds processing an item from the workqueue takes.",
			Buckets: buckets,
		}, []string{"name"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: RetriesName, Help: "Total number of retries handled by the workqueue.",
		}, []string{"name"}),
		progress: &progressCollector{
			unfinished: prometheus.NewDesc(UnfinishedWorkName,
				"Seconds of work in progress not yet observed by work_duration; large values suggest stuck workers.",
				[]string{"name"}, nil),
			longest: prometheus.NewDesc(LongestRunningProcessorName,
				"Seconds the longest-running item of the workqueue has been in processing.",
				[]string{"name"}, nil),
			unfinishedFn: map[string]func() float64{},
			longestFn:    map[string]func() float64{},
		},
	}
	for _, c := range []prometheus.Collector{p.depth, p.adds, p.latency, p.work, p.retries, p.progress} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// NewDepthMetric returns the workqueue_depth gauge of the named queue.
func (p *Provider) NewDepthMetric(name string) workqueue.GaugeMetric {
	return p.depth.WithLabelValues(name)
}

// NewAddsMetric returns the workqueue_adds_total counter of the named queue.
func (p *Provider) NewAddsMetric(name string) workqueue.CounterMetric {
	return p.adds.WithLabelValues(name)
}

// NewLatencyMetric returns the workqueue_queue_duration_seconds histogram
// of the named queue.
func (p *Provider) NewLatencyMetric(name string) workqueue.HistogramMetric {
	return p.latency.WithLabelValues(name)
}

// NewWorkDurationMetric returns the workqueue_work_duration_seconds
// histogram of the named queue.
func (p *Provider) NewWorkDurationMetric(name string) workqueue.HistogramMetric {
	return p.work.WithLabelValues(name)
}

// NewRetriesMetric returns the workqueue_retries_total counter of the named
// queue.
func (p *Provider) NewRetriesMetric(name string) workqueue.CounterMetric {
	return p.retries.WithLabelValues(name)
}

// NewUnfinishedWorkSecondsMetric reports value as
// workqueue_unfinished_work_seconds of the named queue at every scrape. A
// later queue with the same name replaces an earlier one.
func (p *Provider) NewUnfinishedWorkSecondsMetric(name string, value func() float64) {
	p.progress.set(p.progress.unfinishedFn, name, value)
}

// NewLongestRunningProcessorSecondsMetric reports value as
// workqueue_longest_running_processor_seconds of the named queue at every
// scrape. A later queue with the same name replaces an earlier one.
func (p *Provider) NewLongestRunningProcessorSecondsMetric(name string, value func() float64) {
	p.progress.set(p.progress.longestFn, name, value)
}

// progressCollector computes the two in-progress gauges when scraped, so
// that no goroutine has to refresh them.
type progressCollector struct {
	unfinished, longest     *prometheus.Desc
	mu                      sync.Mutex
	unfinishedFn, longestFn map[string]func() float64
}

func (c *progressCollector) set(m map[string]func() float64, name string, f func() float64) {
	c.mu.Lock()
	m[name] = f
	c.mu.Unlock()
}

// Describe sends the descriptors of both gauges.
func (c *progressCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.unfinished
	ch <- c.longest
}

// Collect calls every registered function and sends its value.
func (c *progressCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, f := range c.unfinishedFn {
		ch <- prometheus.MustNewConstMetric(c.unfinished, prometheus.GaugeValue, f(), name)
	}
	for name, f := range c.longestFn {
		ch <- prometheus.MustNewConstMetric(c.longest, prometheus.GaugeValue, f(), name)
	}
}
