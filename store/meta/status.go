package meta

import (
	"context"
	"errors"
	"net/http"
)

// Status is Kubernetes' Status object (kind "Status", apiVersion "v1") in
// its wire JSON: what an API server sends instead of an object when a call
// fails. [ToStatus] builds one from an error and [FromStatus] turns one back
// into a [*StatusError].
type Status struct {
	TypeMeta
	// Metadata is Kubernetes' ListMeta; it is always empty here but present
	// on the wire.
	Metadata StatusListMeta `json:"metadata"`
	// Status is "Success" or "Failure".
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	Reason  Reason `json:"reason,omitempty"`
	// Details identify the object concerned and the offending fields.
	Details *StatusDetails `json:"details,omitempty"`
	// Code is the HTTP status code.
	Code int32 `json:"code,omitempty"`
}

// StatusListMeta is the (usually empty) list metadata of a [Status].
type StatusListMeta struct {
	ResourceVersion string `json:"resourceVersion,omitempty"`
	Continue        string `json:"continue,omitempty"`
}

// StatusDetails is the "details" member of a [Status].
type StatusDetails struct {
	Name  string `json:"name,omitempty"`
	Group string `json:"group,omitempty"`
	// Kind holds the resource name ("pods"), as Kubernetes puts it there.
	Kind              string        `json:"kind,omitempty"`
	UID               string        `json:"uid,omitempty"`
	Causes            []StatusCause `json:"causes,omitempty"`
	RetryAfterSeconds int32         `json:"retryAfterSeconds,omitempty"`
}

// StatusCause is one entry of [StatusDetails.Causes]: a [Cause] on the wire.
type StatusCause struct {
	Type    string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	Field   string `json:"field,omitempty"`
}

// The values of [Status.Status].
const (
	StatusSuccess = "Success"
	StatusFailure = "Failure"
)

// Status returns the wire form of e.
func (e *StatusError) Status() Status {
	st := Status{
		TypeMeta: TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   StatusFailure,
		Message:  e.Message,
		Reason:   e.Reason,
		Code:     int32(e.Code()),
	}
	if st.Message == "" {
		st.Message = string(e.Reason)
	}
	if e.Resource != "" || e.Name != "" || len(e.Causes) > 0 || e.RetryAfterSeconds > 0 {
		d := &StatusDetails{Name: e.Name, Kind: e.Resource, RetryAfterSeconds: e.RetryAfterSeconds}
		for _, c := range e.Causes {
			d.Causes = append(d.Causes, StatusCause{Type: c.Type, Message: c.Message, Field: c.Field})
		}
		st.Details = d
	}
	return st
}

// ToStatus returns the wire form of err, so that every error becomes a
// Failure Status with a reason and a code: the Status of a [*StatusError]
// found with errors.As, a Timeout for a context's deadline or cancellation,
// and an InternalError for anything else. (The store package's ToStatus
// also maps the errors of a KV engine.)
func ToStatus(err error) Status {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status()
	}
	e := &StatusError{Reason: ReasonInternalError, Message: "internal error", Err: err}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		e.Reason, e.Message = ReasonTimeout, "timeout: "+err.Error()
	case errors.Is(err, context.Canceled):
		e.Reason, e.Message = ReasonTimeout, "request canceled: "+err.Error()
	case err != nil:
		e.Message = "internal error: " + err.Error()
	}
	return e.Status()
}

// FromStatus turns a Status received from an API server back into a
// [*StatusError] that errors.Is matches against the sentinels. A Status
// without a known reason gets one from its HTTP code, as Kubernetes'
// clients do; a Success Status yields nil.
func FromStatus(st Status) *StatusError {
	if st.Status == StatusSuccess {
		return nil
	}
	reason := st.Reason
	if !knownReason(reason) {
		reason = reasonForCode(int(st.Code))
	}
	e := &StatusError{Reason: reason, Message: st.Message}
	if d := st.Details; d != nil {
		e.Name = d.Name
		e.Resource = d.Kind
		e.RetryAfterSeconds = d.RetryAfterSeconds
		for _, c := range d.Causes {
			e.Causes = append(e.Causes, Cause{Type: c.Type, Message: c.Message, Field: c.Field})
		}
	}
	return e
}

var allReasons = []Reason{
	ReasonNotFound, ReasonAlreadyExists, ReasonConflict, ReasonExpired, ReasonInvalid,
	ReasonForbidden, ReasonUnauthorized, ReasonTimeout, ReasonTooManyRequests,
	ReasonBadRequest, ReasonInternalError, ReasonServiceUnavailable,
}

func knownReason(r Reason) bool {
	for _, k := range allReasons {
		if k == r {
			return true
		}
	}
	return false
}

// reasonForCode picks the reason of a Status that names none. 409 is
// ambiguous; Kubernetes' clients read it as Conflict.
func reasonForCode(code int) Reason {
	switch code {
	case http.StatusNotFound:
		return ReasonNotFound
	case http.StatusConflict:
		return ReasonConflict
	case http.StatusGone:
		return ReasonExpired
	case http.StatusUnprocessableEntity:
		return ReasonInvalid
	case http.StatusForbidden:
		return ReasonForbidden
	case http.StatusUnauthorized:
		return ReasonUnauthorized
	case http.StatusGatewayTimeout:
		return ReasonTimeout
	case http.StatusTooManyRequests:
		return ReasonTooManyRequests
	case http.StatusBadRequest:
		return ReasonBadRequest
	case http.StatusServiceUnavailable:
		return ReasonServiceUnavailable
	default:
		return ReasonInternalError
	}
}
