package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/reconcile"
)

// failOnce is a reconciler that fails the first reconcile of each request
// and succeeds after; it reports every call on calls.
type failOnce struct {
	mu    sync.Mutex
	seen  map[string]bool
	calls chan bool // true for a success
}

func newFailOnce(n int) *failOnce {
	return &failOnce{seen: map[string]bool{}, calls: make(chan bool, n)}
}

func (f *failOnce) Reconcile(_ context.Context, req string) (reconcile.Result, error) {
	f.mu.Lock()
	again := f.seen[req]
	f.seen[req] = true
	f.mu.Unlock()
	f.calls <- again
	if !again {
		return reconcile.Done(), errors.New("first attempt fails")
	}
	return reconcile.Done(), nil
}

// expect waits for n calls, all with the outcome ok.
func (f *failOnce) expect(t *testing.T, n int, ok bool, what string) {
	t.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for i := range n {
		select {
		case got := <-f.calls:
			if got != ok {
				t.Fatalf("%s: call %d succeeded: %v, want %v", what, i, got, ok)
			}
		case <-deadline.C:
			t.Fatalf("%s: %d of %d calls after %s", what, i, n, waitFor)
		}
	}
}

// TestDefaultRateLimiterRunsOnControllerClock checks that the default rate
// limiter's token bucket refills with the controller's clock: after an hour
// of fake time, a burst of failures is retried after the 5ms base backoff,
// not after the seconds that a bucket drained on the wall clock would
// impose.
func TestDefaultRateLimiterRunsOnControllerClock(t *testing.T) {
	clk := clocktest.New(epoch)
	r := newFailOnce(200)
	c, err := reconcile.New[string](r, reconcile.Options[string]{Name: "bucket", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	started(t, c)
	// Drain the bucket (burst 100) and go 10 tokens into debt.
	for i := range 110 {
		c.Enqueue(fmt.Sprintf("first-%d", i))
	}
	r.expect(t, 110, false, "first failures")
	waitIdle(t, c)
	clk.Step(time.Hour)
	r.expect(t, 110, true, "retries an hour later")
	waitIdle(t, c)
	// An hour of the controller's time refilled the bucket.
	for i := range 100 {
		c.Enqueue(fmt.Sprintf("second-%d", i))
	}
	r.expect(t, 100, false, "second failures")
	waitIdle(t, c)
	clk.Step(5 * time.Millisecond)
	r.expect(t, 100, true, "retries after the 5ms base backoff")
}

// TestControllerTakesManagerClock checks that a controller created
// without a clock runs on the clock of the manager it is added to.
func TestControllerTakesManagerClock(t *testing.T) {
	clk := clocktest.New(epoch)
	mgr, err := reconcile.NewManager(reconcile.ManagerOptions{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	calls := make(chan struct{}, 2)
	var n int
	var mu sync.Mutex
	c, err := reconcile.New[string](reconcile.Func[string](func(context.Context, string) (reconcile.Result, error) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		calls <- struct{}{}
		if first {
			return reconcile.RequeueAfter(time.Hour), nil
		}
		return reconcile.Done(), nil
	}), reconcile.Options[string]{Name: "inherits", Metrics: mgr.Metrics()})
	if err != nil {
		t.Fatal(err)
	}
	if err := mgr.Add(c); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() {
		cancel()
		if err := waitChan(t, done, "manager to stop"); err != nil {
			t.Errorf("manager stopped with %v", err)
		}
	}()
	waitChan(t, mgr.Elected(), "runnables to start")
	c.Enqueue("a")
	waitChan(t, calls, "first reconcile")
	waitIdle(t, c)
	clk.Step(time.Hour)
	waitChan(t, calls, "reconcile an hour of the manager's time later")
}
