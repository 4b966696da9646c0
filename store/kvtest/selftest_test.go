package kvtest_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/kvtest"
	"github.com/governor-io/governor/store/mvcc"
)

// The suite must fail on an engine that breaks the contract. Each broken
// engine below is the memory engine with one rule broken; the suite runs
// against it in a child process (Run needs a real *testing.T, whose
// failure would fail this test too), and the child must fail.

// brokenEngines maps a name to a wrapper that breaks one rule.
var brokenEngines = map[string]func(*mvcc.Engine) kv.KV{
	// Range ignores the revision it is asked to read at.
	"range-ignores-revision": func(e *mvcc.Engine) kv.KV {
		return rangeLatest{e}
	},
	// Txn ignores its compares: every transaction succeeds.
	"txn-ignores-compares": func(e *mvcc.Engine) kv.KV {
		return noCompares{e}
	},
	// Watch loses the second event of every stream.
	"watch-drops-an-event": func(e *mvcc.Engine) kv.KV {
		return dropEvent{e}
	},
	// Compact does nothing and reports success.
	"compact-is-a-no-op": func(e *mvcc.Engine) kv.KV {
		return noCompact{e}
	},
	// Watch strips PrevKV even when asked for it.
	"watch-drops-prevkv": func(e *mvcc.Engine) kv.KV {
		return noPrevKV{e}
	},
	// Every watch gets progress notifications, asked for or not.
	"progress-to-every-watch": func(e *mvcc.Engine) kv.KV {
		return progressToAll{e}
	},
	// A compare on a deleted key sees the key's last value.
	"compare-sees-deleted-key": func(e *mvcc.Engine) kv.KV {
		return &ghostCompares{Engine: e, ghosts: map[string]kv.KeyValue{}}
	},
	// Each delete of a txn counts the keys as they were before the txn.
	"deletes-count-from-txn-start": func(e *mvcc.Engine) kv.KV {
		return preTxnDeletes{e}
	},
	// A watch behind a compaction skips the compacted revisions silently.
	"watch-skips-compacted-history": func(e *mvcc.Engine) kv.KV {
		return skipCompacted{e, new(atomic.Int64)}
	},
	// Range, Txn, Compact and RequestProgress ignore a cancelled context.
	"ignores-cancelled-context": func(e *mvcc.Engine) kv.KV {
		return ignoreCancel{e}
	},
	// A range with a limit reads the current revision, whatever it asks.
	"limited-range-reads-latest": func(e *mvcc.Engine) kv.KV {
		return limitLatest{e}
	},
	// A watch from a future revision starts at the next revision.
	"future-watch-starts-now": func(e *mvcc.Engine) kv.KV {
		return futureNow{e}
	},
}

type progressToAll struct{ *mvcc.Engine }

func (p progressToAll) Watch(ctx context.Context, req kv.WatchRequest) (<-chan kv.WatchResponse, error) {
	req.ProgressNotify = true
	return p.Engine.Watch(ctx, req)
}

// ghostCompares remembers the last value of each key it deletes, and
// evaluates a compare on a key that is now absent against that value.
type ghostCompares struct {
	*mvcc.Engine
	mu     sync.Mutex
	ghosts map[string]kv.KeyValue
}

func (g *ghostCompares) Txn(ctx context.Context, req kv.TxnRequest) (*kv.TxnResponse, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	req.Compare = slices.Clone(req.Compare)
	for i, c := range req.Compare {
		ghost, ok := g.ghosts[c.Key]
		if cur, _, _ := kv.Get(ctx, g.Engine, c.Key); !ok || cur != nil {
			continue
		}
		// Replace it with a compare on the absent key that holds, or
		// not, as the compare did on the ghost.
		r := kv.NotEqual
		if ghostHolds(&ghost, &c) {
			r = kv.Equal
		}
		req.Compare[i] = kv.Compare{Key: c.Key, Target: kv.CompareVersion, Result: r}
	}
	wantPrev := func(ops []kv.Op) ([]kv.Op, []bool) {
		ops = slices.Clone(ops)
		asked := make([]bool, len(ops))
		for i := range ops {
			asked[i] = ops[i].PrevKV
			if ops[i].Type == kv.OpDelete {
				ops[i].PrevKV = true
			}
		}
		return ops, asked
	}
	var askedS, askedF []bool
	req.Success, askedS = wantPrev(req.Success)
	req.Failure, askedF = wantPrev(req.Failure)
	resp, err := g.Engine.Txn(ctx, req)
	if err != nil {
		return nil, err
	}
	asked := askedF
	if resp.Succeeded {
		asked = askedS
	}
	for i, r := range resp.Responses {
		if d := r.Delete; d != nil {
			for _, p := range d.PrevKVs {
				g.ghosts[p.Key] = p
			}
			if !asked[i] {
				d.PrevKVs = nil
			}
		}
	}
	return resp, nil
}

func ghostHolds(kvv *kv.KeyValue, c *kv.Compare) bool {
	var cmp int
	switch c.Target {
	case kv.CompareValue:
		cmp = bytes.Compare(kvv.Value, c.Value)
	case kv.CompareVersion:
		cmp = cmpInt(kvv.Version, c.Int)
	case kv.CompareCreateRevision:
		cmp = cmpInt(kvv.CreateRevision, c.Int)
	default:
		cmp = cmpInt(kvv.ModRevision, c.Int)
	}
	switch c.Result {
	case kv.Equal:
		return cmp == 0
	case kv.NotEqual:
		return cmp != 0
	case kv.Less:
		return cmp < 0
	default:
		return cmp > 0
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type preTxnDeletes struct{ *mvcc.Engine }

func (d preTxnDeletes) Txn(ctx context.Context, req kv.TxnRequest) (*kv.TxnResponse, error) {
	before := d.Engine.Revision()
	resp, err := d.Engine.Txn(ctx, req)
	if err != nil || resp.Revision == before {
		return resp, err
	}
	for i := range resp.Responses {
		if del := resp.Responses[i].Delete; del != nil {
			op := req.Success[i]
			if !resp.Succeeded {
				op = req.Failure[i]
			}
			if r, err := d.Engine.Range(ctx, kv.RangeRequest{Key: op.Key, End: op.End, Revision: before, CountOnly: true}); err == nil {
				del.Deleted = r.Count
			}
		}
	}
	return resp, nil
}

// skipCompacted relays watches one revision per response, and drops the
// revisions that were compacted after the engine read them.
type skipCompacted struct {
	*mvcc.Engine
	compacted *atomic.Int64
}

func (s skipCompacted) Compact(ctx context.Context, rev int64) error {
	err := s.Engine.Compact(ctx, rev)
	if err == nil {
		s.compacted.Store(rev)
	}
	return err
}

func (s skipCompacted) Watch(ctx context.Context, req kv.WatchRequest) (<-chan kv.WatchResponse, error) {
	in, err := s.Engine.Watch(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make(chan kv.WatchResponse)
	go func() {
		defer close(out)
		for resp := range in {
			var parts []kv.WatchResponse
			for _, ev := range resp.Events {
				r := ev.KV.ModRevision
				if n := len(parts); n > 0 && parts[n-1].Revision == r {
					parts[n-1].Events = append(parts[n-1].Events, ev)
				} else {
					parts = append(parts, kv.WatchResponse{Events: []kv.Event{ev}, Revision: r})
				}
			}
			if len(resp.Events) == 0 {
				parts = append(parts, resp)
			}
			for _, part := range parts {
				if len(part.Events) > 0 && part.Revision <= s.compacted.Load() {
					continue
				}
				select {
				case out <- part:
				case <-ctx.Done():
					for range in {
					}
					return
				}
			}
		}
	}()
	return out, nil
}

type ignoreCancel struct{ *mvcc.Engine }

func (i ignoreCancel) Range(ctx context.Context, req kv.RangeRequest) (*kv.RangeResponse, error) {
	return i.Engine.Range(context.WithoutCancel(ctx), req)
}

func (i ignoreCancel) Txn(ctx context.Context, req kv.TxnRequest) (*kv.TxnResponse, error) {
	return i.Engine.Txn(context.WithoutCancel(ctx), req)
}

func (i ignoreCancel) Compact(ctx context.Context, rev int64) error {
	return i.Engine.Compact(context.WithoutCancel(ctx), rev)
}

func (i ignoreCancel) RequestProgress(ctx context.Context) error {
	return i.Engine.RequestProgress(context.WithoutCancel(ctx))
}

type limitLatest struct{ *mvcc.Engine }

func (l limitLatest) Range(ctx context.Context, req kv.RangeRequest) (*kv.RangeResponse, error) {
	if req.Limit > 0 {
		req.Revision = 0
	}
	return l.Engine.Range(ctx, req)
}

type futureNow struct{ *mvcc.Engine }

func (f futureNow) Watch(ctx context.Context, req kv.WatchRequest) (<-chan kv.WatchResponse, error) {
	if req.StartRevision > f.Engine.Revision() {
		req.StartRevision = 0
	}
	return f.Engine.Watch(ctx, req)
}

type rangeLatest struct{ *mvcc.Engine }

func (r rangeLatest) Range(ctx context.Context, req kv.RangeRequest) (*kv.RangeResponse, error) {
	req.Revision = 0
	return r.Engine.Range(ctx, req)
}

type noCompares struct{ *mvcc.Engine }

func (n noCompares) Txn(ctx context.Context, req kv.TxnRequest) (*kv.TxnResponse, error) {
	req.Compare = nil
	return n.Engine.Txn(ctx, req)
}

type noCompact struct{ *mvcc.Engine }

func (noCompact) Compact(ctx context.Context, rev int64) error { return ctx.Err() }

type dropEvent struct{ *mvcc.Engine }

func (d dropEvent) Watch(ctx context.Context, req kv.WatchRequest) (<-chan kv.WatchResponse, error) {
	return relay(ctx, d.Engine, req, func(n int, ev kv.Event) (kv.Event, bool) { return ev, n != 1 })
}

type noPrevKV struct{ *mvcc.Engine }

func (p noPrevKV) Watch(ctx context.Context, req kv.WatchRequest) (<-chan kv.WatchResponse, error) {
	return relay(ctx, p.Engine, req, func(_ int, ev kv.Event) (kv.Event, bool) {
		ev.PrevKV = nil
		return ev, true
	})
}

// relay forwards e's watch through edit, which sees each event with its
// index in the stream and says whether to keep it.
func relay(ctx context.Context, e *mvcc.Engine, req kv.WatchRequest, edit func(int, kv.Event) (kv.Event, bool)) (<-chan kv.WatchResponse, error) {
	in, err := e.Watch(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make(chan kv.WatchResponse, 16)
	go func() {
		defer close(out)
		n := 0
		for resp := range in {
			var evs []kv.Event
			for _, ev := range resp.Events {
				if ev, keep := edit(n, ev); keep {
					evs = append(evs, ev)
				}
				n++
			}
			if len(resp.Events) > 0 && len(evs) == 0 {
				continue
			}
			resp.Events = evs
			select {
			case out <- resp:
			case <-ctx.Done():
				for range in {
				}
				return
			}
		}
	}()
	return out, nil
}

const brokenEnv = "KVTEST_BROKEN_ENGINE"

// TestBrokenEngine runs the suite against the broken engine its
// environment names; it is the child process of
// TestSuiteCatchesBrokenEngines and skips otherwise.
func TestBrokenEngine(t *testing.T) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		t.Skip("runs only as the child of TestSuiteCatchesBrokenEngines")
	}
	wrap := brokenEngines[name]
	if wrap == nil {
		t.Fatalf("unknown broken engine %q", name)
	}
	kvtest.RunWithOptions(t, func(t *testing.T) kv.KV {
		e := mvcc.New(mvcc.Options{})
		t.Cleanup(func() { e.Close() })
		return wrap(e)
	}, kvtest.Options{Timeout: 2 * time.Second}) // a missing event fails in 2 s rather than 20
}

func TestSuiteCatchesBrokenEngines(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip("child process")
	}
	for name := range brokenEngines {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run", "^TestBrokenEngine$", "-test.count", "1")
			cmd.Env = append(os.Environ(), brokenEnv+"="+name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed an engine whose %s:\n%s", name, out)
			}
			if !strings.Contains(string(out), "--- FAIL: TestBrokenEngine/") {
				t.Fatalf("the child failed, but not in a subtest of the suite (%v):\n%s", err, out)
			}
			t.Logf("caught: %s", firstFailures(string(out)))
		})
	}
}

// firstFailures returns the names of the suite's failed subtests.
func firstFailures(out string) string {
	var names []string
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		if name, ok := strings.CutPrefix(line, "--- FAIL: TestBrokenEngine/"); ok {
			names = append(names, strings.Fields(name)[0])
		}
	}
	return strings.Join(names, ", ")
}
