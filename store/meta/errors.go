package meta

import (
	"errors"
	"fmt"
	"net/http"
)

// Reason is the machine-readable cause of a failed Store call. Each Reason
// maps to one Kubernetes Status reason and one HTTP status code.
type Reason string

// The reasons a Store call can fail with. The strings are Kubernetes'
// StatusReason values.
const (
	ReasonNotFound        Reason = "NotFound"
	ReasonAlreadyExists   Reason = "AlreadyExists"
	ReasonConflict        Reason = "Conflict"
	ReasonExpired         Reason = "Expired"
	ReasonInvalid         Reason = "Invalid"
	ReasonForbidden       Reason = "Forbidden"
	ReasonUnauthorized    Reason = "Unauthorized"
	ReasonTimeout         Reason = "Timeout"
	ReasonTooManyRequests Reason = "TooManyRequests"
	ReasonBadRequest      Reason = "BadRequest"
	ReasonInternalError   Reason = "InternalError"
	// ReasonServiceUnavailable reports a store whose engine is closed or
	// otherwise unable to serve.
	ReasonServiceUnavailable Reason = "ServiceUnavailable"
)

// Code returns the HTTP status code that Kubernetes' API server uses for r.
func (r Reason) Code() int {
	switch r {
	case ReasonNotFound:
		return http.StatusNotFound
	case ReasonAlreadyExists, ReasonConflict:
		return http.StatusConflict
	case ReasonExpired:
		return http.StatusGone
	case ReasonInvalid:
		return http.StatusUnprocessableEntity
	case ReasonForbidden:
		return http.StatusForbidden
	case ReasonUnauthorized:
		return http.StatusUnauthorized
	case ReasonTimeout:
		return http.StatusGatewayTimeout
	case ReasonTooManyRequests:
		return http.StatusTooManyRequests
	case ReasonBadRequest:
		return http.StatusBadRequest
	case ReasonServiceUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// Sentinels to test a Store error against with errors.Is. Any *StatusError
// with the same Reason matches.
var (
	ErrNotFound        = &StatusError{Reason: ReasonNotFound}
	ErrAlreadyExists   = &StatusError{Reason: ReasonAlreadyExists}
	ErrConflict        = &StatusError{Reason: ReasonConflict}
	ErrExpired         = &StatusError{Reason: ReasonExpired}
	ErrInvalid         = &StatusError{Reason: ReasonInvalid}
	ErrForbidden       = &StatusError{Reason: ReasonForbidden}
	ErrUnauthorized    = &StatusError{Reason: ReasonUnauthorized}
	ErrTimeout         = &StatusError{Reason: ReasonTimeout}
	ErrTooManyRequests = &StatusError{Reason: ReasonTooManyRequests}
	ErrBadRequest      = &StatusError{Reason: ReasonBadRequest}
	ErrInternal        = &StatusError{Reason: ReasonInternalError}
	// ErrServiceUnavailable matches errors of a closed or failing engine.
	ErrServiceUnavailable = &StatusError{Reason: ReasonServiceUnavailable}
)

// StatusError is the error type of every failed Store call. It carries what
// a Kubernetes Status object carries, so that the API server can send it on
// the wire unchanged.
type StatusError struct {
	Reason  Reason
	Message string
	// Resource and Name identify the object concerned, when there is one.
	Resource string
	Name     string
	// Causes list the offending fields of an Invalid object.
	Causes []Cause
	// Err is the underlying error, if any (a KV error, say).
	Err error
	// RetryAfterSeconds, when positive, tells a client how long to wait
	// before trying again (Timeout, TooManyRequests, ServiceUnavailable).
	RetryAfterSeconds int32
}

// Cause names one field that made an object Invalid.
type Cause struct {
	// Field is the JSON path of the field, such as "spec.replicas".
	Field   string
	Message string
	// Type is the machine-readable kind of the cause, such as
	// "FieldValueInvalid" or "FieldValueRequired" (Kubernetes'
	// CauseType values). It is the "reason" of a cause on the wire.
	Type string
}

// The cause types that the Store uses, as in Kubernetes.
const (
	CauseTypeFieldValueRequired      = "FieldValueRequired"
	CauseTypeFieldValueInvalid       = "FieldValueInvalid"
	CauseTypeFieldValueNotSupported  = "FieldValueNotSupported"
	CauseTypeFieldValueForbidden     = "FieldValueForbidden"
	CauseTypeFieldValueTooLong       = "FieldValueTooLong"
	CauseTypeResourceVersionTooLarge = "ResourceVersionTooLarge"
)

// Error returns the message, prefixed with the reason.
func (e *StatusError) Error() string {
	if e.Message == "" {
		return "store: " + string(e.Reason)
	}
	return "store: " + e.Message
}

// Code returns the HTTP status code for the error's reason.
func (e *StatusError) Code() int { return e.Reason.Code() }

// Is reports whether target is a *StatusError with the same Reason, so that
// errors.Is(err, ErrNotFound) holds for every NotFound error.
func (e *StatusError) Is(target error) bool {
	t, ok := target.(*StatusError)
	return ok && t.Reason == e.Reason
}

// Unwrap returns the underlying error.
func (e *StatusError) Unwrap() error { return e.Err }

// ReasonOf returns the Reason of err, or "" when err is nil, or
// ReasonInternalError when err is not a Store error.
func ReasonOf(err error) Reason {
	if err == nil {
		return ""
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Reason
	}
	return ReasonInternalError
}

// NewNotFound returns a NotFound error for the named object.
func NewNotFound(resource, name string) *StatusError {
	return &StatusError{Reason: ReasonNotFound, Resource: resource, Name: name,
		Message: fmt.Sprintf("%s %q not found", resource, name)}
}

// NewAlreadyExists returns an AlreadyExists error for the named object.
func NewAlreadyExists(resource, name string) *StatusError {
	return &StatusError{Reason: ReasonAlreadyExists, Resource: resource, Name: name,
		Message: fmt.Sprintf("%s %q already exists", resource, name)}
}

// NewConflict returns a Conflict error for the named object.
func NewConflict(resource, name, detail string) *StatusError {
	return &StatusError{Reason: ReasonConflict, Resource: resource, Name: name,
		Message: fmt.Sprintf("operation cannot be fulfilled on %s %q: %s", resource, name, detail)}
}

// NewExpired returns an Expired error: the resourceVersion asked for is
// older than the oldest the store still has.
func NewExpired(message string) *StatusError {
	return &StatusError{Reason: ReasonExpired, Message: message}
}

// NewInvalid returns an Invalid error for the named object, listing the
// offending fields.
func NewInvalid(resource, name string, causes ...Cause) *StatusError {
	msg := fmt.Sprintf("%s %q is invalid", resource, name)
	for i, c := range causes {
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		msg += sep + c.Field + ": " + c.Message
	}
	return &StatusError{Reason: ReasonInvalid, Resource: resource, Name: name, Causes: causes, Message: msg}
}

// NewBadRequest returns a BadRequest error with the given message.
func NewBadRequest(message string) *StatusError {
	return &StatusError{Reason: ReasonBadRequest, Message: message}
}

// NewForbidden returns a Forbidden error: the caller may not do this to the
// named object.
func NewForbidden(resource, name, reason string) *StatusError {
	return &StatusError{Reason: ReasonForbidden, Resource: resource, Name: name,
		Message: fmt.Sprintf("%s %q is forbidden: %s", resource, name, reason)}
}

// NewUnauthorized returns an Unauthorized error: the caller is not
// authenticated.
func NewUnauthorized(message string) *StatusError {
	if message == "" {
		message = "Unauthorized"
	}
	return &StatusError{Reason: ReasonUnauthorized, Message: message}
}

// NewTimeout returns a Timeout error. retryAfterSeconds, when positive, is
// passed on to the client.
func NewTimeout(message string, retryAfterSeconds int32) *StatusError {
	return &StatusError{Reason: ReasonTimeout, Message: message, RetryAfterSeconds: retryAfterSeconds}
}

// NewTooManyRequests returns a TooManyRequests error asking the client to
// retry after retryAfterSeconds.
func NewTooManyRequests(message string, retryAfterSeconds int32) *StatusError {
	return &StatusError{Reason: ReasonTooManyRequests, Message: message, RetryAfterSeconds: retryAfterSeconds}
}

// NewInternalError returns an InternalError that wraps err.
func NewInternalError(err error) *StatusError {
	msg := "internal error"
	if err != nil {
		msg = "internal error: " + err.Error()
	}
	return &StatusError{Reason: ReasonInternalError, Message: msg, Err: err}
}

// NewServiceUnavailable returns a ServiceUnavailable error.
func NewServiceUnavailable(message string) *StatusError {
	return &StatusError{Reason: ReasonServiceUnavailable, Message: message}
}
