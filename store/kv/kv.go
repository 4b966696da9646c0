// Package kv defines the revisioned key-value contract that every Governor
// storage engine implements: the in-memory MVCC engine
// ([github.com/governor-io/governor/store/mvcc]), the Raft-replicated KV
// ([github.com/governor-io/governor/raft]) and the etcd adapter.
//
// The semantics are those of etcd v3:
//
//   - One global revision grows by one with each transaction that writes.
//     A read-only transaction does not move it. Every key carries its
//     CreateRevision, ModRevision and Version (the number of writes since
//     it was created; a delete resets it to zero). A put always writes; a
//     delete that matches no key does not, so a transaction whose only ops
//     are such deletes leaves the revision where it was.
//   - [KV.Range] reads a key or a range of keys at a revision and reports the
//     revision of the snapshot it read.
//   - [KV.Txn] evaluates its compares atomically and then applies either its
//     Success or its Failure ops. Create, update and delete with
//     preconditions are built from it.
//   - [KV.Watch] delivers every change from a start revision on, in revision
//     order, with the previous value of a key on deletes (and on puts, when
//     asked). The events of one transaction always arrive together in one
//     [WatchResponse].
//   - [KV.Compact] drops the history at and below a revision; current values
//     stay. Reading below the compaction revision, or watching from it,
//     fails with [ErrCompacted].
//
// A slow watcher never blocks a writer. An engine either buffers for it or
// ends its watch with a terminal error ([ErrWatcherLagging] or another);
// a watcher never sees a silent gap. The conformance suite in
// [github.com/governor-io/governor/store/kvtest] checks every rule here,
// and every engine runs it.
package kv

import (
	"context"
)

// KV is the revisioned key-value contract. Implementations are safe for
// concurrent use.
type KV interface {
	// Range reads the keys that req selects, at req.Revision or, when it
	// is zero, at the current revision. It fails with ErrCompacted below
	// the compaction revision and with ErrFutureRevision above the current
	// one.
	Range(ctx context.Context, req RangeRequest) (*RangeResponse, error)

	// Txn applies a transaction atomically. It returns ErrTooManyOps or
	// ErrDuplicateKey for a malformed transaction, without applying it.
	Txn(ctx context.Context, req TxnRequest) (*TxnResponse, error)

	// Watch streams the changes that req selects. The channel is closed
	// when ctx is done, when the engine closes, or after a response whose
	// Err is set. Watch returns ErrCompacted at once when
	// req.StartRevision is at or below the compaction revision.
	Watch(ctx context.Context, req WatchRequest) (<-chan WatchResponse, error)

	// RequestProgress asks the engine to send a progress notification
	// (a WatchResponse with ProgressNotify set and no events) to every
	// watcher opened with ProgressNotify, once that watcher has been sent
	// every event up to the current revision.
	RequestProgress(ctx context.Context) error

	// Compact drops the history at and below rev. It fails with
	// ErrCompacted if rev is at or below the current compaction revision,
	// and with ErrFutureRevision if rev is above the current revision.
	Compact(ctx context.Context, rev int64) error

	// Close releases the engine. Calls after Close fail with ErrClosed,
	// and open watches end with ErrClosed.
	Close() error
}

// KeyValue is one key at one revision. An engine never modifies a
// KeyValue, or its Value, after returning it; callers must not modify
// them either.
type KeyValue struct {
	Key   string
	Value []byte
	// CreateRevision is the revision of the put that created the key.
	CreateRevision int64
	// ModRevision is the revision of the last put to the key.
	ModRevision int64
	// Version counts the puts since the key was created, starting at 1.
	Version int64
}

// RangeRequest selects keys to read.
type RangeRequest struct {
	// Key is the first key of the range, or the only key when End is "".
	Key string
	// End is the exclusive end of the range. "" selects Key alone;
	// [PrefixEnd] of a prefix selects every key with that prefix; "\x00"
	// selects every key >= Key.
	End string
	// Revision is the revision to read at. Zero means the current one.
	Revision int64
	// Limit caps the number of keys returned. Zero means no limit.
	Limit int64
	// CountOnly returns only the count of matching keys.
	CountOnly bool
	// KeysOnly returns keys without values.
	KeysOnly bool
	// Serializable lets an engine with replicas answer from the copy at
	// hand, without first making sure it holds every committed write
	// (etcd's serializable read): fast, but possibly stale. An engine with
	// one copy, always current, ignores it.
	Serializable bool
}

// RangeResponse is the result of a Range.
type RangeResponse struct {
	// KVs are the matching keys in ascending key order, at most Limit.
	KVs []KeyValue
	// Count is the number of keys in the range, ignoring Limit.
	Count int64
	// More reports that Limit cut the result short.
	More bool
	// Revision is the revision of the snapshot that was read.
	Revision int64
}

// CompareTarget names the field of a key that a [Compare] tests.
type CompareTarget int

// The fields a Compare can test.
const (
	CompareVersion CompareTarget = iota
	CompareCreateRevision
	CompareModRevision
	CompareValue
)

// CompareResult is the relation a [Compare] requires.
type CompareResult int

// The relations a Compare can require.
const (
	Equal CompareResult = iota
	NotEqual
	Less
	Greater
)

// Compare is one precondition of a transaction. A key that does not exist
// has Version, CreateRevision and ModRevision zero, so "Version Equal 0"
// asserts that a key is absent. A CompareValue on a key that does not
// exist never holds, whatever the Result (as in etcd, which cannot tell a
// missing value from an empty one).
type Compare struct {
	Key    string
	Target CompareTarget
	Result CompareResult
	// Int is the operand for the Version and revision targets.
	Int int64
	// Value is the operand for CompareValue.
	Value []byte
}

// OpType names the kind of an [Op].
type OpType int

// The kinds of transaction operation.
const (
	OpRange OpType = iota
	OpPut
	OpDelete
)

// Op is one operation in a transaction branch. Build them with [OpGet],
// [OpGetRange], [OpPutKV] and [OpDeleteKey] or [OpDeleteRange].
type Op struct {
	Type OpType
	// Key and End select the keys, as in RangeRequest. A put uses Key alone.
	Key string
	End string
	// Value is the value of a put. The engine does not keep the caller's
	// slice: the caller may reuse it once Txn returns.
	Value []byte
	// PrevKV asks a put or delete to return the previous value(s).
	PrevKV bool
	// Limit, CountOnly and KeysOnly shape a range, as in RangeRequest.
	// A range inside a transaction always reads the transaction's revision.
	Limit     int64
	CountOnly bool
	KeysOnly  bool
}

// TxnRequest is an atomic transaction: if every Compare holds, the Success
// ops run, otherwise the Failure ops. The ops of one branch see the writes
// of the ops before them. A branch may not put the same key twice, nor put
// a key that one of its deletes selects (ErrDuplicateKey); deletes may
// overlap, as in etcd.
type TxnRequest struct {
	Compare []Compare
	Success []Op
	Failure []Op
}

// TxnResponse is the result of a Txn.
type TxnResponse struct {
	// Succeeded reports whether every Compare held.
	Succeeded bool
	// Revision is the revision after the transaction: the new revision if
	// it wrote, the current one otherwise.
	Revision int64
	// Responses holds one result per op of the branch that ran, in order.
	Responses []OpResponse
}

// OpResponse is the result of one Op. Exactly one field is set, matching
// the Op's type.
type OpResponse struct {
	Range  *RangeResponse
	Put    *PutResponse
	Delete *DeleteResponse
}

// PutResponse is the result of a put.
type PutResponse struct {
	// PrevKV is the key's previous value, when asked for and it existed.
	PrevKV *KeyValue
}

// DeleteResponse is the result of a delete.
type DeleteResponse struct {
	// Deleted is the number of keys deleted.
	Deleted int64
	// PrevKVs are the deleted keys' last values, when asked for.
	PrevKVs []KeyValue
}

// EventType tells a put from a delete.
type EventType int

// The kinds of watch event.
const (
	EventPut EventType = iota
	EventDelete
)

// String returns "PUT" or "DELETE".
func (t EventType) String() string {
	if t == EventDelete {
		return "DELETE"
	}
	return "PUT"
}

// Event is one change to one key.
type Event struct {
	Type EventType
	// KV is the key after the change. For a delete it carries the key and
	// the deleting revision as ModRevision, with no value and zero
	// Version and CreateRevision.
	KV KeyValue
	// PrevKV is the key before the change. It is always set on deletes,
	// and on puts when the watch asked for PrevKV and the key existed.
	PrevKV *KeyValue
}

// WatchRequest selects the changes to stream.
type WatchRequest struct {
	// Key and End select the keys, as in RangeRequest.
	Key string
	End string
	// StartRevision is the first revision to deliver. Zero means the
	// revision after the current one: changes from now on.
	StartRevision int64
	// PrevKV asks for the previous value on puts too.
	PrevKV bool
	// ProgressNotify asks for progress notifications: periodically while
	// the watch is idle (how often is the engine's setting) and whenever
	// RequestProgress is called.
	ProgressNotify bool
}

// WatchResponse is one batch of events, a progress notification, or the
// terminal error of a watch.
type WatchResponse struct {
	// Events are in revision order. All events of one transaction arrive
	// in the same response.
	Events []Event
	// Revision is the engine revision that this response brings the
	// watcher up to: every change at or below it, in the watched range,
	// has now been delivered. On a progress notification it is the point
	// from which a resumed watch would start (Revision+1).
	Revision int64
	// ProgressNotify marks a progress notification, which has no events.
	ProgressNotify bool
	// Err, when set, ends the watch: the channel closes after this
	// response. It is ErrCompacted (with the compaction revision),
	// ErrWatcherLagging (with the revision to resume from), ErrClosed, or
	// another engine error.
	Err error
}

// PrefixEnd returns the End that selects every key starting with prefix.
// For an empty prefix it returns "\x00", which selects every key.
func PrefixEnd(prefix string) string {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return "\x00"
}

// InRange reports whether key lies in the range that start and end select,
// with end interpreted as in RangeRequest.End.
func InRange(key, start, end string) bool {
	switch end {
	case "":
		return key == start
	case "\x00":
		return key >= start
	default:
		return key >= start && key < end
	}
}
