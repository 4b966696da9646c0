package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/mvcc"
)

// A reconciler that retries an error, then succeeds. The controller runs on
// its own, fed by a channel source (events that do not come from a store),
// and is stopped once the work is done.
func ExampleChannel() {
	var mu sync.Mutex
	attempts := map[string]int{}
	done := make(chan struct{})
	r := reconcile.Func[string](func(ctx context.Context, req string) (reconcile.Result, error) {
		mu.Lock()
		defer mu.Unlock()
		attempts[req]++
		if attempts[req] < 3 {
			return reconcile.Done(), fmt.Errorf("%s not ready yet", req)
		}
		fmt.Printf("reconciled %s after %d attempts\n", req, attempts[req])
		close(done)
		return reconcile.Done(), nil
	})
	c, err := reconcile.New[string](r, reconcile.Options[string]{Name: "example"})
	if err != nil {
		panic(err)
	}
	events := make(chan string, 1)
	if err := c.Watch(reconcile.Channel(events)); err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error)
	go func() { stopped <- c.Start(ctx) }()
	events <- "web"
	<-done
	cancel()
	fmt.Println("stopped:", <-stopped)
	// Output:
	// reconciled web after 3 attempts
	// stopped: <nil>
}

// Each Result spells out one outcome.
func ExampleResult() {
	for _, res := range []reconcile.Result{
		reconcile.Done(),
		reconcile.RequeueAfter(30 * time.Second),
		reconcile.RequeueWithBackoff(),
	} {
		fmt.Printf("%-22s metric result=%s\n", res, res.Outcome())
	}
	// Output:
	// done                   metric result=success
	// requeue after 30s      metric result=requeue_after
	// requeue with backoff   metric result=requeue
}

// A terminal error stops retries; errors.Is still finds its cause.
func ExampleTerminalError() {
	errBadSpec := errors.New("replicas must be positive")
	err := reconcile.TerminalError(errBadSpec)
	fmt.Println(reconcile.IsTerminal(err), errors.Is(err, errBadSpec))
	// Output: true true
}

// Predicates filter informer events before they reach the queue.
func ExampleAnd() {
	p := reconcile.And(reconcile.GenerationChanged[*widget](), reconcile.Not(reconcile.LabelsChanged[*widget]()))
	old := &widget{}
	old.Generation = 1
	spec := &widget{}
	spec.Generation = 2
	relabelled := &widget{}
	relabelled.Generation = 2
	relabelled.Labels = map[string]string{"tier": "db"}
	fmt.Println(p.Update(old, spec), p.Update(old, relabelled))
	// Output: true false
}

// A candidate takes a lease kept in the store, and gives it up when it
// stops. (Tests of leader election can use reconciletest.MemoryLeaseLock.)
func ExampleElector() {
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	lock := reconcile.StoreLeaseLock(store.New(engine, store.LeaseResource()), "system", "example")
	a, _ := reconcile.NewElector(reconcile.LeaderElectionOptions{Lock: lock, Identity: "a"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	<-a.Elected()
	rec, _, _ := lock.Get(ctx)
	fmt.Println("leader:", rec.Holder, a.IsLeader())
	cancel()
	<-done
	rec, _, _ = lock.Get(context.Background())
	fmt.Printf("after cancel: holder=%q\n", rec.Holder)
	// Output:
	// leader: a true
	// after cancel: holder=""
}
