// Package mvcc is Governor's in-memory multi-version storage engine: the
// embedded default implementation of [kv.KV], and the state machine of the
// Raft KV.
//
// An [Engine] keeps, in a B-tree ordered by key, every retained revision of
// every key. The revisions of a key sit in one slice (a put, or a tombstone
// that ends a generation), so history costs no heap object per revision
// beyond the value itself, and values are shared with readers, never
// copied after the put that stored them. Range reads any revision at or
// above the compaction revision.
//
// # Transactions
//
// [Engine.Txn] validates a transaction completely before applying it, then
// applies the ops of one branch in order at the next revision; a later op
// sees the writes of earlier ones. Txn and [Engine.Compact] are
// deterministic: two engines given the same sequence of calls hold the
// same state at the same revisions, which is what a replicated state
// machine needs.
//
// # History
//
// History is kept until [Engine.Compact] drops it. Compact(rev) keeps the
// state as of rev readable; reads below rev fail with a
// [kv.CompactedError], and so do watches that start at or below it.
// A compaction takes effect at once, in O(1) under the write lock; the
// history it hides is then removed in batches of
// Options.CompactionBatchLimit keys, with the lock released between
// batches, so that writers are never held up for long however large the
// index. Automatic compaction, by revision count or by age, is off unless
// [Options] turn it on; it too removes history in batches, in the
// background, never inside the write that triggers it.
//
// # Watch
//
// Writers publish the events of each transaction into a bounded ring and
// never wait for watchers. One dispatcher goroutine fans the events out,
// filtering once per group of identical watches and sending without
// blocking into each watcher's bounded channel. A watcher whose channel is
// full is ended with a [kv.LaggingError] naming the revision to resume
// from: it never sees a gap, and the events of one transaction always
// arrive in one response. A watch that starts in the past replays the
// history from the index in its own goroutine, then joins the live
// fan-out.
//
// # Metrics
//
// With Options.Metrics set, the engine reports its metrics to that
// [MetricsProvider]. The package
// [github.com/governor-io/governor/store/mvcc/prommetrics] exports them to
// Prometheus under the names etcd gives those of its own MVCC store
// (etcd_mvcc_put_total, etcd_mvcc_db_total_size_in_bytes,
// etcd_debugging_mvcc_watcher_total and the rest listed at [Options]);
// db_total_size_in_bytes is the approximate memory of the index, since
// there is no database file. Without a provider the engine keeps no
// metrics at all, and this package does not import Prometheus.
//
// # Snapshots
//
// [Engine.Snapshot] writes the whole state, history included, in a
// versioned and checksummed format; [Engine.Restore] loads it back and
// rejects damaged input with [ErrBadSnapshot]. [Engine.View] takes a
// point-in-time view that writes the same snapshot later, from another
// goroutine, while the engine goes on with writes and compactions: writers
// wait only while the view is taken (one pass over the keys, no values
// copied).
package mvcc
