package raft_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
)

// brokenKV is an engine with one defect, for the model's self-test.
type brokenKV struct {
	kv.KV
	defect string
}

func (b *brokenKV) Txn(ctx context.Context, req kv.TxnRequest) (*kv.TxnResponse, error) {
	switch b.defect {
	case "ignores compares":
		req.Compare = nil
	case "half a transaction":
		if len(req.Success) > 1 {
			req.Success = req.Success[:1]
		}
	case "deletes nothing":
		for i, op := range req.Success {
			if op.Type == kv.OpDelete {
				req.Success[i] = kv.OpGet(op.Key)
				resp, err := b.KV.Txn(ctx, req)
				if err == nil && resp.Succeeded {
					resp.Responses[i] = kv.OpResponse{Delete: &kv.DeleteResponse{Deleted: int64(len(resp.Responses[i].Range.KVs))}}
				}
				return resp, err
			}
		}
	}
	return b.KV.Txn(ctx, req)
}

func (b *brokenKV) Range(ctx context.Context, req kv.RangeRequest) (*kv.RangeResponse, error) {
	if b.defect == "stale reads" {
		// Read as of a few writes ago.
		cur, err := b.KV.Range(ctx, kv.RangeRequest{Key: "/", CountOnly: true})
		if err != nil {
			return nil, err
		}
		req.Revision = max(1, cur.Revision-3)
	}
	return b.KV.Range(ctx, req)
}

// runModelWorkload runs the fault test's clients against target with no
// faults and returns the history.
func runModelWorkload(t *testing.T, target kv.KV, seed uint64) []porcupine.Operation {
	t.Helper()
	ctx := ctxFor(t, time.Minute)
	h := &history{}
	var next atomic.Int64
	var wg sync.WaitGroup
	for ci := range 4 {
		cl := newLinClient(ci, seed, h, &next)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				cl.op(ctx, target)
			}
		}()
	}
	wg.Wait()
	return h.ops
}

// TestModelCatchesBrokenEngines checks the fault test's model and
// workload: histories of a correct engine pass, and those of an engine
// with any one defect the typed Store would suffer from are rejected.
func TestModelCatchesBrokenEngines(t *testing.T) {
	for _, defect := range []string{"", "ignores compares", "half a transaction", "deletes nothing", "stale reads"} {
		t.Run(defect, func(t *testing.T) {
			e, err := mvcc.Open(mvcc.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			ops := runModelWorkload(t, &brokenKV{KV: e, defect: defect}, 1)
			res := porcupine.CheckOperations(linModel, ops)
			if defect == "" && !res {
				checkLinearizable(t, ops)
			}
			if defect != "" && res {
				t.Fatalf("the history of an engine that %s passed the check", defect)
			}
		})
	}
}
