package client

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/governor-io/governor/clock"
)

// Defaults of the [Config] fields that tell the client when to leave a
// member and when to come back to it.
const (
	// DefaultAttemptTimeout is the default [Config.AttemptTimeout]: the
	// Raft KV's default election timeout, the time a member cut off from
	// its peers takes to notice it has no leader.
	DefaultAttemptTimeout = time.Second
	// DefaultBackoff is the default [Config.Backoff].
	DefaultBackoff = 50 * time.Millisecond
	// DefaultMaxBackoff is the default [Config.MaxBackoff].
	DefaultMaxBackoff = time.Second
	// DefaultMaxRetries is the default [Config.MaxRetries].
	DefaultMaxRetries = 6
)

// endpoints tracks the health of a client's endpoints and picks the one
// each attempt goes to: the one the last call succeeded at while it is
// healthy, else the next healthy one in the configured order. A member
// that fails (cannot be dialled, does not answer in time, has no leader)
// is left alone for a jittered backoff that doubles with each failure in
// a row; once it has passed, the member is tried again.
type endpoints struct {
	clock           clock.Clock
	backoff, maxOff time.Duration

	// While every endpoint is healthy, as it mostly is, a call reads the
	// current one without the lock.
	cur     atomic.Int32
	failing atomic.Int32 // endpoints whose fails > 0
	mu      sync.Mutex
	rnd     *rand.Rand
	state   []endpointState
}

type endpointState struct {
	addr  string
	fails int       // failures in a row
	until time.Time // unhealthy until then
}

func newEndpoints(addrs []string, clk clock.Clock, backoff, maxOff time.Duration, rnd *rand.Rand) *endpoints {
	e := &endpoints{clock: clk, backoff: backoff, maxOff: maxOff, rnd: rnd}
	for _, a := range addrs {
		e.state = append(e.state, endpointState{addr: a})
	}
	return e
}

func (e *endpoints) len() int { return len(e.state) }

func (e *endpoints) addr(i int) string { return e.state[i].addr }

// pick returns the endpoint a call's next attempt goes to, among those it
// has not tried in this pass (tried[i]): the first healthy one from the
// current endpoint on; when none is healthy, the one whose backoff ends
// first, with how long that is. ok is false when every endpoint was tried.
func (e *endpoints) pick(tried []bool) (idx int, wait time.Duration, ok bool) {
	if cur := int(e.cur.Load()); e.failing.Load() == 0 && !tried[cur] {
		return cur, 0, true
	}
	now := e.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	n := len(e.state)
	cur := int(e.cur.Load())
	idx = -1
	for i := 0; i < n; i++ {
		j := (cur + i) % n
		if tried[j] {
			continue
		}
		if !e.state[j].until.After(now) {
			return j, 0, true
		}
		if idx < 0 || e.state[j].until.Before(e.state[idx].until) {
			idx = j
		}
	}
	if idx < 0 {
		return 0, 0, false
	}
	return idx, e.state[idx].until.Sub(now), true
}

// succeeded records a call answered at endpoint i, which becomes the
// current one.
func (e *endpoints) succeeded(i int) {
	if e.failing.Load() == 0 && int(e.cur.Load()) == i {
		return
	}
	e.mu.Lock()
	e.healedLocked(i)
	e.cur.Store(int32(i))
	e.mu.Unlock()
}

func (e *endpoints) healedLocked(i int) {
	if e.state[i].fails > 0 {
		e.failing.Add(-1)
	}
	e.state[i].fails, e.state[i].until = 0, time.Time{}
}

// failed marks endpoint i unhealthy for a jittered backoff, unless a
// concurrent call already did: many calls that meet the same fault count
// as one failure.
func (e *endpoints) failed(i int) {
	now := e.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	s := &e.state[i]
	if s.until.After(now) {
		return
	}
	if s.fails == 0 {
		e.failing.Add(1)
	}
	s.fails++
	d := e.backoff
	for k := 1; k < s.fails && d < e.maxOff; k++ {
		d *= 2
	}
	d = min(d, e.maxOff)
	// Jitter over [d/2, d), so that clients that met one fault together
	// do not come back together.
	if half := d / 2; half > 0 {
		d = half + time.Duration(e.rnd.Int64N(int64(half)))
	}
	s.until = now.Add(d)
}

// setCurrent makes endpoint addr, if it is one of the configured ones,
// the current endpoint.
func (e *endpoints) setCurrent(addr string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.state {
		if e.state[i].addr == addr {
			e.healedLocked(i)
			e.cur.Store(int32(i))
		}
	}
}

// sleep waits d on the clock, or until ctx ends.
func sleep(ctx context.Context, clk clock.Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := clk.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
