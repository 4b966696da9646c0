package informer

import (
	"math/rand/v2"
	"time"
)

// Backoff is the delay policy after a failed list or watch: exponential,
// with jitter, and reset after a quiet spell. The zero value gives the
// defaults noted on each field.
type Backoff struct {
	// Initial is the first delay (default 800ms).
	Initial time.Duration
	// Max caps the delay before jitter (default 30s).
	Max time.Duration
	// Factor multiplies the delay after each failure (default 2).
	Factor float64
	// Jitter adds up to Jitter×delay at random (default 1.0; negative
	// means none).
	Jitter float64
	// ResetAfter: a failure that follows ResetAfter without failures
	// starts again from Initial (default 2m).
	ResetAfter time.Duration
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = 800 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 30 * time.Second
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Factor < 1 {
		b.Factor = 2
	}
	if b.Jitter == 0 {
		b.Jitter = 1
	}
	if b.Jitter < 0 {
		b.Jitter = 0
	}
	if b.ResetAfter <= 0 {
		b.ResetAfter = 2 * time.Minute
	}
	return b
}

// backoffState tracks the current delay of one reflector.
type backoffState struct {
	b       Backoff
	rnd     func() float64
	next    time.Duration
	lastErr time.Time
}

func newBackoffState(b Backoff, rnd func() float64) *backoffState {
	if rnd == nil {
		rnd = rand.Float64
	}
	b = b.withDefaults()
	return &backoffState{b: b, rnd: rnd, next: b.Initial}
}

// delay returns how long to wait after a failure at now.
func (s *backoffState) delay(now time.Time) time.Duration {
	if !s.lastErr.IsZero() && now.Sub(s.lastErr) >= s.b.ResetAfter {
		s.next = s.b.Initial
	}
	s.lastErr = now
	d := s.next
	s.next = min(time.Duration(float64(s.next)*s.b.Factor), s.b.Max)
	return d + time.Duration(s.b.Jitter*s.rnd()*float64(d))
}

// reset starts the next failure from Initial again, after a success.
func (s *backoffState) reset() { s.next = s.b.Initial }
