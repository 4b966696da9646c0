package kv

import (
	"errors"
	"fmt"
)

// Sentinel errors of the KV contract. Engines wrap them, so test with
// errors.Is; [CompactedError] and [LaggingError] carry revisions that
// errors.As extracts.
var (
	// ErrCompacted: the revision asked for has been compacted away.
	ErrCompacted = errors.New("kv: required revision has been compacted")
	// ErrFutureRevision: the revision asked for is above the current one.
	ErrFutureRevision = errors.New("kv: required revision is a future revision")
	// ErrWatcherLagging: a watcher fell so far behind that the engine ended
	// its watch rather than buffer without bound or block writers.
	ErrWatcherLagging = errors.New("kv: watcher fell behind and was cancelled")
	// ErrClosed: the engine has been closed.
	ErrClosed = errors.New("kv: engine closed")
	// ErrTooManyOps: a transaction has more ops than the engine allows.
	ErrTooManyOps = errors.New("kv: too many operations in transaction")
	// ErrDuplicateKey: a transaction branch writes the same key twice.
	ErrDuplicateKey = errors.New("kv: duplicate key given in transaction")
	// ErrEmptyKey: a request names no key.
	ErrEmptyKey = errors.New("kv: key is not provided")
	// ErrInvalidRequest: a request is malformed in another way (a negative
	// revision or limit, an unknown op or compare).
	ErrInvalidRequest = errors.New("kv: invalid request")
)

// CompactedError reports a read or watch below the compaction revision.
// It matches ErrCompacted with errors.Is.
type CompactedError struct {
	// CompactRevision is the engine's compaction revision: the oldest
	// revision that can still be read. A watch can resume from
	// CompactRevision+1.
	CompactRevision int64
}

// Error describes the compaction and its revision.
func (e *CompactedError) Error() string {
	return fmt.Sprintf("%v (compact revision %d)", ErrCompacted, e.CompactRevision)
}

// Is reports whether target is ErrCompacted.
func (e *CompactedError) Is(target error) bool { return target == ErrCompacted }

// LaggingError reports a watch that the engine cancelled because its
// watcher fell behind. It matches ErrWatcherLagging with errors.Is.
type LaggingError struct {
	// ResumeRevision is the first revision that was not delivered. A new
	// watch from it misses nothing, unless it has been compacted since.
	ResumeRevision int64
}

// Error describes the cancellation and the revision to resume from.
func (e *LaggingError) Error() string {
	return fmt.Sprintf("%v (resume from revision %d)", ErrWatcherLagging, e.ResumeRevision)
}

// Is reports whether target is ErrWatcherLagging.
func (e *LaggingError) Is(target error) bool { return target == ErrWatcherLagging }
