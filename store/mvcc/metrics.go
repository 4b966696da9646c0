package mvcc

import (
	"fmt"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
)

// Approximate heap cost of the index structures, for
// etcd_mvcc_db_total_size_in_bytes: a key costs its bytes, its keyIndex and
// the B-tree slot that points at it; a revision costs its entry and its
// value's bytes. Slice headroom and the B-tree's inner nodes are not
// counted.
const (
	keyOverhead   = int64(unsafe.Sizeof(keyIndex{})) + int64(unsafe.Sizeof(uintptr(0)))
	entryOverhead = int64(unsafe.Sizeof(entry{}))
)

// size is the approximate memory that ki holds, as counted for
// etcd_mvcc_db_total_size_in_bytes.
func (ki *keyIndex) size() int64 {
	n := keyOverhead + int64(len(ki.key))
	for i := range ki.entries {
		n += entryOverhead + int64(len(ki.entries[i].value))
	}
	return n
}

// metrics are the engine's Prometheus collectors, named as etcd names the
// metrics of its own MVCC store. They exist only when Options.Registerer
// is set; every update is behind a nil check of Engine.metrics.
type metrics struct {
	puts, deletes, ranges, txns prometheus.Counter
	putBytes                    prometheus.Gauge
	events                      prometheus.Counter
	compactionPause             prometheus.Histogram
	compactionTotal             prometheus.Histogram
	compactedRevisions          prometheus.Counter
	collectors                  []prometheus.Collector
}

// Describe implements [prometheus.Collector].
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors {
		c.Describe(ch)
	}
}

// Collect implements [prometheus.Collector].
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors {
		c.Collect(ch)
	}
}

func newMetrics(e *Engine) *metrics {
	counter := func(ns, name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: "mvcc", Name: name, Help: help})
	}
	gaugeFunc := func(ns, name, help string, f func() float64) prometheus.GaugeFunc {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: "mvcc", Name: name, Help: help}, f)
	}
	locked := func(f func() int64) func() float64 {
		return func() float64 {
			e.mu.RLock()
			defer e.mu.RUnlock()
			return float64(f())
		}
	}
	m := &metrics{
		ranges:   counter("etcd", "range_total", "Ranges served: Range calls and range ops of transactions."),
		puts:     counter("etcd", "put_total", "Put ops applied."),
		deletes:  counter("etcd", "delete_total", "Delete ops applied (one per op, whatever the number of keys it deleted)."),
		txns:     counter("etcd", "txn_total", "Transactions with compares or more than one op."),
		putBytes: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "etcd_debugging", Subsystem: "mvcc", Name: "total_put_size_in_bytes", Help: "Bytes of keys and values put since the engine started."}),
		events:   counter("etcd_debugging", "events_total", "Events delivered to watchers, counted once per watcher."),
		compactionPause: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "etcd_debugging", Subsystem: "mvcc", Name: "index_compaction_pause_duration_milliseconds",
			Help:    "Time each batch of a compaction held the write lock (and so held writers up), in milliseconds.",
			Buckets: prometheus.ExponentialBuckets(0.5, 2, 14),
		}),
		compactionTotal: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "etcd_debugging", Subsystem: "mvcc", Name: "db_compaction_total_duration_milliseconds",
			Help:    "Time a compaction took from the moment it was accepted until its last batch, in milliseconds.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 14),
		}),
		compactedRevisions: counter("etcd_debugging", "db_compaction_keys_total", "Revisions of keys removed from the index by compactions."),
	}
	m.collectors = []prometheus.Collector{
		m.ranges, m.puts, m.deletes, m.txns, m.putBytes, m.events,
		m.compactionPause, m.compactionTotal, m.compactedRevisions,
		gaugeFunc("etcd", "db_total_size_in_bytes",
			"Approximate memory held by the in-memory index: keys, values and per-revision bookkeeping of the retained history.",
			locked(func() int64 { return e.size })),
		gaugeFunc("etcd_debugging", "keys_total", "Keys that exist at the current revision.",
			locked(func() int64 { return e.liveKeys })),
		gaugeFunc("etcd_debugging", "current_revision", "The current revision.",
			locked(func() int64 { return e.rev })),
		gaugeFunc("etcd_debugging", "compact_revision", "The compaction revision.",
			locked(func() int64 { return e.compactRev })),
		gaugeFunc("etcd_debugging", "watcher_total", "Open watchers.",
			func() float64 { return float64(e.hub.active.Load()) }),
		gaugeFunc("etcd_debugging", "slow_watcher_total", "Watchers catching up from the index, behind the live fan-out.",
			func() float64 { return float64(e.hub.slow.Load()) }),
	}
	return m
}

// registerMetrics registers the engine's collectors on opts.Registerer, if
// any.
func (e *Engine) registerMetrics() error {
	reg := e.opts.Registerer
	if reg == nil {
		return nil
	}
	m := newMetrics(e)
	if err := reg.Register(m); err != nil {
		return fmt.Errorf("mvcc: registering metrics: %w", err)
	}
	e.metrics = m
	return nil
}

// unregisterMetrics removes the engine's collectors from the registerer
// on Close, so that a new engine can take their names.
func (e *Engine) unregisterMetrics() {
	if e.metrics != nil {
		e.opts.Registerer.Unregister(e.metrics)
	}
}
