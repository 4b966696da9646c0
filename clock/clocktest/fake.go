// Package clocktest provides [Fake], a [clock.Clock] whose time moves only
// when a test moves it.
//
// A test creates a Fake, hands it to the code under test, and calls Step to
// move time forward. Timers and tickers whose deadline has been reached
// fire during Step, in deadline order. BlockUntilWaiters lets a test wait,
// without sleeping, until the code under test has armed the timers it is
// expected to arm.
package clocktest

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/governor-io/governor/clock"
)

// Fake is a [clock.Clock] for tests. Its time starts where [New] puts it and
// changes only through [Fake.Step] and [Fake.SetTime]. It is safe for
// concurrent use.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters map[*waiter]struct{}
	changed chan struct{} // closed and replaced whenever waiters change
}

var _ clock.Clock = (*Fake)(nil)

// New returns a Fake clock set to t.
func New(t time.Time) *Fake {
	return &Fake{now: t, waiters: make(map[*waiter]struct{}), changed: make(chan struct{})}
}

// waiter is an armed timer, ticker or AfterFunc.
type waiter struct {
	fake   *Fake
	at     time.Time
	period time.Duration // > 0 for tickers
	ch     chan time.Time
	fn     func()
}

// Now returns the fake's current time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Since returns the fake time elapsed since t.
func (f *Fake) Since(t time.Time) time.Duration { return f.Now().Sub(t) }

// NewTimer returns a timer that fires once the fake time reaches now+d.
// A timer with d <= 0 fires at once.
func (f *Fake) NewTimer(d time.Duration) clock.Timer {
	w := &waiter{fake: f, ch: make(chan time.Time, 1)}
	f.arm(w, d)
	return (*fakeTimer)(w)
}

// AfterFunc calls fn in its own goroutine once the fake time reaches now+d.
func (f *Fake) AfterFunc(d time.Duration, fn func()) clock.Timer {
	w := &waiter{fake: f, fn: fn}
	f.arm(w, d)
	return (*fakeTimer)(w)
}

// NewTicker returns a ticker that ticks each time the fake time passes
// another multiple of d. Like time.NewTicker it panics if d <= 0, and it
// drops ticks that the receiver is too slow to take.
func (f *Fake) NewTicker(d time.Duration) clock.Ticker {
	if d <= 0 {
		panic("clocktest: non-positive interval for NewTicker")
	}
	w := &waiter{fake: f, period: d, ch: make(chan time.Time, 1)}
	f.arm(w, d)
	return (*fakeTicker)(w)
}

// Step moves the fake time forward by d and fires every timer and ticker
// whose deadline is reached, in deadline order.
func (f *Fake) Step(d time.Duration) {
	f.mu.Lock()
	f.setLocked(f.now.Add(d))
	f.mu.Unlock()
}

// SetTime moves the fake time to t and fires what is due. Moving time
// backwards fires nothing.
func (f *Fake) SetTime(t time.Time) {
	f.mu.Lock()
	f.setLocked(t)
	f.mu.Unlock()
}

// Waiters returns the number of armed timers, tickers and AfterFuncs.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

// HasWaiters reports whether any timer, ticker or AfterFunc is armed.
func (f *Fake) HasWaiters() bool { return f.Waiters() > 0 }

// BlockUntilWaiters waits until at least n timers, tickers or AfterFuncs
// are armed, or ctx is done. It returns ctx.Err() in the latter case.
func (f *Fake) BlockUntilWaiters(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		if len(f.waiters) >= n {
			f.mu.Unlock()
			return nil
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// NextDeadline returns the earliest deadline among the armed waiters, and
// false when none is armed. A test can Step exactly to it.
func (f *Fake) NextDeadline() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var next time.Time
	found := false
	for w := range f.waiters {
		if !found || w.at.Before(next) {
			next, found = w.at, true
		}
	}
	return next, found
}

func (f *Fake) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// arm schedules w at now+d, firing at once when d <= 0.
func (f *Fake) arm(w *waiter, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.at = f.now.Add(d)
	if d <= 0 && w.period == 0 {
		f.fireLocked(w)
		return
	}
	f.waiters[w] = struct{}{}
	f.notifyLocked()
}

func (f *Fake) setLocked(t time.Time) {
	if t.After(f.now) {
		f.now = t
	}
	var due []*waiter
	for w := range f.waiters {
		if !w.at.After(f.now) {
			due = append(due, w)
		}
	}
	if len(due) == 0 {
		return
	}
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, w := range due {
		if w.period > 0 {
			f.fireLocked(w)
			for !w.at.After(f.now) {
				w.at = w.at.Add(w.period)
			}
			continue
		}
		delete(f.waiters, w)
		f.fireLocked(w)
	}
	f.notifyLocked()
}

func (f *Fake) fireLocked(w *waiter) {
	if w.fn != nil {
		go w.fn()
		return
	}
	select {
	case w.ch <- f.now:
	default: // the receiver has not taken the last tick; drop this one
	}
}

// stop disarms w and drops a value it sent that was not received, so that
// no stale time is received after Stop or Reset returns (time.Timer's
// behaviour since Go 1.23). It reports whether w was armed or its value
// still pending: a timer whose value has not been received has not, to
// the receiver, fired yet.
func (f *Fake) stop(w *waiter) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	pending := false
	if w.ch != nil {
		select {
		case <-w.ch:
			pending = true
		default:
		}
	}
	if _, ok := f.waiters[w]; !ok {
		return pending
	}
	delete(f.waiters, w)
	f.notifyLocked()
	return true
}

type fakeTimer waiter

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

// Stop disarms the timer. Once it returns, no value is received from C
// until the timer is Reset and fires again.
func (t *fakeTimer) Stop() bool { return t.fake.stop((*waiter)(t)) }

// Reset rearms the timer to fire after d. Once it returns, the only value
// received from C is the one it sends when it fires again.

func (t *fakeTimer) Reset(d time.Duration) bool {
	w := (*waiter)(t)
	active := w.fake.stop(w)
	w.fake.arm(w, d)
	return active
}

type fakeTicker waiter

func (t *fakeTicker) C() <-chan time.Time { return t.ch }

// Stop turns the ticker off. Once it returns, no tick is received from C.
func (t *fakeTicker) Stop() { t.fake.stop((*waiter)(t)) }
