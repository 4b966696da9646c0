package kvtest

import (
	"context"
	"errors"

	"github.com/governor-io/governor/store/kv"
)

func contextCases() []testCase {
	return []testCase{
		{"CancelledContextFailsEveryCall", testCancelled},
	}
}

// testCancelled calls each method that takes a context with one already
// cancelled: each fails with an error that wraps context.Canceled, and
// nothing is written.
func testCancelled(t *caseT, k kv.KV) {
	a := key(t, "a")
	r1 := put(t, k, a, "1")
	put(t, k, a, "2")
	before := currentRevision(t, k)
	ctx, cancel := context.WithCancel(testContext(t))
	cancel()
	canceled := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: got %v, want an error wrapping context.Canceled", what, err)
		}
	}
	_, err := k.Range(ctx, kv.RangeRequest{Key: a})
	canceled("Range", err)
	_, err = k.Txn(ctx, kv.TxnRequest{Success: []kv.Op{kv.OpPutKV(a, []byte("lost"))}})
	canceled("Txn", err)
	canceled("Compact", k.Compact(ctx, before))
	canceled("RequestProgress", k.RequestProgress(ctx))
	ch, err := k.Watch(ctx, kv.WatchRequest{Key: a, StartRevision: r1})
	if err != nil {
		canceled("Watch", err)
	} else {
		// An engine may return the channel and close it at once.
		s := &stream{t: t, ch: ch, cancel: func() {}}
		for {
			resp, ok := s.next()
			if !ok {
				break
			}
			if len(resp.Events) > 0 {
				t.Errorf("Watch with a cancelled context delivered %d events", len(resp.Events))
			}
			if resp.Err != nil {
				canceled("Watch", resp.Err)
			}
		}
	}

	if got := currentRevision(t, k); got != before {
		t.Fatalf("calls with a cancelled context moved the revision from %d to %d", before, got)
	}
	if got := get(t, k, a); got == nil || string(got.Value) != "2" {
		t.Fatalf("a Txn with a cancelled context wrote %s", fmtKV(got))
	}
	// The compaction did not happen: the first revision reads.
	rangeReq(t, k, kv.RangeRequest{Key: a, Revision: r1})
}
