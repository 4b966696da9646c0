package workqueue

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
)

func TestExponentialRateLimiter(t *testing.T) {
	r, err := NewExponentialRateLimiter[string](time.Millisecond, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 1000}
	for i, w := range want {
		if got := r.When("a"); got != w*time.Millisecond {
			t.Fatalf("retry %d: When = %v, want %v", i, got, w*time.Millisecond)
		}
	}
	if got := r.When("b"); got != time.Millisecond {
		t.Fatalf("other item: When = %v, want 1ms", got)
	}
	if n := r.NumRequeues("a"); n != len(want) {
		t.Fatalf("NumRequeues = %d, want %d", n, len(want))
	}
	r.Forget("a")
	if n := r.NumRequeues("a"); n != 0 {
		t.Fatalf("NumRequeues after Forget = %d", n)
	}
	if got := r.When("a"); got != time.Millisecond {
		t.Fatalf("When after Forget = %v", got)
	}
}

func TestExponentialRateLimiterDoesNotOverflow(t *testing.T) {
	r, _ := NewExponentialRateLimiter[int](time.Second, 1000*time.Hour)
	var last time.Duration
	for range 200 {
		last = r.When(1)
	}
	if last != 1000*time.Hour {
		t.Fatalf("after 200 retries When = %v, want the cap", last)
	}
}

func TestFastSlowRateLimiter(t *testing.T) {
	r, err := NewFastSlowRateLimiter[string](time.Millisecond, time.Second, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond, time.Second, time.Second}
	for i, w := range want {
		if got := r.When("a"); got != w {
			t.Fatalf("retry %d: When = %v, want %v", i, got, w)
		}
	}
	if n := r.NumRequeues("a"); n != 5 {
		t.Fatalf("NumRequeues = %d", n)
	}
	r.Forget("a")
	if got := r.When("a"); got != time.Millisecond {
		t.Fatalf("When after Forget = %v", got)
	}
}

func TestBucketRateLimiterOnFakeClock(t *testing.T) {
	fake := clocktest.New(epoch)
	r, err := NewBucketRateLimiter[string](fake, 10, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond}
	for i, w := range want {
		if got := r.When("x"); got != w {
			t.Fatalf("take %d: When = %v, want %v", i, got, w)
		}
	}
	// After a second on the fake clock the two reservations are paid and
	// the bucket holds 10 - 2 = 8 more tokens, capped at the burst of 2.
	fake.Step(time.Second)
	for i := range 2 {
		if got := r.When("x"); got != 0 {
			t.Fatalf("after refill take %d: When = %v, want 0", i, got)
		}
	}
	if got := r.When("x"); got != 100*time.Millisecond {
		t.Fatalf("after burst: When = %v, want 100ms", got)
	}
	if n := r.NumRequeues("x"); n != 0 {
		t.Fatalf("NumRequeues = %d, want 0", n)
	}
}

func TestMaxOfRateLimiter(t *testing.T) {
	fake := clocktest.New(epoch)
	exp, _ := NewExponentialRateLimiter[string](time.Millisecond, time.Minute)
	bucket, _ := NewBucketRateLimiter[string](fake, 1, 1)
	r, err := NewMaxOfRateLimiter[string](exp, bucket)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.When("a"); got != time.Millisecond { // bucket: 0, exp: 1ms
		t.Fatalf("When = %v, want 1ms", got)
	}
	if got := r.When("a"); got != time.Second { // bucket: 1s, exp: 2ms
		t.Fatalf("When = %v, want 1s", got)
	}
	if n := r.NumRequeues("a"); n != 2 {
		t.Fatalf("NumRequeues = %d, want 2", n)
	}
	r.Forget("a")
	if n := r.NumRequeues("a"); n != 0 {
		t.Fatalf("NumRequeues after Forget = %d", n)
	}
}

func TestMaxWaitRateLimiter(t *testing.T) {
	exp, _ := NewExponentialRateLimiter[string](time.Second, time.Hour)
	r, err := NewMaxWaitRateLimiter[string](exp, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range []time.Duration{1, 2, 3, 3} {
		if got := r.When("a"); got != w*time.Second {
			t.Fatalf("retry %d: When = %v, want %v", i, got, w*time.Second)
		}
	}
	if n := r.NumRequeues("a"); n != 4 {
		t.Fatalf("NumRequeues = %d", n)
	}
	r.Forget("a")
	if got := r.When("a"); got != time.Second {
		t.Fatalf("When after Forget = %v", got)
	}
}

func TestDefaultControllerRateLimiter(t *testing.T) {
	fake := clocktest.New(epoch)
	r := DefaultControllerRateLimiter[int](fake)
	// Exponential 5ms -> 1000s per item.
	for i, w := range []time.Duration{5, 10, 20, 40} {
		if got := r.When(-1); got != w*time.Millisecond {
			t.Fatalf("retry %d: When = %v, want %v", i, got, w*time.Millisecond)
		}
	}
	for range 30 {
		r.When(-1)
	}
	if got := r.When(-1); got != 1000*time.Second {
		t.Fatalf("capped When = %v, want 1000s", got)
	}
	// The bucket: 100 tokens (4 + 31 taken above), then one per 100ms.
	for i := range 65 {
		if got := r.When(i); got != 5*time.Millisecond {
			t.Fatalf("item %d: When = %v, want 5ms", i, got)
		}
	}
	if got := r.When(1000); got != 100*time.Millisecond {
		t.Fatalf("past the burst: When = %v, want 100ms", got)
	}
	if DefaultControllerRateLimiter[int](nil) == nil {
		t.Fatal("DefaultControllerRateLimiter(nil) returned nil")
	}
}

func TestRateLimiterConstructorsRejectBadInput(t *testing.T) {
	exp, _ := NewExponentialRateLimiter[int](time.Millisecond, time.Second)
	errs := map[string]error{}
	_, errs["exponential base negative"] = NewExponentialRateLimiter[int](-1, time.Second)
	_, errs["exponential max negative"] = NewExponentialRateLimiter[int](0, -1)
	_, errs["exponential max < default base"] = NewExponentialRateLimiter[int](0, time.Millisecond)
	_, errs["exponential max < base"] = NewExponentialRateLimiter[int](time.Second, time.Millisecond)
	_, errs["fast-slow negative"] = NewFastSlowRateLimiter[int](-1, time.Second, 1)
	_, errs["fast-slow slow < fast"] = NewFastSlowRateLimiter[int](time.Second, time.Millisecond, 1)
	_, errs["fast-slow negative attempts"] = NewFastSlowRateLimiter[int](0, time.Second, -1)
	_, errs["fast-slow default slow < fast"] = NewFastSlowRateLimiter[int](time.Minute, 0, 1)
	_, errs["bucket qps negative"] = NewBucketRateLimiter[int](nil, -1, 1)
	_, errs["bucket qps NaN"] = NewBucketRateLimiter[int](nil, math.NaN(), 1)
	_, errs["bucket burst negative"] = NewBucketRateLimiter[int](nil, 1, -1)
	_, errs["max-of empty"] = NewMaxOfRateLimiter[int]()
	_, errs["max-of nil"] = NewMaxOfRateLimiter[int](exp, nil)
	_, errs["max-wait nil"] = NewMaxWaitRateLimiter[int](nil, time.Second)
	_, errs["max-wait negative"] = NewMaxWaitRateLimiter[int](exp, -1)
	for name, err := range errs {
		if !errors.Is(err, ErrInvalidLimiter) {
			t.Errorf("%s: err = %v, want ErrInvalidLimiter", name, err)
		}
	}
}

// TestRateLimiterZeroValuesHaveDefaults checks that every limiter, as a
// zero struct literal and from its constructor with zero parameters (and a
// nil clock), works and uses the documented defaults.
func TestRateLimiterZeroValuesHaveDefaults(t *testing.T) {
	must := func(r RateLimiter[string], err error) RateLimiter[string] {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	exp := func() RateLimiter[string] { return must(NewExponentialRateLimiter[string](0, 0)) }
	tests := []struct {
		name string
		r    RateLimiter[string]
		// want are the delays of the first retries of one item.
		want []time.Duration
		// counts: NumRequeues follows the retries.
		counts bool
	}{
		{"exponential literal", &ExponentialRateLimiter[string]{}, []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond}, true},
		{"exponential new(0, 0)", exp(), []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond}, true},
		{"fast-slow literal", &FastSlowRateLimiter[string]{}, []time.Duration{5 * time.Millisecond, 5 * time.Millisecond, 5 * time.Millisecond, 5 * time.Millisecond, 5 * time.Millisecond, 10 * time.Second}, true},
		{"fast-slow new(0, 0, 0)", must(NewFastSlowRateLimiter[string](0, 0, 0)), []time.Duration{5 * time.Millisecond, 5 * time.Millisecond, 5 * time.Millisecond, 5 * time.Millisecond, 5 * time.Millisecond, 10 * time.Second}, true},
		// The wall clock: the first DefaultBurst tokens are there at once.
		{"bucket literal", &BucketRateLimiter[string]{}, []time.Duration{0, 0, 0}, false},
		{"bucket new(nil, 0, 0)", must(NewBucketRateLimiter[string](nil, 0, 0)), []time.Duration{0, 0, 0}, false},
		{"max-of literal", &MaxOfRateLimiter[string]{}, []time.Duration{0, 0}, false},
		{"max-wait literal", &MaxWaitRateLimiter[string]{}, []time.Duration{0, 0}, false},
		{"max-wait new(exp, 0)", must(NewMaxWaitRateLimiter(exp(), 0)), []time.Duration{5 * time.Millisecond, 10 * time.Millisecond}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, want := range tt.want {
				if got := tt.r.When("a"); got != want {
					t.Fatalf("retry %d: When = %v, want %v", i+1, got, want)
				}
			}
			wantN := 0
			if tt.counts {
				wantN = len(tt.want)
			}
			if n := tt.r.NumRequeues("a"); n != wantN {
				t.Errorf("NumRequeues = %d, want %d", n, wantN)
			}
			tt.r.Forget("a")
			if n := tt.r.NumRequeues("a"); n != 0 {
				t.Errorf("NumRequeues after Forget = %d, want 0", n)
			}
		})
	}
	// The zero bucket allows DefaultBurst at once, then DefaultQPS.
	fake := clocktest.New(time.Unix(0, 0))
	b := must(NewBucketRateLimiter[string](fake, 0, 0))
	for i := range DefaultBurst {
		if d := b.When("x"); d != 0 {
			t.Fatalf("token %d: When = %v, want 0", i, d)
		}
	}
	if d := b.When("x"); d != time.Second/DefaultQPS {
		t.Fatalf("past the burst: When = %v, want %v", d, time.Second/DefaultQPS)
	}
	// The default exponential backoff stops at DefaultMaxDelay.
	e := &ExponentialRateLimiter[string]{}
	var d time.Duration
	for range 40 {
		d = e.When("x")
	}
	if d != DefaultMaxDelay {
		t.Fatalf("after 40 retries: When = %v, want %v", d, DefaultMaxDelay)
	}
}
