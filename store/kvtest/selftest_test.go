package kvtest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

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
	kvtest.Timeout = 2e9 // a missing event fails in 2 s rather than 20
	kvtest.Run(t, func(t *testing.T) kv.KV {
		e := mvcc.New(mvcc.Options{})
		t.Cleanup(func() { e.Close() })
		return wrap(e)
	})
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
