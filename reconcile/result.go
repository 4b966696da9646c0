package reconcile

import (
	"errors"
	"fmt"
	"time"
)

// Outcome names what a [Result] asks the controller to do next.
type Outcome uint8

// The outcomes a reconcile can ask for. The zero value is [OutcomeDone].
const (
	// OutcomeDone: the world matches the request; forget its backoff and
	// wait for the next event.
	OutcomeDone Outcome = iota
	// OutcomeRequeueAfter: reconcile the request again after a fixed
	// delay, and forget its backoff.
	OutcomeRequeueAfter
	// OutcomeRequeueWithBackoff: reconcile the request again after the
	// rate limiter's next (growing) delay, as for an error, but without
	// counting an error.
	OutcomeRequeueWithBackoff
)

// String returns the outcome's name, which is also its
// controller_runtime_reconcile_total "result" label value.
func (o Outcome) String() string {
	switch o {
	case OutcomeRequeueAfter:
		return "requeue_after"
	case OutcomeRequeueWithBackoff:
		return "requeue"
	default:
		return "success"
	}
}

// Result is what a successful reconcile asks for next. Build one with [Done],
// [RequeueAfter] or [RequeueWithBackoff]; the zero Result is Done. Exactly
// one outcome holds at a time, so there is no combination of fields to get
// wrong.
//
// A reconcile that returns a non-nil error is retried with backoff whatever
// its Result says (unless the error is a [TerminalError]); the Result is
// then ignored, and the controller logs that it was.
type Result struct {
	outcome Outcome
	after   time.Duration
}

// Done returns the Result of a reconcile that has nothing left to do until
// the next event.
func Done() Result { return Result{} }

// RequeueAfter returns a Result that reconciles the request again after d.
// A d <= 0 is the same as [Done], because "again at once" is what
// [RequeueWithBackoff] spells safely.
func RequeueAfter(d time.Duration) Result {
	if d <= 0 {
		return Result{}
	}
	return Result{outcome: OutcomeRequeueAfter, after: d}
}

// RequeueWithBackoff returns a Result that reconciles the request again
// after the controller's rate limiter delay, which grows each time in a row
// the request asks for it. Use it to poll something that has no event.
func RequeueWithBackoff() Result { return Result{outcome: OutcomeRequeueWithBackoff} }

// Outcome returns what r asks for.
func (r Result) Outcome() Outcome { return r.outcome }

// After returns the delay of an [OutcomeRequeueAfter] Result, and 0
// otherwise.
func (r Result) After() time.Duration { return r.after }

// IsDone reports whether r is [Done].
func (r Result) IsDone() bool { return r.outcome == OutcomeDone }

// String describes r, for logs.
func (r Result) String() string {
	switch r.outcome {
	case OutcomeRequeueAfter:
		return "requeue after " + r.after.String()
	case OutcomeRequeueWithBackoff:
		return "requeue with backoff"
	default:
		return "done"
	}
}

// ErrTerminal matches every error made by [TerminalError] (errors.Is).
var ErrTerminal = errors.New("reconcile: terminal error")

// ErrPanic matches the error a controller records for a reconcile that
// panicked (errors.Is). Use errors.As with [*PanicError] for the value.
var ErrPanic = errors.New("reconcile: reconciler panicked")

// ErrInvalidOptions matches every error about bad options or arguments
// given to this package (errors.Is).
var ErrInvalidOptions = errors.New("reconcile: invalid options")

// terminalError wraps a cause that retrying cannot fix.
type terminalError struct{ err error }

func (e *terminalError) Error() string {
	if e.err == nil {
		return ErrTerminal.Error()
	}
	return "terminal error: " + e.err.Error()
}

func (e *terminalError) Unwrap() []error {
	if e.err == nil {
		return []error{ErrTerminal}
	}
	return []error{ErrTerminal, e.err}
}

// TerminalError marks err as one that retrying will not fix (a spec that can
// never be satisfied, say). The controller counts it and never requeues the
// request for it; the next event for the request reconciles it again.
// errors.Is(TerminalError(err), err) and errors.Is(.., ErrTerminal) both
// hold.
func TerminalError(err error) error { return &terminalError{err: err} }

// IsTerminal reports whether err is, or wraps, a [TerminalError].
func IsTerminal(err error) bool { return errors.Is(err, ErrTerminal) }

// PanicError is the error recorded for a reconcile that panicked. The
// controller recovers the panic, counts it in
// controller_runtime_reconcile_panics_total, and retries the request with
// backoff as for any other error.
type PanicError struct {
	// Value is what the reconciler passed to panic.
	Value any
	// Stack is the goroutine's stack at the panic.
	Stack []byte
}

// Error describes the panic.
func (e *PanicError) Error() string {
	return fmt.Sprintf("reconcile: reconciler panicked: %v", e.Value)
}

// Is makes errors.Is(err, ErrPanic) hold.
func (e *PanicError) Is(target error) bool { return target == ErrPanic }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}
