// Package prommetrics reports the metrics of a
// [github.com/governor-io/governor/store/mvcc] engine to Prometheus, under
// the names etcd gives the metrics of its own MVCC store:
// etcd_mvcc_put_total, etcd_mvcc_delete_total, etcd_mvcc_range_total,
// etcd_mvcc_txn_total, etcd_mvcc_db_total_size_in_bytes,
// etcd_debugging_mvcc_keys_total, _current_revision, _compact_revision,
// _total_put_size_in_bytes, _watcher_total, _slow_watcher_total,
// _events_total, _index_compaction_pause_duration_milliseconds,
// _db_compaction_total_duration_milliseconds and _db_compaction_keys_total.
//
// A [Provider] serves one engine at a time (the names carry no label): it
// registers when the engine opens and unregisters when it closes.
package prommetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/governor-io/governor/store/mvcc"
)

// Provider is an [mvcc.MetricsProvider] that registers the engine's
// metrics on a Prometheus registerer.
type Provider struct {
	reg prometheus.Registerer
	c   *collector
}

var _ mvcc.MetricsProvider = (*Provider)(nil)

// New returns a Provider that registers on reg when an engine opens with
// it.
func New(reg prometheus.Registerer) *Provider { return &Provider{reg: reg} }

// Register makes the engine's metrics and registers them, as one
// collector. It returns the registerer's error, such as a
// [prometheus.AlreadyRegisteredError] when another engine's are there.
func (p *Provider) Register(g mvcc.Gauges) (mvcc.Metrics, error) {
	c := newCollector(g)
	if err := p.reg.Register(c); err != nil {
		return mvcc.Metrics{}, err
	}
	p.c = c
	return mvcc.Metrics{
		Ranges: c.ranges, Puts: c.puts, Deletes: c.deletes, Txns: c.txns,
		PutBytes: c.putBytes, Events: c.events,
		CompactionPause: c.compactionPause, CompactionTotal: c.compactionTotal,
		CompactedRevisions: c.compactedRevisions,
	}, nil
}

// Unregister removes the engine's metrics from the registerer.
func (p *Provider) Unregister() {
	if p.c != nil {
		p.reg.Unregister(p.c)
		p.c = nil
	}
}

// collector holds one engine's metrics.
type collector struct {
	puts, deletes, ranges, txns prometheus.Counter
	putBytes                    prometheus.Gauge
	events                      prometheus.Counter
	compactionPause             prometheus.Histogram
	compactionTotal             prometheus.Histogram
	compactedRevisions          prometheus.Counter
	all                         []prometheus.Collector
}

func newCollector(g mvcc.Gauges) *collector {
	counter := func(ns, name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: "mvcc", Name: name, Help: help})
	}
	gaugeFunc := func(ns, name, help string, f func() float64) prometheus.GaugeFunc {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: "mvcc", Name: name, Help: help}, f)
	}
	c := &collector{
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
	c.all = []prometheus.Collector{
		c.ranges, c.puts, c.deletes, c.txns, c.putBytes, c.events,
		c.compactionPause, c.compactionTotal, c.compactedRevisions,
		gaugeFunc("etcd", "db_total_size_in_bytes",
			"Approximate memory held by the in-memory index: keys, values and per-revision bookkeeping of the retained history.",
			g.DBSizeBytes),
		gaugeFunc("etcd_debugging", "keys_total", "Keys that exist at the current revision.", g.Keys),
		gaugeFunc("etcd_debugging", "current_revision", "The current revision.", g.CurrentRevision),
		gaugeFunc("etcd_debugging", "compact_revision", "The compaction revision.", g.CompactRevision),
		gaugeFunc("etcd_debugging", "watcher_total", "Open watchers.", g.Watchers),
		gaugeFunc("etcd_debugging", "slow_watcher_total", "Watchers catching up from the index, behind the live fan-out.", g.SlowWatchers),
	}
	return c
}

// Describe implements [prometheus.Collector].
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.all {
		m.Describe(ch)
	}
}

// Collect implements [prometheus.Collector].
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.all {
		m.Collect(ch)
	}
}
