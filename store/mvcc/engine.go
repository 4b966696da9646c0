package mvcc

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/btree"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/store/kv"
)

// Defaults for the zero [Options].
const (
	DefaultMaxTxnOps        = 128
	DefaultWatchBufferSize  = 128
	DefaultWatchWindow      = 4096
	DefaultProgressInterval = 10 * time.Minute
)

// Options configure an [Engine]. The zero value gives sensible defaults:
// the wall clock, no automatic compaction, and the Default* limits.
type Options struct {
	// Clock drives periodic progress notifications and compaction by age.
	// Nil means [clock.Real].
	Clock clock.Clock
	// Logger receives the engine's rare log lines (automatic compactions).
	// Nil discards them.
	Logger *slog.Logger

	// MaxTxnOps caps the compares and the ops of each branch of a
	// transaction; a larger one fails with [kv.ErrTooManyOps]. Zero means
	// [DefaultMaxTxnOps].
	MaxTxnOps int

	// WatchBufferSize is the number of responses buffered for each watcher
	// (the capacity of its channel). A watcher whose buffer is full when
	// new events arrive is ended with a [kv.LaggingError]. Zero means
	// [DefaultWatchBufferSize]; the minimum is 2.
	WatchBufferSize int
	// WatchWindow is the number of most recent revisions whose events the
	// engine keeps ready for fan-out. A watcher further behind than that
	// catches up from the index instead, in its own goroutine. Zero means
	// [DefaultWatchWindow].
	WatchWindow int
	// ProgressInterval is how often an idle watcher opened with
	// ProgressNotify gets a progress notification. Zero means
	// [DefaultProgressInterval]; a negative value turns periodic
	// notifications off ([Engine.RequestProgress] still works).
	ProgressInterval time.Duration

	// AutoCompactRevisions, when positive, keeps about this many revisions
	// of history: once the history grows 10% past it, the engine compacts
	// to Revision()-AutoCompactRevisions. Zero turns it off.
	AutoCompactRevisions int64
	// AutoCompactAge, when positive, compacts away the revisions written
	// more than this long ago, checked every AutoCompactAge/10 of Clock
	// time. Zero turns it off.
	AutoCompactAge time.Duration
	// CompactionBatchLimit is the number of keys that a compaction visits
	// in one batch, holding the write lock; it releases the lock between
	// batches. Zero means [DefaultCompactionBatchLimit].
	CompactionBatchLimit int

	// Metrics, when set, receives the engine's metrics; the package
	// prommetrics reports them to Prometheus with etcd's names:
	// etcd_mvcc_put_total, etcd_mvcc_delete_total, etcd_mvcc_range_total,
	// etcd_mvcc_txn_total, etcd_mvcc_db_total_size_in_bytes (here the
	// approximate memory of the index: keys, values and per-revision
	// bookkeeping), etcd_debugging_mvcc_keys_total, _current_revision,
	// _compact_revision, _total_put_size_in_bytes, _watcher_total,
	// _slow_watcher_total, _events_total,
	// _index_compaction_pause_duration_milliseconds (the time each batch of
	// a compaction held the write lock),
	// _db_compaction_total_duration_milliseconds and
	// _db_compaction_keys_total (the revisions compactions removed).
	// [Engine.Close] unregisters them. Nil means no metrics, at no cost.
	Metrics MetricsProvider

	// ageChecked, when set (by tests), is called after each age check.
	ageChecked func()
	// compactionBatched, when set (by tests), is called after each batch
	// of a compaction, with the write lock released.
	compactionBatched func()
}

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxTxnOps <= 0 {
		o.MaxTxnOps = DefaultMaxTxnOps
	}
	if o.WatchBufferSize == 0 {
		o.WatchBufferSize = DefaultWatchBufferSize
	}
	if o.WatchBufferSize < 2 {
		o.WatchBufferSize = 2
	}
	if o.WatchWindow <= 0 {
		o.WatchWindow = DefaultWatchWindow
	}
	if o.ProgressInterval == 0 {
		o.ProgressInterval = DefaultProgressInterval
	}
	if o.CompactionBatchLimit <= 0 {
		o.CompactionBatchLimit = DefaultCompactionBatchLimit
	}
	return o
}

// Engine is the in-memory MVCC implementation of [kv.KV]. Create it with
// [New]; it is safe for concurrent use. Close it to stop its goroutines.
type Engine struct {
	opts Options

	mu         sync.RWMutex
	tree       *btree.BTreeG[*keyIndex]
	rev        int64
	compactRev int64
	closed     bool
	pivot      keyIndex // scratch search item; used only under mu.Lock
	size       int64    // approximate bytes held by the index (see keyIndex.size)
	liveKeys   int64    // keys that exist at rev

	// walk is the pending removal of the history below compactRev, nil
	// when there is none; compactorRunning is set while a background
	// goroutine works on it.
	walk             *compactWalk
	compactorRunning bool

	metrics *metrics // nil without Options.Metrics

	hub hub

	done chan struct{} // closed by Close
	bg   sync.WaitGroup
}

var _ kv.KV = (*Engine)(nil)

// New returns an empty Engine at revision 0. If Options.Metrics is set
// and refuses the engine's metrics (say, because another engine's are
// registered there), New logs the error and the engine runs without them;
// use [Open] to get that error instead.
func New(opts Options) *Engine {
	e := newEngine(opts)
	if err := e.registerMetrics(); err != nil {
		e.opts.Logger.Error("mvcc: engine runs without metrics", "err", err)
	}
	e.start()
	return e
}

// Open is [New] that fails, rather than run without metrics, when
// Options.Metrics refuses the engine's metrics. The error wraps the
// provider's (prommetrics's wraps the registerer's, such as a
// prometheus.AlreadyRegisteredError).
func Open(opts Options) (*Engine, error) {
	e := newEngine(opts)
	if err := e.registerMetrics(); err != nil {
		return nil, err
	}
	e.start()
	return e, nil
}

func newEngine(opts Options) *Engine {
	e := &Engine{
		opts: opts.withDefaults(),
		tree: newTree(),
		done: make(chan struct{}),
	}
	e.hub.init(e)
	return e
}

// start starts the engine's background goroutines.
func (e *Engine) start() {
	if e.opts.AutoCompactAge > 0 {
		e.bg.Add(1)
		go e.ageCompactor()
	}
}

func newTree() *btree.BTreeG[*keyIndex] { return btree.NewG(32, lessKeyIndex) }

// Revision returns the current revision.
func (e *Engine) Revision() int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.rev
}

// CompactRevision returns the compaction revision: the oldest revision that
// can still be read. It is zero until the first compaction.
func (e *Engine) CompactRevision() int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.compactRev
}

// Range implements [kv.KV.Range].
func (e *Engine) Range(ctx context.Context, req kv.RangeRequest) (*kv.RangeResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if req.Key == "" {
		return nil, fmt.Errorf("mvcc: range: %w", kv.ErrEmptyKey)
	}
	if req.Revision < 0 || req.Limit < 0 {
		return nil, fmt.Errorf("mvcc: range: negative revision or limit: %w", kv.ErrInvalidRequest)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, kv.ErrClosed
	}
	rev := req.Revision
	switch {
	case rev == 0:
		rev = e.rev
	case rev < e.compactRev:
		return nil, &kv.CompactedError{CompactRevision: e.compactRev}
	case rev > e.rev:
		return nil, fmt.Errorf("mvcc: range at revision %d, current is %d: %w", rev, e.rev, kv.ErrFutureRevision)
	}
	resp := e.rangeLocked(req.Key, req.End, rev, req.Limit, req.CountOnly, req.KeysOnly)
	resp.Revision = rev
	if e.metrics != nil {
		e.metrics.ranges.Inc()
	}
	return resp, nil
}

// ascend calls f for each key index in the range that key and end select,
// in key order, until f returns false.
func (e *Engine) ascend(key, end string, f func(*keyIndex) bool) {
	switch end {
	case "":
		if ki, ok := e.tree.Get(&keyIndex{key: key}); ok {
			f(ki)
		}
	case "\x00":
		e.tree.AscendGreaterOrEqual(&keyIndex{key: key}, f)
	default:
		if end <= key {
			return
		}
		e.tree.AscendRange(&keyIndex{key: key}, &keyIndex{key: end}, f)
	}
}

// rangeLocked reads at rev. The caller holds mu and has checked rev.
func (e *Engine) rangeLocked(key, end string, rev, limit int64, countOnly, keysOnly bool) *kv.RangeResponse {
	resp := &kv.RangeResponse{}
	if end == "" {
		if ki, ok := e.tree.Get(&keyIndex{key: key}); ok {
			if ent := ki.at(rev); ent != nil {
				resp.Count = 1
				if !countOnly {
					resp.KVs = []kv.KeyValue{ki.keyValue(ent, keysOnly)}
				}
			}
		}
		return resp
	}
	// Count first, so that the result is allocated once, at its size.
	e.ascend(key, end, func(ki *keyIndex) bool {
		if ki.at(rev) != nil {
			resp.Count++
		}
		return true
	})
	resp.More = limit > 0 && resp.Count > limit
	n := resp.Count
	if limit > 0 {
		n = min(n, limit)
	}
	if countOnly || n == 0 {
		return resp
	}
	resp.KVs = make([]kv.KeyValue, 0, n)
	// The first n keys live at rev from key on are all in the range, so
	// the second pass needs no comparison with end.
	e.tree.AscendGreaterOrEqual(&keyIndex{key: key}, func(ki *keyIndex) bool {
		if ent := ki.at(rev); ent != nil {
			resp.KVs = append(resp.KVs, ki.keyValue(ent, keysOnly))
		}
		return int64(len(resp.KVs)) < n
	})
	return resp
}

// Close implements [kv.KV.Close]. It ends every open watch with
// [kv.ErrClosed] and waits for the engine's goroutines. A second Close
// returns kv.ErrClosed.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return kv.ErrClosed
	}
	e.closed = true
	close(e.done)
	e.mu.Unlock()
	e.bg.Wait()
	e.unregisterMetrics()
	return nil
}

// compareHolds evaluates c against the current state. The caller holds mu.
func (e *Engine) compareHolds(c *kv.Compare) bool {
	var ent *entry
	e.pivot.key = c.Key
	if ki, ok := e.tree.Get(&e.pivot); ok {
		ent = ki.latest()
	}
	var cmp int
	if c.Target == kv.CompareValue {
		if ent == nil {
			// As in etcd: a value compare on a missing key always fails.
			return false
		}
		cmp = bytes.Compare(ent.value, c.Value)
	} else {
		var v int64
		if ent != nil {
			switch c.Target {
			case kv.CompareVersion:
				v = ent.version
			case kv.CompareCreateRevision:
				v = ent.createRev
			case kv.CompareModRevision:
				v = ent.modRev
			}
		}
		switch {
		case v < c.Int:
			cmp = -1
		case v > c.Int:
			cmp = 1
		}
	}
	switch c.Result {
	case kv.Equal:
		return cmp == 0
	case kv.NotEqual:
		return cmp != 0
	case kv.Less:
		return cmp < 0
	default: // kv.Greater; validated
		return cmp > 0
	}
}
