package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
)

// FromKVError maps an error from a [kv.KV] engine, or from a context, to a
// [*meta.StatusError] about the named object (resource and name may be empty).
// The original error stays reachable with errors.Is:
//
//   - kv.ErrCompacted becomes Expired (HTTP 410);
//   - kv.ErrFutureRevision becomes Timeout with a ResourceVersionTooLarge
//     cause, as Kubernetes answers a resourceVersion it has not reached;
//   - context.DeadlineExceeded and context.Canceled become Timeout;
//   - kv.ErrClosed becomes ServiceUnavailable;
//   - kv.ErrInvalidRequest, kv.ErrEmptyKey, kv.ErrTooManyOps and
//     kv.ErrDuplicateKey become BadRequest;
//   - a *StatusError is returned as it is, and nil as nil;
//   - anything else becomes InternalError.
func FromKVError(err error, resource, name string) *meta.StatusError {
	if err == nil {
		return nil
	}
	var se *meta.StatusError
	if errors.As(err, &se) {
		return se
	}
	e := &meta.StatusError{Resource: resource, Name: name, Err: err}
	switch {
	case errors.Is(err, kv.ErrCompacted):
		e.Reason = meta.ReasonExpired
		e.Message = "too old resource version: " + err.Error()
		var ce *kv.CompactedError
		if errors.As(err, &ce) {
			e.Message = fmt.Sprintf("too old resource version: the oldest available is %d", ce.CompactRevision)
		}
	case errors.Is(err, kv.ErrFutureRevision):
		e.Reason = meta.ReasonTimeout
		e.Message = "too large resource version"
		e.RetryAfterSeconds = 1
		e.Causes = []meta.Cause{{Type: meta.CauseTypeResourceVersionTooLarge, Message: "too large resource version"}}
	case errors.Is(err, context.DeadlineExceeded):
		e.Reason = meta.ReasonTimeout
		e.Message = "timeout: " + err.Error()
	case errors.Is(err, context.Canceled):
		e.Reason = meta.ReasonTimeout
		e.Message = "request canceled: " + err.Error()
	case errors.Is(err, kv.ErrClosed):
		e.Reason = meta.ReasonServiceUnavailable
		e.Message = "storage unavailable: " + err.Error()
	case errors.Is(err, kv.ErrInvalidRequest), errors.Is(err, kv.ErrEmptyKey),
		errors.Is(err, kv.ErrTooManyOps), errors.Is(err, kv.ErrDuplicateKey):
		e.Reason = meta.ReasonBadRequest
		e.Message = err.Error()
	default:
		e.Reason = meta.ReasonInternalError
		e.Message = "internal error: " + err.Error()
	}
	return e
}

// ToStatus returns the wire form of err, as [meta.ToStatus] does, after
// mapping the errors of a KV engine with [FromKVError]: a compacted
// revision is Expired (410), a closed engine ServiceUnavailable, and so on.
func ToStatus(err error) meta.Status {
	if se := FromKVError(err, "", ""); se != nil {
		return se.Status()
	}
	return meta.ToStatus(err)
}
