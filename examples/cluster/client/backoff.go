package client

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Backoff spaces the retries of one call: the n-th retry (from 0) waits
// Initial×Factor^n, at most Max, stretched by a random fraction of up to
// Jitter so that clients that failed together do not retry together. A
// zero field takes its value from [DefaultBackoff].
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	Factor  float64
	// Jitter is the largest fraction added to a delay (0.2: up to 20%
	// longer). Negative means none.
	Jitter float64
	// MaxRetryAfter caps how long a server's Retry-After may make the
	// client wait.
	MaxRetryAfter time.Duration
}

// DefaultBackoff waits 100ms, 200ms, 400ms, ... up to 5s, plus up to 20%,
// and honours a Retry-After of up to a minute.
var DefaultBackoff = Backoff{Initial: 100 * time.Millisecond, Max: 5 * time.Second, Factor: 2, Jitter: 0.2, MaxRetryAfter: time.Minute}

func (b Backoff) withDefaults() Backoff {
	d := DefaultBackoff
	if b.Initial > 0 {
		d.Initial = b.Initial
	}
	if b.Max > 0 {
		d.Max = b.Max
	}
	if b.Factor >= 1 {
		d.Factor = b.Factor
	}
	if b.Jitter != 0 {
		d.Jitter = max(b.Jitter, 0)
	}
	if b.MaxRetryAfter > 0 {
		d.MaxRetryAfter = b.MaxRetryAfter
	}
	return d
}

// delay returns the wait before retry n (0-based); r is a random number in
// [0, 1).
func (b Backoff) delay(n int, r float64) time.Duration {
	d := float64(b.Initial) * math.Pow(b.Factor, float64(n))
	if d > float64(b.Max) || math.IsInf(d, 0) {
		d = float64(b.Max)
	}
	return time.Duration(d * (1 + b.Jitter*r))
}

// retryAfter parses a Retry-After header in seconds (the form API servers
// send); ok is false when there is none or it is not a number of seconds.
func retryAfter(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}
