package clock_test

import (
	"context"
	"fmt"
	"time"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/clock/clocktest"
)

// retryAfter waits on c, so a test can drive it with a fake clock.
func retryAfter(c clock.Clock, d time.Duration) time.Time {
	return <-c.NewTimer(d).C()
}

func ExampleOrReal() {
	var c clock.Clock // nil in an options struct
	_, isReal := clock.OrReal(c).(clock.Real)
	fmt.Println("nil means the wall clock:", isReal)
	// Output: nil means the wall clock: true
}

func Example() {
	fake := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	done := make(chan time.Time)
	go func() { done <- retryAfter(fake, 5*time.Second) }()

	// Step only once the code under test has armed its timer.
	_ = fake.BlockUntilWaiters(context.Background(), 1)
	fake.Step(5 * time.Second)
	fmt.Println((<-done).Format(time.TimeOnly))
	// Output: 00:00:05
}
