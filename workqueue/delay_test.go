package workqueue

import (
	"fmt"
	"hash/maphash"
	"math/rand"
	"testing"
)

// TestDelayIndexModel drives the delay heap and its index with random
// inserts, earlier-time updates and pops, growing past several index
// resizes and shrinking back, and checks them against a map after every
// step: each waiting item is found once, pops come out in time order, and
// an item keeps the earliest time it was given.
func TestDelayIndexModel(t *testing.T) {
	for _, keys := range []int{3, 100, 5000} {
		t.Run(fmt.Sprint("keys=", keys), func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(keys)))
			d := &delayState[string]{seed: maphash.MakeSeed()}
			model := map[string]int64{}
			check := func() {
				t.Helper()
				if d.heap.n != len(model) {
					t.Fatalf("heap holds %d items, want %d", d.heap.n, len(model))
				}
				used := 0
				for i, p := range d.index {
					if p == 0 {
						continue
					}
					used++
					n := d.heap.get(int(p - 1))
					if n.slot != uint32(i) {
						t.Fatalf("node %q says slot %d, index has it at %d", n.item, n.slot, i)
					}
					if at, ok := model[n.item]; !ok || at != n.at {
						t.Fatalf("node %q at %d, model says %d (present %v)", n.item, n.at, at, ok)
					}
				}
				if used != len(model) {
					t.Fatalf("index holds %d items, want %d", used, len(model))
				}
				for p := 1; p < d.heap.n; p++ {
					if d.heap.get((p-1)/2).at > d.heap.get(p).at {
						t.Fatalf("heap order broken at %d", p)
					}
				}
			}
			for step := range 20000 {
				grow := step%8000 < 5000
				if len(model) > 0 && (rng.Intn(3) == 0 || !grow) {
					want := int64(1 << 62)
					for _, at := range model {
						want = min(want, at)
					}
					item := d.popHead()
					if model[item] != want {
						t.Fatalf("popped %q at %d, earliest is %d", item, model[item], want)
					}
					delete(model, item)
				} else {
					item := fmt.Sprint("k", rng.Intn(keys))
					at := rng.Int63n(1000)
					pos := d.insert(item, at)
					if prev, ok := model[item]; ok && prev <= at {
						if pos != -1 {
							t.Fatalf("insert of %q at %d over %d moved it to %d", item, at, prev, pos)
						}
					} else {
						model[item] = at
						if pos < 0 || d.heap.get(pos).item != item {
							t.Fatalf("insert of %q reports position %d", item, pos)
						}
					}
				}
				if step%97 == 0 || keys < 200 {
					check()
				}
			}
			check()
		})
	}
}
