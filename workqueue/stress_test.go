package workqueue

import (
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestStress runs producers and workers against one queue, with random
// re-adds during processing, and checks the three guarantees: no item is on
// two workers at once, no item is lost, and every item added after its last
// Done is processed again.
func TestStress(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options[int]
	}{
		{"fifo", Options[int]{}},
		{"priorities", Options[int]{PriorityStep: 3}},
		{"tenants", Options[int]{Tenant: func(i int) string { return fmt.Sprint(i % 5) }}},
	} {
		t.Run(tc.name, func(t *testing.T) { stress(t, tc.opts, tc.name == "priorities") })
	}
}

func stress(t *testing.T, opts Options[int], usePriority bool) {
	const (
		producers = 4
		workers   = 4
		keys      = 64
		adds      = 3000 // per producer
	)
	q := New(opts)
	var (
		mu         sync.Mutex
		active     [keys]bool
		addedAfter [keys]int // adds since the key last started processing
		processed  [keys]int
		violations atomic.Int32
		stopped    bool // no more adds: the queue is shutting down
	)
	addKey := func(rng *rand.Rand, k int) {
		// Count the add before it lands, under the lock that workers take at
		// Get, so that an add racing with a Get is counted on one side.
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		addedAfter[k]++
		if usePriority && rng.Intn(4) == 0 {
			q.AddWithPriority(k, rng.Intn(7)-3)
		} else {
			q.Add(k)
		}
	}

	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(1000 + w)))
			for {
				k, shutdown := q.Get()
				if shutdown {
					return
				}
				mu.Lock()
				if active[k] {
					violations.Add(1)
				}
				active[k] = true
				addedAfter[k] = 0
				processed[k]++
				mu.Unlock()
				if rng.Intn(3) == 0 {
					addKey(rng, k) // re-add during processing
				}
				mu.Lock()
				active[k] = false
				mu.Unlock()
				q.Done(k)
			}
		}()
	}
	var pg sync.WaitGroup
	for p := range producers {
		pg.Add(1)
		go func() {
			defer pg.Done()
			rng := rand.New(rand.NewSource(int64(p)))
			for range adds {
				addKey(rng, rng.Intn(keys))
			}
		}()
	}
	pg.Wait()
	mu.Lock()
	stopped = true
	mu.Unlock()
	q.ShutDownWithDrain()
	// Workers exit only once the queue is empty after the drain.
	waitDone(t, &wg)
	if n := violations.Load(); n != 0 {
		t.Fatalf("%d times an item was handed to a second worker", n)
	}
	for k := range keys {
		if addedAfter[k] != 0 {
			t.Errorf("key %d: %d adds after its last processing were lost", k, addedAfter[k])
		}
	}
	if q.Len() != 0 || len(q.items) != 0 {
		t.Fatalf("queue not empty after drain: Len %d, items %d", q.Len(), len(q.items))
	}
}

func waitDone(t *testing.T, wg *sync.WaitGroup) {
	t.Helper()
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(60 * time.Second):
		t.Fatal("workers did not finish")
	}
}
