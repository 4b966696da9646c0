// Package prommetrics reports the metrics of
// [github.com/governor-io/governor/informer] reflectors and informers to
// Prometheus, labelled by their Name ("name"). The reflector metrics keep
// client-go's names: reflector_lists_total,
// reflector_list_duration_seconds, reflector_items_per_list,
// reflector_watches_total, reflector_watch_duration_seconds,
// reflector_items_per_watch and reflector_last_resource_version. The
// informer adds informer_events_received_total (label "type"),
// informer_events_processed_total and informer_handler_backlog (label
// "handler"), the last being the number of notifications a handler has yet
// to handle.
//
// A [Provider] registers on the registry its caller passes, never on the
// global one unless that is what the caller passes.
package prommetrics

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/governor-io/governor/informer"
)

// Metric names.
const (
	ListsName               = "reflector_lists_total"
	ListDurationName        = "reflector_list_duration_seconds"
	ItemsPerListName        = "reflector_items_per_list"
	WatchesName             = "reflector_watches_total"
	WatchDurationName       = "reflector_watch_duration_seconds"
	ItemsPerWatchName       = "reflector_items_per_watch"
	LastResourceVersionName = "reflector_last_resource_version"
	EventsReceivedName      = "informer_events_received_total"
	EventsProcessedName     = "informer_events_processed_total"
	HandlerBacklogName      = "informer_handler_backlog"
)

// Provider is an [informer.MetricsProvider] backed by Prometheus. One
// Provider serves any number of informers; it is itself the one
// [prometheus.Collector] that New registers.
type Provider struct {
	lists, watches              *prometheus.CounterVec
	listDuration, watchDuration *prometheus.HistogramVec
	itemsPerList, itemsPerWatch *prometheus.HistogramVec

	lastRV, received, processed, backlog *prometheus.Desc

	mu     sync.Mutex
	nextID uint64
	stats  map[uint64]func() informer.Stats
}

var _ informer.MetricsProvider = (*Provider)(nil)

// New returns a Provider registered on reg. It returns the registration
// error, for example when reg already holds metrics with these names.
func New(reg prometheus.Registerer) (*Provider, error) {
	items := prometheus.ExponentialBuckets(1, 10, 7)
	name := []string{"name"}
	p := &Provider{
		lists: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: ListsName, Help: "Total number of lists done by the reflector.",
		}, name),
		watches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: WatchesName, Help: "Total number of watches done by the reflector.",
		}, name),
		listDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: ListDurationName, Help: "How long a reflector list took, all pages.",
			Buckets: prometheus.DefBuckets,
		}, name),
		watchDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: WatchDurationName, Help: "How long a reflector watch lasted.",
			Buckets: prometheus.ExponentialBuckets(0.1, 4, 8),
		}, name),
		itemsPerList: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: ItemsPerListName, Help: "How many items a reflector list returned.", Buckets: items,
		}, name),
		itemsPerWatch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: ItemsPerWatchName, Help: "How many events a reflector watch delivered.", Buckets: items,
		}, name),
		lastRV: prometheus.NewDesc(LastResourceVersionName,
			"The last resourceVersion the reflector saw.", name, nil),
		received: prometheus.NewDesc(EventsReceivedName,
			"Watch events received, by type.", []string{"name", "type"}, nil),
		processed: prometheus.NewDesc(EventsProcessedName,
			"Notifications a handler has handled.", []string{"name", "handler"}, nil),
		backlog: prometheus.NewDesc(HandlerBacklogName,
			"Notifications buffered for a handler and not yet handled.", []string{"name", "handler"}, nil),
		stats: make(map[uint64]func() informer.Stats),
	}
	if err := reg.Register(p); err != nil {
		return nil, err
	}
	return p, nil
}

// NewListsMetric returns the reflector_lists_total counter of name.
func (p *Provider) NewListsMetric(name string) informer.CounterMetric {
	return p.lists.WithLabelValues(name)
}

// NewListDurationMetric returns the reflector_list_duration_seconds
// histogram of name.
func (p *Provider) NewListDurationMetric(name string) informer.HistogramMetric {
	return p.listDuration.WithLabelValues(name)
}

// NewItemsPerListMetric returns the reflector_items_per_list histogram of
// name.
func (p *Provider) NewItemsPerListMetric(name string) informer.HistogramMetric {
	return p.itemsPerList.WithLabelValues(name)
}

// NewWatchesMetric returns the reflector_watches_total counter of name.
func (p *Provider) NewWatchesMetric(name string) informer.CounterMetric {
	return p.watches.WithLabelValues(name)
}

// NewWatchDurationMetric returns the reflector_watch_duration_seconds
// histogram of name.
func (p *Provider) NewWatchDurationMetric(name string) informer.HistogramMetric {
	return p.watchDuration.WithLabelValues(name)
}

// NewItemsPerWatchMetric returns the reflector_items_per_watch histogram
// of name.
func (p *Provider) NewItemsPerWatchMetric(name string) informer.HistogramMetric {
	return p.itemsPerWatch.WithLabelValues(name)
}

// AddStats reports what stats returns at every scrape, until remove is
// called.
func (p *Provider) AddStats(stats func() informer.Stats) (remove func()) {
	p.mu.Lock()
	id := p.nextID
	p.nextID++
	p.stats[id] = stats
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		delete(p.stats, id)
		p.mu.Unlock()
	}
}

func (p *Provider) collectors() []prometheus.Collector {
	return []prometheus.Collector{p.lists, p.watches, p.listDuration, p.watchDuration, p.itemsPerList, p.itemsPerWatch}
}

// Describe implements [prometheus.Collector].
func (p *Provider) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range p.collectors() {
		c.Describe(ch)
	}
	ch <- p.lastRV
	ch <- p.received
	ch <- p.processed
	ch <- p.backlog
}

// Collect implements [prometheus.Collector]: the vectors, then the
// figures of every registered [informer.Stats] function, read now.
func (p *Provider) Collect(ch chan<- prometheus.Metric) {
	for _, c := range p.collectors() {
		c.Collect(ch)
	}
	p.mu.Lock()
	fns := make([]func() informer.Stats, 0, len(p.stats))
	for _, f := range p.stats {
		fns = append(fns, f)
	}
	p.mu.Unlock()
	for _, f := range fns {
		s := f()
		if rv, err := strconv.ParseInt(s.LastResourceVersion, 10, 64); err == nil {
			ch <- prometheus.MustNewConstMetric(p.lastRV, prometheus.GaugeValue, float64(rv), s.Name)
		}
		for _, e := range s.EventsReceived {
			ch <- prometheus.MustNewConstMetric(p.received, prometheus.CounterValue, float64(e.Count), s.Name, string(e.Type))
		}
		for _, h := range s.Handlers {
			ch <- prometheus.MustNewConstMetric(p.processed, prometheus.CounterValue, float64(h.Processed), s.Name, h.Name)
			ch <- prometheus.MustNewConstMetric(p.backlog, prometheus.GaugeValue, float64(h.Backlog), s.Name, h.Name)
		}
	}
}
