package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/governor-io/governor/store/meta"
)

// TestConcurrentWritersLoseNoUpdate runs writers that increment counters
// with GuaranteedUpdate while a watcher follows along: every increment
// lands, and the watch sees each object's versions in order.
func TestConcurrentWritersLoseNoUpdate(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	const objects, writers, perWriter = 3, 6, 40
	for i := range objects {
		must[*Widget](t)(e.s.Create(ctx, widget("ns", fmt.Sprintf("c%d", i), 0)))
	}
	ch := watch(t, e, ctx, meta.ListOptions{ResourceVersion: rev(e)})
	want := make([]int, objects)
	plans := make([][]int, writers)
	rng := rand.New(rand.NewPCG(1, 2))
	for w := range plans {
		for range perWriter {
			o := rng.IntN(objects)
			plans[w] = append(plans[w], o)
			want[o]++
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for _, plan := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, o := range plan {
				_, err := e.s.GuaranteedUpdate(ctx, "ns", fmt.Sprintf("c%d", o), func(w *Widget) (*Widget, error) {
					w.Spec.Size++
					return w, nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range objects {
		got := must[*Widget](t)(e.s.Get(ctx, "ns", fmt.Sprintf("c%d", i)))
		if got.Spec.Size != want[i] || got.Generation != int64(want[i]+1) {
			t.Fatalf("c%d: size %d generation %d, want %d and %d", i, got.Spec.Size, got.Generation, want[i], want[i]+1)
		}
	}
	// The watch delivers every write, each object's sizes counting up.
	last := map[string]int{}
	var lastRV int64
	for range writers * perWriter {
		ev := next(t, ch)
		if ev.Type != meta.Modified {
			t.Fatalf("unexpected %s", describe(ev))
		}
		rv, _ := meta.ParseResourceVersion(ev.Object.ResourceVersion)
		if rv <= lastRV || ev.Object.Spec.Size != last[ev.Object.Name]+1 {
			t.Fatalf("out of order: %s size %d after %d", describe(ev), ev.Object.Spec.Size, last[ev.Object.Name])
		}
		lastRV = rv
		last[ev.Object.Name] = ev.Object.Spec.Size
	}
}
