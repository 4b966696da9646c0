package workqueue_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/workqueue"
)

// A worker loop: Get, process, Done, until the queue is shut down and
// drained.
func Example() {
	q := workqueue.New(workqueue.Options[string]{Name: "pods"})
	for _, key := range []string{"default/web", "default/db", "default/web"} {
		q.Add(key) // the second default/web is absorbed: it is queued already
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			key, shutdown := q.Get()
			if shutdown {
				return
			}
			fmt.Println("reconcile", key)
			q.Done(key)
		}
	}()
	q.ShutDownWithDrain() // Get hands out what is queued, then reports shutdown
	wg.Wait()
	// Output:
	// reconcile default/web
	// reconcile default/db
}

// Failed items go back through the rate limiter; a success forgets them.
// A fake clock shows the exponential backoff without waiting for it.
func ExampleQueue_AddRateLimited() {
	fake := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	limiter, _ := workqueue.NewExponentialRateLimiter[string](time.Second, time.Minute)
	q := workqueue.New(workqueue.Options[string]{Clock: fake, RateLimiter: limiter})
	defer q.ShutDown()

	attempts := 0
	sync := func(string) error {
		attempts++
		if attempts < 3 {
			return errors.New("not yet")
		}
		return nil
	}

	start := fake.Now()
	q.Add("default/web")
	for {
		key, _ := q.Get()
		err := sync(key)
		fmt.Printf("t=%v attempt %d: err=%v\n", fake.Since(start), attempts, err)
		if err != nil {
			wait := q.NumRequeues(key) // 0, 1, ...: the backoff doubles
			q.AddRateLimited(key)
			q.Done(key)
			fake.Step(time.Second << wait)
			continue
		}
		q.Forget(key)
		q.Done(key)
		break
	}
	fmt.Println("requeues after success:", q.NumRequeues("default/web"))
	// Output:
	// t=0s attempt 1: err=not yet
	// t=1s attempt 2: err=not yet
	// t=3s attempt 3: err=<nil>
	// requeues after success: 0
}

// Higher priorities go first, but waiting items age: with PriorityStep 2,
// each level of priority is worth two places in line.
func ExampleQueue_AddWithPriority() {
	q := workqueue.New(workqueue.Options[string]{PriorityStep: 2})
	defer q.ShutDown()
	q.AddWithPriority("resync/a", -1) // low: an informer's initial list
	q.Add("event/b")
	q.AddWithPriority("urgent/c", 5)
	q.Add("event/d")
	q.Add("event/e")
	for q.Len() > 0 {
		item, _ := q.Get()
		fmt.Println(item)
		q.Done(item)
	}
	// Output:
	// urgent/c
	// event/b
	// resync/a
	// event/d
	// event/e
}

// With a Tenant function, a tenant that floods the queue takes its turn
// with the others instead of holding every worker.
func ExampleOptions_tenant() {
	q := workqueue.New(workqueue.Options[string]{
		Tenant: func(key string) string { ns, _, _ := strings.Cut(key, "/"); return ns },
	})
	defer q.ShutDown()
	for i := range 4 {
		q.Add(fmt.Sprintf("noisy/obj-%d", i))
	}
	q.Add("quiet/obj-0")
	q.Add("calm/obj-0")
	var order []string
	for q.Len() > 0 {
		item, _ := q.Get() // no Done yet: every item holds a worker
		order = append(order, item)
	}
	fmt.Println(strings.Join(order, "\n"))
	// Output:
	// noisy/obj-0
	// quiet/obj-0
	// calm/obj-0
	// noisy/obj-1
	// noisy/obj-2
	// noisy/obj-3
}
