package kvtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"

	"github.com/governor-io/governor/store/kv"
)

func concurrencyCases() []testCase {
	return []testCase{
		{"ConcurrentCASLosesNoUpdate", testConcurrentCAS},
		{"ConcurrentWatchersSeeEveryRevisionOnce", testConcurrentWatchers},
	}
}

// increment adds one to the counter at key with a compare-and-swap on its
// ModRevision, retrying on conflict. It returns the revision of its write
// and the number of conflicts.
func increment(ctx context.Context, k kv.KV, key string) (int64, int, error) {
	conflicts := 0
	for {
		cur, _, err := kv.Get(ctx, k, key)
		if err != nil {
			return 0, conflicts, err
		}
		n, mod := 0, int64(0)
		if cur != nil {
			if n, err = strconv.Atoi(string(cur.Value)); err != nil {
				return 0, conflicts, err
			}
			mod = cur.ModRevision
		}
		resp, err := k.Txn(ctx, kv.TxnRequest{
			Compare: []kv.Compare{{Key: key, Target: kv.CompareModRevision, Result: kv.Equal, Int: mod}},
			Success: []kv.Op{kv.OpPutKV(key, []byte(strconv.Itoa(n+1)))},
		})
		if err != nil {
			return 0, conflicts, err
		}
		if resp.Succeeded {
			return resp.Revision, conflicts, nil
		}
		conflicts++
	}
}

func testConcurrentCAS(t *caseT, k kv.KV) {
	const workers, perWorker, counters = 4, 40, 2
	p := space(t)
	s := openWatch(t, k, kv.WatchRequest{Key: p, End: kv.PrefixEnd(p)})
	ctx := testContext(t)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		revs []int64
		errs []error
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for range perWorker {
				rev, _, err := increment(ctx, k, p+strconv.Itoa(rng.IntN(counters)))
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					revs = append(revs, rev)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("increments failed: %v", errs)
	}
	total := 0
	for c := range counters {
		if got := get(t, k, p+strconv.Itoa(c)); got != nil {
			n, _ := strconv.Atoi(string(got.Value))
			total += n
		}
	}
	if total != workers*perWorker {
		t.Fatalf("counters sum to %d after %d increments: updates were lost", total, workers*perWorker)
	}
	slices.Sort(revs)
	if len(slices.Compact(slices.Clone(revs))) != len(revs) {
		t.Fatalf("two successful CAS writes share a revision")
	}
	var seen []int64
	for _, e := range s.eventsThrough(revs[len(revs)-1]) {
		seen = append(seen, e.KV.ModRevision)
	}
	if !slices.Equal(seen, revs) {
		t.Fatalf("watcher saw revisions %v, writers wrote %v", seen, revs)
	}
}

func testConcurrentWatchers(t *caseT, k kv.KV) {
	const writers, perWriter, watchers = 4, 50, 6
	p := space(t)
	start := currentRevision(t, k) + 1
	streams := make([]*stream, watchers)
	for i := range streams {
		req := kv.WatchRequest{Key: p, End: kv.PrefixEnd(p), PrevKV: i%2 == 0}
		if i >= watchers/2 {
			req.StartRevision = start // some from history, some live
		}
		if i < watchers/2 {
			streams[i] = openWatch(t, k, req)
		}
	}
	ctx := testContext(t)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		revs []int64
		errs []error
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 2))
			for i := range perWriter {
				key := fmt.Sprintf("%s%d", p, rng.IntN(10))
				var resp *kv.TxnResponse
				var err error
				if rng.IntN(4) == 0 {
					resp, err = k.Txn(ctx, kv.TxnRequest{Success: []kv.Op{kv.OpDeleteKey(key)}})
				} else {
					resp, err = k.Txn(ctx, kv.TxnRequest{Success: []kv.Op{
						kv.OpPutKV(key, []byte(strconv.Itoa(i))),
						kv.OpPutKV(fmt.Sprintf("%s%d/%d", p, w, i), nil),
					}})
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else if resp.Responses[0].Delete == nil || resp.Responses[0].Delete.Deleted > 0 {
					revs = append(revs, resp.Revision)
				}
				mu.Unlock()
			}
		}()
	}
	// Open the rest while the writers run: they replay from start.
	for i := watchers / 2; i < watchers; i++ {
		streams[i] = openWatch(t, k, kv.WatchRequest{Key: p, End: kv.PrefixEnd(p), PrevKV: i%2 == 0, StartRevision: start})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("writes failed: %v", errs)
	}
	slices.Sort(revs)
	for i, s := range streams {
		var seen []int64
		for _, e := range s.eventsThrough(revs[len(revs)-1]) {
			if len(seen) == 0 || seen[len(seen)-1] != e.KV.ModRevision {
				seen = append(seen, e.KV.ModRevision)
			}
		}
		if !slices.Equal(seen, revs) {
			t.Fatalf("watcher %d saw %d revisions, writers wrote %d:\n seen %v\n want %v", i, len(seen), len(revs), seen, revs)
		}
	}
}
