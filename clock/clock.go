// Package clock gives every Governor package one injectable source of time.
//
// Code that waits, measures or schedules takes a [Clock] instead of calling
// the time package directly. Production code passes [Real]; tests pass the
// fake in [github.com/governor-io/governor/clock/clocktest] and step it by
// hand, so that no test depends on the wall clock or sleeps to synchronise.
//
// The package imports only the standard library. It is the one leaf that the
// other packages share, so that a single fake drives the workqueue, the
// informer, the reconciler and leader election in the same test.
package clock

import "time"

// Clock tells the time and makes timers. [Real] is the wall clock; a
// [github.com/governor-io/governor/clock/clocktest.Fake] is stepped by a test.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Since returns the time elapsed since t.
	Since(t time.Time) time.Duration
	// NewTimer returns a Timer that sends the time on its channel once d has
	// passed.
	NewTimer(d time.Duration) Timer
	// AfterFunc calls f in its own goroutine once d has passed. The returned
	// Timer's channel is nil; use Stop to cancel the call.
	AfterFunc(d time.Duration, f func()) Timer
	// NewTicker returns a Ticker that sends the time every d. It panics if
	// d <= 0, as time.NewTicker does.
	NewTicker(d time.Duration) Ticker
}

// Timer is a single event in the future, as [time.Timer].
type Timer interface {
	// C returns the channel on which the time is delivered. It is nil for
	// a Timer made by AfterFunc.
	C() <-chan time.Time
	// Stop prevents the Timer from firing. It reports whether the call
	// stopped the timer, as time.Timer.Stop does.
	Stop() bool
	// Reset changes the timer to fire after d. It reports whether the timer
	// had been active.
	Reset(d time.Duration) bool
}

// Ticker delivers ticks at intervals, as [time.Ticker].
type Ticker interface {
	// C returns the channel on which the ticks are delivered.
	C() <-chan time.Time
	// Stop turns off the ticker. No more ticks are sent after Stop returns.
	Stop()
}

// Real is the [Clock] of the time package. Its zero value is ready to use.
type Real struct{}

var _ Clock = Real{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Since returns time.Since(t).
func (Real) Since(t time.Time) time.Duration { return time.Since(t) }

// NewTimer returns a Timer backed by time.NewTimer.
func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

// AfterFunc returns a Timer backed by time.AfterFunc.
func (Real) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{time.AfterFunc(d, f)}
}

// NewTicker returns a Ticker backed by time.NewTicker.
func (Real) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

type realTicker struct{ t *time.Ticker }

func (r realTicker) C() <-chan time.Time { return r.t.C }
func (r realTicker) Stop()               { r.t.Stop() }

// OrReal returns c, or [Real] when c is nil. Constructors use it so that a
// nil Clock in an options struct means the wall clock.
func OrReal(c Clock) Clock {
	if c == nil {
		return Real{}
	}
	return c
}
