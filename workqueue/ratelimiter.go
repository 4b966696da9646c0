package workqueue

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/governor-io/governor/clock"
)

// ErrInvalidLimiter is wrapped by the errors of the rate limiter
// constructors when a parameter is out of range.
var ErrInvalidLimiter = errors.New("workqueue: invalid rate limiter")

// Defaults of the rate limiters, used for a zero parameter and by the zero
// value of each limiter type.
const (
	// DefaultBaseDelay is the first delay of an [ExponentialRateLimiter]
	// and the fast delay of a [FastSlowRateLimiter].
	DefaultBaseDelay = 5 * time.Millisecond
	// DefaultMaxDelay is the longest delay of an [ExponentialRateLimiter]
	// and the cap of a [MaxWaitRateLimiter].
	DefaultMaxDelay = 1000 * time.Second
	// DefaultSlowDelay is the slow delay of a [FastSlowRateLimiter].
	DefaultSlowDelay = 10 * time.Second
	// DefaultFastAttempts is how many retries a [FastSlowRateLimiter]
	// delays by the fast delay.
	DefaultFastAttempts = 5
	// DefaultQPS and DefaultBurst are the rate and burst of a
	// [BucketRateLimiter].
	DefaultQPS   = 10
	DefaultBurst = 100
)

// RateLimiter decides how long an item waits before it is retried.
// [Queue.AddRateLimited] asks When; [Queue.Forget] and [Queue.NumRequeues]
// pass through to Forget and NumRequeues. Implementations must be safe for
// concurrent use.
type RateLimiter[T comparable] interface {
	// When returns how long item should wait now, and counts a retry.
	When(item T) time.Duration
	// Forget clears what the limiter remembers about item.
	Forget(item T)
	// NumRequeues returns how many retries of item were counted since it
	// was last forgotten.
	NumRequeues(item T) int
}

// DefaultControllerRateLimiter returns the limiter controllers use by
// default: the larger of a per-item exponential backoff from 5ms to 1000s
// and an overall token bucket of 10 per second with a burst of 100, whose
// tokens refill on clk (nil means the wall clock). Pass the clock that
// drives the queue, so that a fake clock in a test governs the backoff
// too. A [Queue] with no RateLimiter uses it on the queue's clock.
func DefaultControllerRateLimiter[T comparable](clk clock.Clock) RateLimiter[T] {
	return &MaxOfRateLimiter[T]{limiters: []RateLimiter[T]{
		&ExponentialRateLimiter[T]{},
		&BucketRateLimiter[T]{clock: clk},
	}}
}

// ExponentialRateLimiter delays each item base*2^n, where n counts the
// item's retries since it was last forgotten, up to max. The zero value
// uses [DefaultBaseDelay] and [DefaultMaxDelay].
type ExponentialRateLimiter[T comparable] struct {
	base, max time.Duration
	mu        sync.Mutex
	failures  map[T]int
}

// NewExponentialRateLimiter returns an [ExponentialRateLimiter]. A zero
// base means [DefaultBaseDelay] and a zero max [DefaultMaxDelay]. It fails
// with [ErrInvalidLimiter] if either is negative or max < base.
func NewExponentialRateLimiter[T comparable](base, max time.Duration) (*ExponentialRateLimiter[T], error) {
	r := &ExponentialRateLimiter[T]{base: base, max: max, failures: map[T]int{}}
	if base < 0 || max < 0 || r.maxDelay() < r.baseDelay() {
		return nil, fmt.Errorf("%w: exponential backoff needs 0 <= base <= max, got base %v, max %v", ErrInvalidLimiter, base, max)
	}
	return r, nil
}

func (r *ExponentialRateLimiter[T]) baseDelay() time.Duration {
	return orDefault(r.base, DefaultBaseDelay)
}
func (r *ExponentialRateLimiter[T]) maxDelay() time.Duration {
	return orDefault(r.max, DefaultMaxDelay)
}

// orDefault returns v, or def if v is zero.
func orDefault[V comparable](v, def V) V {
	var zero V
	if v == zero {
		return def
	}
	return v
}

// When returns base*2^n capped at max, and counts the retry.
func (r *ExponentialRateLimiter[T]) When(item T) time.Duration {
	r.mu.Lock()
	if r.failures == nil {
		r.failures = map[T]int{}
	}
	n := r.failures[item]
	r.failures[item] = n + 1
	r.mu.Unlock()
	// Compare in floating point so that large n cannot overflow.
	base, maxDelay := r.baseDelay(), r.maxDelay()
	d := float64(base) * math.Exp2(float64(n))
	if d >= float64(maxDelay) {
		return maxDelay
	}
	return time.Duration(d)
}

// Forget resets item's backoff.
func (r *ExponentialRateLimiter[T]) Forget(item T) {
	r.mu.Lock()
	delete(r.failures, item)
	r.mu.Unlock()
}

// NumRequeues returns item's retries since it was last forgotten.
func (r *ExponentialRateLimiter[T]) NumRequeues(item T) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failures[item]
}

// FastSlowRateLimiter delays an item by fast for its first attempts
// retries, then by slow. The zero value uses [DefaultBaseDelay],
// [DefaultSlowDelay] and [DefaultFastAttempts].
type FastSlowRateLimiter[T comparable] struct {
	fast, slow time.Duration
	attempts   int
	mu         sync.Mutex
	failures   map[T]int
}

// NewFastSlowRateLimiter returns a [FastSlowRateLimiter]. A zero fast
// means [DefaultBaseDelay], a zero slow [DefaultSlowDelay] and zero
// attempts [DefaultFastAttempts]. It fails with [ErrInvalidLimiter] if any
// is negative or slow < fast.
func NewFastSlowRateLimiter[T comparable](fast, slow time.Duration, attempts int) (*FastSlowRateLimiter[T], error) {
	r := &FastSlowRateLimiter[T]{fast: fast, slow: slow, attempts: attempts, failures: map[T]int{}}
	if fast < 0 || slow < 0 || attempts < 0 || r.slowDelay() < r.fastDelay() {
		return nil, fmt.Errorf("%w: fast-slow needs 0 <= fast <= slow and attempts >= 0, got %v, %v, %d", ErrInvalidLimiter, fast, slow, attempts)
	}
	return r, nil
}

func (r *FastSlowRateLimiter[T]) fastDelay() time.Duration {
	return orDefault(r.fast, DefaultBaseDelay)
}
func (r *FastSlowRateLimiter[T]) slowDelay() time.Duration {
	return orDefault(r.slow, DefaultSlowDelay)
}

// When returns fast for the first attempts retries of item, slow after.
func (r *FastSlowRateLimiter[T]) When(item T) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failures == nil {
		r.failures = map[T]int{}
	}
	r.failures[item]++
	if r.failures[item] <= orDefault(r.attempts, DefaultFastAttempts) {
		return r.fastDelay()
	}
	return r.slowDelay()
}

// Forget resets item's count.
func (r *FastSlowRateLimiter[T]) Forget(item T) {
	r.mu.Lock()
	delete(r.failures, item)
	r.mu.Unlock()
}

// NumRequeues returns item's retries since it was last forgotten.
func (r *FastSlowRateLimiter[T]) NumRequeues(item T) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failures[item]
}

// BucketRateLimiter is one token bucket shared by all items
// ([golang.org/x/time/rate]), read on an injected clock. It remembers
// nothing per item. The zero value allows [DefaultQPS] with bursts of
// [DefaultBurst] on the wall clock.
type BucketRateLimiter[T comparable] struct {
	clock    clock.Clock
	qps      float64
	burst    int
	initOnce sync.Once
	limiter  *rate.Limiter
}

// NewBucketRateLimiter returns a [BucketRateLimiter] that allows qps items
// per second with bursts of burst, on clk. A nil clk means the wall clock,
// a zero qps [DefaultQPS] and a zero burst [DefaultBurst]. It fails with
// [ErrInvalidLimiter] if qps is negative, infinite or NaN, or burst is
// negative.
func NewBucketRateLimiter[T comparable](clk clock.Clock, qps float64, burst int) (*BucketRateLimiter[T], error) {
	if qps < 0 || math.IsInf(qps, 1) || math.IsNaN(qps) || burst < 0 {
		return nil, fmt.Errorf("%w: token bucket needs a finite qps >= 0 and burst >= 0, got %v, %d", ErrInvalidLimiter, qps, burst)
	}
	return &BucketRateLimiter[T]{clock: clk, qps: qps, burst: burst}, nil
}

// When takes a token and returns how long until it is available.
func (r *BucketRateLimiter[T]) When(T) time.Duration {
	r.initOnce.Do(func() {
		r.clock = clock.OrReal(r.clock)
		r.limiter = rate.NewLimiter(rate.Limit(orDefault(r.qps, DefaultQPS)), orDefault(r.burst, DefaultBurst))
	})
	now := r.clock.Now()
	return r.limiter.ReserveN(now, 1).DelayFrom(now)
}

// Forget does nothing: the bucket is shared by all items.
func (r *BucketRateLimiter[T]) Forget(T) {}

// NumRequeues returns 0: the bucket does not count per item.
func (r *BucketRateLimiter[T]) NumRequeues(T) int { return 0 }

// MaxOfRateLimiter asks several limiters and waits for the longest. The
// zero value has no limiter and never waits.
type MaxOfRateLimiter[T comparable] struct {
	limiters []RateLimiter[T]
}

// NewMaxOfRateLimiter returns a [MaxOfRateLimiter] over limiters. It fails
// with [ErrInvalidLimiter] when there is none or one is nil.
func NewMaxOfRateLimiter[T comparable](limiters ...RateLimiter[T]) (*MaxOfRateLimiter[T], error) {
	if len(limiters) == 0 {
		return nil, fmt.Errorf("%w: max-of needs at least one limiter", ErrInvalidLimiter)
	}
	for i, l := range limiters {
		if l == nil {
			return nil, fmt.Errorf("%w: max-of limiter %d is nil", ErrInvalidLimiter, i)
		}
	}
	return &MaxOfRateLimiter[T]{limiters: append([]RateLimiter[T](nil), limiters...)}, nil
}

// When asks every limiter, so each counts the retry, and returns the
// longest delay.
func (r *MaxOfRateLimiter[T]) When(item T) time.Duration {
	var d time.Duration
	for _, l := range r.limiters {
		d = max(d, l.When(item))
	}
	return d
}

// Forget forgets item in every limiter.
func (r *MaxOfRateLimiter[T]) Forget(item T) {
	for _, l := range r.limiters {
		l.Forget(item)
	}
}

// NumRequeues returns the largest count among the limiters.
func (r *MaxOfRateLimiter[T]) NumRequeues(item T) int {
	n := 0
	for _, l := range r.limiters {
		n = max(n, l.NumRequeues(item))
	}
	return n
}

// MaxWaitRateLimiter caps the delays of another limiter. The zero value
// wraps no limiter and never waits.
type MaxWaitRateLimiter[T comparable] struct {
	limiter RateLimiter[T]
	maxWait time.Duration
}

// NewMaxWaitRateLimiter returns a [MaxWaitRateLimiter] that never waits
// longer than maxWait; a zero maxWait means [DefaultMaxDelay]. It fails
// with [ErrInvalidLimiter] when limiter is nil or maxWait is negative.
func NewMaxWaitRateLimiter[T comparable](limiter RateLimiter[T], maxWait time.Duration) (*MaxWaitRateLimiter[T], error) {
	if limiter == nil || maxWait < 0 {
		return nil, fmt.Errorf("%w: max-wait needs a limiter and maxWait >= 0, got %v", ErrInvalidLimiter, maxWait)
	}
	return &MaxWaitRateLimiter[T]{limiter: limiter, maxWait: orDefault(maxWait, DefaultMaxDelay)}, nil
}

// When returns the wrapped limiter's delay, capped at maxWait.
func (r *MaxWaitRateLimiter[T]) When(item T) time.Duration {
	if r.limiter == nil {
		return 0
	}
	return min(r.limiter.When(item), r.maxWait)
}

// Forget forgets item in the wrapped limiter.
func (r *MaxWaitRateLimiter[T]) Forget(item T) {
	if r.limiter != nil {
		r.limiter.Forget(item)
	}
}

// NumRequeues returns the wrapped limiter's count.
func (r *MaxWaitRateLimiter[T]) NumRequeues(item T) int {
	if r.limiter == nil {
		return 0
	}
	return r.limiter.NumRequeues(item)
}
