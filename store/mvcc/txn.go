package mvcc

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/governor-io/governor/store/kv"
)

// validateTxn checks a transaction before anything is applied, so that an
// applied transaction never fails half way.
func (e *Engine) validateTxn(req *kv.TxnRequest) error {
	max := e.opts.MaxTxnOps
	if len(req.Compare) > max || len(req.Success) > max || len(req.Failure) > max {
		return fmt.Errorf("mvcc: txn with more than %d compares or ops: %w", max, kv.ErrTooManyOps)
	}
	for i := range req.Compare {
		c := &req.Compare[i]
		if c.Key == "" {
			return fmt.Errorf("mvcc: txn compare %d: %w", i, kv.ErrEmptyKey)
		}
		if c.Target < kv.CompareVersion || c.Target > kv.CompareValue || c.Result < kv.Equal || c.Result > kv.Greater {
			return fmt.Errorf("mvcc: txn compare %d: unknown target or result: %w", i, kv.ErrInvalidRequest)
		}
	}
	if err := validateOps(req.Success); err != nil {
		return err
	}
	return validateOps(req.Failure)
}

func validateOps(ops []kv.Op) error {
	var puts []string
	type span struct{ key, end string }
	var dels []span
	for i := range ops {
		op := &ops[i]
		if op.Key == "" {
			return fmt.Errorf("mvcc: txn op %d: %w", i, kv.ErrEmptyKey)
		}
		switch op.Type {
		case kv.OpRange:
			if op.Limit < 0 {
				return fmt.Errorf("mvcc: txn op %d: negative limit: %w", i, kv.ErrInvalidRequest)
			}
		case kv.OpPut:
			puts = append(puts, op.Key)
		case kv.OpDelete:
			dels = append(dels, span{op.Key, op.End})
		default:
			return fmt.Errorf("mvcc: txn op %d: unknown op type %d: %w", i, op.Type, kv.ErrInvalidRequest)
		}
	}
	if len(puts) > 1 {
		sorted := slices.Clone(puts)
		slices.Sort(sorted)
		for i := 1; i < len(sorted); i++ {
			if sorted[i] == sorted[i-1] {
				return fmt.Errorf("mvcc: txn puts %q twice: %w", sorted[i], kv.ErrDuplicateKey)
			}
		}
	}
	for _, p := range puts {
		for _, d := range dels {
			if kv.InRange(p, d.key, d.end) {
				return fmt.Errorf("mvcc: txn puts %q and deletes it: %w", p, kv.ErrDuplicateKey)
			}
		}
	}
	return nil
}

// change is one key written by a transaction, kept to build watch events.
type change struct {
	ki      *keyIndex
	deleted bool
	prev    entry
	hasPrev bool
}

// Txn implements [kv.KV.Txn]. The ops of the branch that runs are applied
// in order at the next revision, so that later ops see earlier writes; the
// revision moves only if something was written.
func (e *Engine) Txn(ctx context.Context, req kv.TxnRequest) (*kv.TxnResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := e.validateTxn(&req); err != nil {
		return nil, err
	}
	// Everything that can be prepared without the lock is: the copies of
	// the values to store (for the success branch, the likely one), the
	// response, and the change list for watchers.
	var valueBuf [4][]byte
	values := cloneValues(req.Success, valueBuf[:0])
	var (
		resp  *kv.TxnResponse
		spare *kv.PutResponse // for the put of a one-op transaction
	)
	if nops := max(len(req.Success), len(req.Failure)); nops <= 1 {
		one := new(txnOfOne)
		resp, spare = &one.resp, &one.put
		resp.Responses = one.op[:nops]
	} else {
		resp = &kv.TxnResponse{Responses: make([]kv.OpResponse, nops)}
	}
	var changeBuf [1]change
	changes := changeBuf[:0]
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, kv.ErrClosed
	}
	succeeded := true
	for i := range req.Compare {
		if !e.compareHolds(&req.Compare[i]) {
			succeeded = false
			break
		}
	}
	ops := req.Success
	if !succeeded {
		ops = req.Failure
		values = cloneValues(ops, values[:0])
	}
	resp.Succeeded = succeeded
	resp.Responses = resp.Responses[:len(ops)]
	rev := e.rev + 1
	record := e.hub.recording()
	wrote := false
	var puts, deletes, ranges int
	nput := 0
	for i := range ops {
		op := &ops[i]
		switch op.Type {
		case kv.OpRange:
			// Reading at rev sees this transaction's earlier writes.
			resp.Responses[i].Range = e.rangeLocked(op.Key, op.End, rev, op.Limit, op.CountOnly, op.KeysOnly)
			ranges++
		case kv.OpPut:
			puts++
			ki := e.getOrCreate(op.Key)
			pr := spare
			if pr == nil {
				pr = &kv.PutResponse{}
			}
			prev := ki.latest()
			if prev != nil && op.PrevKV {
				p := ki.keyValue(prev, false)
				pr.PrevKV = &p
			}
			if record {
				c := change{ki: ki}
				if prev != nil {
					c.prev, c.hasPrev = *prev, true
				}
				changes = append(changes, c)
			}
			value := values[nput]
			nput++
			if prev == nil {
				e.liveKeys++
			}
			e.size += entryOverhead + int64(len(value))
			ki.put(rev, value)
			wrote = true
			resp.Responses[i].Put = pr
		case kv.OpDelete:
			dr := &kv.DeleteResponse{}
			e.ascend(op.Key, op.End, func(ki *keyIndex) bool {
				prev := ki.latest()
				if prev == nil {
					return true
				}
				if op.PrevKV {
					dr.PrevKVs = append(dr.PrevKVs, ki.keyValue(prev, false))
				}
				if record {
					changes = append(changes, change{ki: ki, deleted: true, prev: *prev, hasPrev: true})
				}
				ki.del(rev)
				e.size += entryOverhead
				e.liveKeys--
				dr.Deleted++
				return true
			})
			deletes++
			if dr.Deleted > 0 {
				wrote = true
			}
			resp.Responses[i].Delete = dr
		}
	}
	if wrote {
		e.rev = rev
		if record {
			e.hub.publish(rev, changes)
		}
		e.maybeAutoCompactLocked()
	}
	resp.Revision = e.rev
	e.mu.Unlock()
	for i := range resp.Responses {
		if r := resp.Responses[i].Range; r != nil {
			r.Revision = resp.Revision
		}
	}
	if m := e.metrics; m != nil {
		m.puts.Add(float64(puts))
		m.deletes.Add(float64(deletes))
		m.ranges.Add(float64(ranges))
		if len(req.Compare) > 0 || len(ops) > 1 {
			m.txns.Inc()
		}
		if puts > 0 {
			var n int
			for i := range ops {
				if ops[i].Type == kv.OpPut {
					n += len(ops[i].Key) + len(ops[i].Value)
				}
			}
			m.putBytes.Add(float64(n))
		}
	}
	return resp, nil
}

// txnOfOne is the response of a transaction of at most one op, in one
// allocation.
type txnOfOne struct {
	resp kv.TxnResponse
	op   [1]kv.OpResponse
	put  kv.PutResponse
}

// cloneValues appends to dst a copy of the value of each put in ops, in
// order; an empty value is stored as nil.
func cloneValues(ops []kv.Op, dst [][]byte) [][]byte {
	for i := range ops {
		if ops[i].Type != kv.OpPut {
			continue
		}
		var v []byte
		if len(ops[i].Value) > 0 {
			v = slices.Clone(ops[i].Value)
		}
		dst = append(dst, v)
	}
	return dst
}

// getOrCreate returns the index of key, adding an empty one if needed.
// The caller holds mu.Lock.
func (e *Engine) getOrCreate(key string) *keyIndex {
	e.pivot.key = key
	if ki, ok := e.tree.Get(&e.pivot); ok {
		return ki
	}
	ki := &keyIndex{key: strings.Clone(key)}
	e.tree.ReplaceOrInsert(ki)
	e.size += keyOverhead + int64(len(ki.key))
	return ki
}
