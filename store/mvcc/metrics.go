package mvcc

import (
	"fmt"
	"unsafe"
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

// MetricsProvider receives the engine's metrics. The package prommetrics
// implements it with Prometheus, under the names etcd gives the metrics of
// its own MVCC store. An engine without a provider keeps no metrics and
// pays nothing for them: every update is behind one nil check.
type MetricsProvider interface {
	// Register is called once, by [New] or [Open], with the engine's
	// gauges, which the provider reads when it reports. It returns the
	// instruments the engine updates as it works (a nil one is not
	// updated). An error makes Open fail and New run without metrics.
	Register(g Gauges) (Metrics, error)
	// Unregister is called by [Engine.Close], so that a new engine can
	// take the names.
	Unregister()
}

// Gauges read the engine's state. Each takes the engine's read lock (or
// an atomic load), so a provider calls them when it reports, not in a loop.
type Gauges struct {
	// DBSizeBytes is the approximate memory held by the index: keys,
	// values and per-revision bookkeeping of the retained history
	// (etcd_mvcc_db_total_size_in_bytes).
	DBSizeBytes func() float64
	// Keys counts the keys that exist at the current revision.
	Keys func() float64
	// CurrentRevision and CompactRevision are the engine's revisions.
	CurrentRevision, CompactRevision func() float64
	// Watchers counts the open watchers; SlowWatchers those catching up
	// from the index, behind the live fan-out.
	Watchers, SlowWatchers func() float64
}

// Metrics are the instruments the engine updates.
type Metrics struct {
	// Ranges counts Range calls and range ops of transactions; Puts and
	// Deletes the ops applied (one per delete op, whatever the number of
	// keys it deleted); Txns the transactions with compares or more than
	// one op.
	Ranges, Puts, Deletes, Txns Counter
	// PutBytes counts the bytes of keys and values put.
	PutBytes Counter
	// Events counts the events delivered to watchers, once per watcher.
	Events Counter
	// CompactionPause observes, in milliseconds, how long each batch of a
	// compaction held the write lock; CompactionTotal how long a
	// compaction took from the moment it was accepted until its last
	// batch.
	CompactionPause, CompactionTotal Histogram
	// CompactedRevisions counts the revisions of keys that compactions
	// removed from the index.
	CompactedRevisions Counter
}

// Counter is a value that only goes up.
type Counter interface {
	// Inc adds one.
	Inc()
	// Add adds v, which is not negative.
	Add(v float64)
}

// Histogram records observations.
type Histogram interface {
	// Observe records one observation.
	Observe(v float64)
}

// noop is the instrument a provider left nil.
type noop struct{}

func (noop) Inc()            {}
func (noop) Add(float64)     {}
func (noop) Observe(float64) {}

// metrics are the instruments of an engine whose Options.Metrics is set.
type metrics struct {
	puts, deletes, ranges, txns Counter
	putBytes                    Counter
	events                      Counter
	compactionPause             Histogram
	compactionTotal             Histogram
	compactedRevisions          Counter
}

// registerMetrics registers the engine's gauges with Options.Metrics, if
// any, and keeps the instruments it returns.
func (e *Engine) registerMetrics() error {
	p := e.opts.Metrics
	if p == nil {
		return nil
	}
	locked := func(f func() int64) func() float64 {
		return func() float64 {
			e.mu.RLock()
			defer e.mu.RUnlock()
			return float64(f())
		}
	}
	m, err := p.Register(Gauges{
		DBSizeBytes:     locked(func() int64 { return e.size }),
		Keys:            locked(func() int64 { return e.liveKeys }),
		CurrentRevision: locked(func() int64 { return e.rev }),
		CompactRevision: locked(func() int64 { return e.compactRev }),
		Watchers:        func() float64 { return float64(e.hub.active.Load()) },
		SlowWatchers:    func() float64 { return float64(e.hub.slow.Load()) },
	})
	if err != nil {
		return fmt.Errorf("mvcc: registering metrics: %w", err)
	}
	c := func(c Counter) Counter {
		if c == nil {
			return noop{}
		}
		return c
	}
	h := func(h Histogram) Histogram {
		if h == nil {
			return noop{}
		}
		return h
	}
	e.metrics = &metrics{
		puts: c(m.Puts), deletes: c(m.Deletes), ranges: c(m.Ranges), txns: c(m.Txns),
		putBytes: c(m.PutBytes), events: c(m.Events), compactedRevisions: c(m.CompactedRevisions),
		compactionPause: h(m.CompactionPause), compactionTotal: h(m.CompactionTotal),
	}
	return nil
}

// unregisterMetrics tells the provider the engine is closed.
func (e *Engine) unregisterMetrics() {
	if e.metrics != nil {
		e.opts.Metrics.Unregister()
	}
}
