package informer

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/governor-io/governor/store"
)

// Metrics are the Prometheus metrics of a set of informers and reflectors,
// told apart by the label "name" (their Name option). Make one with
// [NewMetrics] and pass it in Options; nothing is registered globally.
//
// The reflector metrics keep client-go's names: reflector_lists_total,
// reflector_list_duration_seconds, reflector_items_per_list,
// reflector_watches_total, reflector_watch_duration_seconds,
// reflector_items_per_watch and reflector_last_resource_version. The
// informer adds informer_events_received_total (label "type"),
// informer_events_processed_total and informer_handler_backlog (label
// "handler"), the last being the number of notifications a handler has yet
// to handle. Per-event figures are read from counters the informer keeps
// anyway, at scrape time, so metrics cost nothing per event.
type Metrics struct {
	lists, watches              *prometheus.CounterVec
	listDuration, watchDuration *prometheus.HistogramVec
	itemsPerList, itemsPerWatch *prometheus.HistogramVec

	lastRV, received, processed, backlog *prometheus.Desc

	mu      sync.Mutex
	sources map[*sourceStats]struct{}
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	items := prometheus.ExponentialBuckets(1, 10, 7)
	m := &Metrics{
		lists: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reflector_lists_total", Help: "Total number of lists done by the reflector.",
		}, []string{"name"}),
		watches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reflector_watches_total", Help: "Total number of watches done by the reflector.",
		}, []string{"name"}),
		listDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "reflector_list_duration_seconds", Help: "How long a reflector list took, all pages.",
			Buckets: prometheus.DefBuckets,
		}, []string{"name"}),
		watchDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "reflector_watch_duration_seconds", Help: "How long a reflector watch lasted.",
			Buckets: prometheus.ExponentialBuckets(0.1, 4, 8),
		}, []string{"name"}),
		itemsPerList: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "reflector_items_per_list", Help: "How many items a reflector list returned.", Buckets: items,
		}, []string{"name"}),
		itemsPerWatch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "reflector_items_per_watch", Help: "How many events a reflector watch delivered.", Buckets: items,
		}, []string{"name"}),
		lastRV: prometheus.NewDesc("reflector_last_resource_version",
			"The last resourceVersion the reflector saw.", []string{"name"}, nil),
		received: prometheus.NewDesc("informer_events_received_total",
			"Watch events received, by type.", []string{"name", "type"}, nil),
		processed: prometheus.NewDesc("informer_events_processed_total",
			"Notifications a handler has handled.", []string{"name", "handler"}, nil),
		backlog: prometheus.NewDesc("informer_handler_backlog",
			"Notifications buffered for a handler and not yet handled.", []string{"name", "handler"}, nil),
		sources: make(map[*sourceStats]struct{}),
	}
	if err := reg.Register(m); err != nil {
		return nil, err
	}
	return m, nil
}

// Describe implements [prometheus.Collector].
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
	ch <- m.lastRV
	ch <- m.received
	ch <- m.processed
	ch <- m.backlog
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.lists, m.watches, m.listDuration, m.watchDuration, m.itemsPerList, m.itemsPerWatch}
}

// Collect implements [prometheus.Collector].
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
	m.mu.Lock()
	sources := make([]*sourceStats, 0, len(m.sources))
	for s := range m.sources {
		sources = append(sources, s)
	}
	m.mu.Unlock()
	for _, s := range sources {
		if rv, err := strconv.ParseInt(s.lastRV(), 10, 64); err == nil {
			ch <- prometheus.MustNewConstMetric(m.lastRV, prometheus.GaugeValue, float64(rv), s.name)
		}
		for i, t := range eventTypes {
			ch <- prometheus.MustNewConstMetric(m.received, prometheus.CounterValue, float64(s.events[i].Load()), s.name, string(t))
		}
		if h := s.handlers.Load(); h != nil {
			for _, hs := range (*h)() {
				ch <- prometheus.MustNewConstMetric(m.processed, prometheus.CounterValue, float64(hs.processed), s.name, hs.name)
				ch <- prometheus.MustNewConstMetric(m.backlog, prometheus.GaugeValue, float64(hs.backlog), s.name, hs.name)
			}
		}
	}
}

func (m *Metrics) add(s *sourceStats) {
	m.mu.Lock()
	m.sources[s] = struct{}{}
	m.mu.Unlock()
}

func (m *Metrics) remove(s *sourceStats) {
	m.mu.Lock()
	delete(m.sources, s)
	m.mu.Unlock()
}

var eventTypes = [...]store.EventType{store.Added, store.Modified, store.Deleted, store.Bookmark, store.Error}

// handlerStats is one handler's figures at scrape time.
type handlerStats struct {
	name      string
	processed uint64
	backlog   int64
}

// sourceStats are the per-event counters of one reflector.
type sourceStats struct {
	name     string
	events   [len(eventTypes)]atomic.Uint64
	lastRV   func() string
	handlers atomic.Pointer[func() []handlerStats]
}

func newSourceStats(name string) *sourceStats {
	return &sourceStats{name: name, lastRV: func() string { return "" }}
}

func (s *sourceStats) received(t store.EventType) {
	for i, et := range eventTypes {
		if et == t {
			s.events[i].Add(1)
			return
		}
	}
}

func (s *sourceStats) observeList(m *Metrics, d time.Duration, n int) {
	if m == nil {
		return
	}
	m.lists.WithLabelValues(s.name).Inc()
	m.listDuration.WithLabelValues(s.name).Observe(d.Seconds())
	m.itemsPerList.WithLabelValues(s.name).Observe(float64(n))
}

func (s *sourceStats) observeWatch(m *Metrics, d time.Duration, n int) {
	if m == nil {
		return
	}
	m.watches.WithLabelValues(s.name).Inc()
	m.watchDuration.WithLabelValues(s.name).Observe(d.Seconds())
	m.itemsPerWatch.WithLabelValues(s.name).Observe(float64(n))
}
