package informer

import (
	"sync/atomic"
	"time"

	"github.com/governor-io/governor/store/meta"
)

// MetricsProvider makes the metrics of reflectors and informers, one set
// per Name. The package prommetrics implements it with Prometheus, under
// client-go's names (reflector_*) and ours (informer_*). A reflector or
// informer without a provider keeps only the counters it keeps anyway and
// pays nothing more.
//
// Per-event figures (events received, handled and buffered) are not
// pushed: the reflector registers a [Stats] function that the provider
// calls when it reports, so that metrics cost nothing per event.
type MetricsProvider interface {
	// NewListsMetric returns the counter of lists (reflector_lists_total).
	NewListsMetric(name string) CounterMetric
	// NewListDurationMetric returns the histogram of the seconds a list
	// took, all pages (reflector_list_duration_seconds).
	NewListDurationMetric(name string) HistogramMetric
	// NewItemsPerListMetric returns the histogram of the items a list
	// returned (reflector_items_per_list).
	NewItemsPerListMetric(name string) HistogramMetric
	// NewWatchesMetric returns the counter of watches
	// (reflector_watches_total).
	NewWatchesMetric(name string) CounterMetric
	// NewWatchDurationMetric returns the histogram of the seconds a watch
	// lasted (reflector_watch_duration_seconds).
	NewWatchDurationMetric(name string) HistogramMetric
	// NewItemsPerWatchMetric returns the histogram of the events a watch
	// delivered (reflector_items_per_watch).
	NewItemsPerWatchMetric(name string) HistogramMetric
	// AddStats registers stats, which the provider calls when it reports
	// (reflector_last_resource_version, informer_events_received_total,
	// informer_events_processed_total, informer_handler_backlog). A
	// reflector registers it when Run starts and calls remove when Run
	// returns.
	AddStats(stats func() Stats) (remove func())
}

// CounterMetric is a value that only goes up.
type CounterMetric interface {
	// Inc adds one.
	Inc()
}

// HistogramMetric records observations.
type HistogramMetric interface {
	// Observe records one observation.
	Observe(v float64)
}

// Stats are one reflector's figures at the time a [MetricsProvider]
// reports them.
type Stats struct {
	// Name is the reflector's (and its informer's) Name.
	Name string
	// LastResourceVersion is the last resourceVersion it saw, "" before
	// the first list.
	LastResourceVersion string
	// EventsReceived counts the watch events received, by type; every
	// type of [EventTypes] has an entry.
	EventsReceived []EventCount
	// Handlers are the informer's handlers, in the order they were added.
	Handlers []HandlerStats
}

// EventCount is the number of watch events of one type.
type EventCount struct {
	Type  meta.EventType
	Count uint64
}

// HandlerStats are one handler's figures.
type HandlerStats struct {
	// Name is the handler's name ([WithName]).
	Name string
	// Processed counts the notifications it has handled.
	Processed uint64
	// Backlog is the number of notifications buffered for it.
	Backlog int64
}

// EventTypes are the watch event types a reflector counts, in the order
// of [Stats].EventsReceived.
var EventTypes = [...]meta.EventType{meta.Added, meta.Modified, meta.Deleted, meta.Bookmark, meta.Error}

// reflectorMetrics are the instruments of one reflector, made once so that
// observing them needs no label lookup.
type reflectorMetrics struct {
	lists, watches              CounterMetric
	listDuration, watchDuration HistogramMetric
	itemsPerList, itemsPerWatch HistogramMetric
}

func newReflectorMetrics(p MetricsProvider, name string) *reflectorMetrics {
	if p == nil {
		return nil
	}
	return &reflectorMetrics{
		lists:         p.NewListsMetric(name),
		watches:       p.NewWatchesMetric(name),
		listDuration:  p.NewListDurationMetric(name),
		watchDuration: p.NewWatchDurationMetric(name),
		itemsPerList:  p.NewItemsPerListMetric(name),
		itemsPerWatch: p.NewItemsPerWatchMetric(name),
	}
}

func (m *reflectorMetrics) observeList(d time.Duration, n int) {
	if m == nil {
		return
	}
	m.lists.Inc()
	m.listDuration.Observe(d.Seconds())
	m.itemsPerList.Observe(float64(n))
}

func (m *reflectorMetrics) observeWatch(d time.Duration, n int) {
	if m == nil {
		return
	}
	m.watches.Inc()
	m.watchDuration.Observe(d.Seconds())
	m.itemsPerWatch.Observe(float64(n))
}

// sourceStats are the per-event counters of one reflector, kept with or
// without metrics (an atomic add per event).
type sourceStats struct {
	name     string
	events   [len(EventTypes)]atomic.Uint64
	lastRV   func() string
	handlers atomic.Pointer[func() []HandlerStats]
}

func newSourceStats(name string) *sourceStats {
	return &sourceStats{name: name, lastRV: func() string { return "" }}
}

func (s *sourceStats) received(t meta.EventType) {
	for i, et := range EventTypes {
		if et == t {
			s.events[i].Add(1)
			return
		}
	}
}

// snapshot returns the figures as a provider reads them.
func (s *sourceStats) snapshot() Stats {
	st := Stats{Name: s.name, LastResourceVersion: s.lastRV(), EventsReceived: make([]EventCount, len(EventTypes))}
	for i, t := range EventTypes {
		st.EventsReceived[i] = EventCount{Type: t, Count: s.events[i].Load()}
	}
	if h := s.handlers.Load(); h != nil {
		st.Handlers = (*h)()
	}
	return st
}
