package raft_test

import (
	"fmt"
	"strconv"

	"github.com/anishathalye/porcupine"

	"github.com/governor-io/governor/store/kv"
)

// The porcupine model of the fault tests: keys come in groups of two,
// and an operation reads or writes the keys of one group, so the history
// is checked group by group. Operations are those the typed Store is
// built from: a read of the group, put, delete, compare-and-swap on a
// key's mod revision or on its value, and a transaction that writes both
// keys of the group if key 0 is unchanged. Every value written is unique,
// so a value names the write that made it.

const (
	linGroups  = 3
	linKeysPer = 2
)

func linPrefix(group int) string   { return fmt.Sprintf("%sg%d/", watchPrefix, group) }
func linKey(group, key int) string { return fmt.Sprintf("%sk%d", linPrefix(group), key) }
func linValue(v int) []byte        { return []byte(strconv.Itoa(v)) }
func linGroupRange(group int) kv.Op {
	return kv.OpGetRange(linPrefix(group), kv.PrefixEnd(linPrefix(group)))
}

type linKind int

const (
	linGet      linKind = iota // read the whole group
	linPut                     // put key = value
	linDelete                  // delete key
	linCASRev                  // if key's mod revision is rev, put key = value
	linCASValue                // if key's value is expect, put key = value
	linTxn                     // if key 0's mod revision is rev, put key 0 = value and put key 1 = value2 (or delete it when value2 is 0)
)

func (k linKind) String() string {
	return [...]string{"get", "put", "delete", "cas-rev", "cas-value", "txn"}[k]
}

// linInput is one operation on group.
type linInput struct {
	kind   linKind
	group  int
	key    int
	value  int   // the value put
	value2 int   // txn: the value put to key 1; 0 deletes it
	rev    int64 // cas-rev, txn: the mod revision compared (0: absent)
	expect int   // cas-value: the value compared
}

// linObs is what a read saw of one key.
type linObs struct {
	present bool
	value   int
	modRev  int64
}

// linOutput is the outcome of an operation.
type linOutput struct {
	unknown   bool  // a write whose outcome is unknown
	succeeded bool  // the compares held (a write without compares always succeeds)
	rev       int64 // the revision of a successful write
	deleted   int64 // a delete: the keys it deleted
	reads     [linKeysPer]linObs
	hasReads  bool // reads is set: a get, or the else branch of a failed compare
}

// linKeyState is the model's view of one key; modRev is -1 while unknown
// (after a write whose outcome was unknown, until a read tells it).
type linKeyState struct {
	present bool
	value   int
	modRev  int64
}

// linState is the state of one group.
type linState [linKeysPer]linKeyState

// linStep returns the states the group can be in after in returned out,
// or none if it cannot have.
func linStep(s linState, in linInput, out linOutput) []linState {
	newRev := int64(-1)
	if !out.unknown {
		newRev = out.rev
	}
	put := func(s linState, key, v int) linState {
		s[key] = linKeyState{present: true, value: v, modRev: newRev}
		return s
	}
	// learn checks the reads against s and fills in mod revisions s did
	// not know.
	learn := func(s linState) (linState, bool) {
		if !out.hasReads {
			return s, false
		}
		for i, o := range out.reads {
			k := s[i]
			if o.present != k.present {
				return s, false
			}
			if !o.present {
				continue
			}
			if o.value != k.value {
				return s, false
			}
			if k.modRev < 0 {
				s[i].modRev = o.modRev
			} else if k.modRev != o.modRev {
				return s, false
			}
		}
		return s, true
	}
	switch in.kind {
	case linGet:
		if s2, ok := learn(s); ok {
			return []linState{s2}
		}
		return nil
	case linPut:
		return []linState{put(s, in.key, in.value)}
	case linDelete:
		had := int64(0)
		if s[in.key].present {
			had = 1
		}
		if !out.unknown && out.deleted != had {
			return nil
		}
		s[in.key] = linKeyState{}
		return []linState{s}
	}
	// A conditional write.
	apply := func(s linState) linState {
		s = put(s, in.key, in.value)
		if in.kind == linTxn {
			if in.value2 == 0 {
				s[1] = linKeyState{}
			} else {
				s = put(s, 1, in.value2)
			}
		}
		return s
	}
	k := s[in.key]
	holds, known := false, true
	switch {
	case in.kind == linCASValue:
		holds = k.present && k.value == in.expect
	case !k.present:
		holds = in.rev == 0
	case k.modRev >= 0:
		holds = k.modRev == in.rev
	default:
		known = false
	}
	switch {
	case out.unknown && known && holds:
		return []linState{apply(s)}
	case out.unknown && known:
		return []linState{s}
	case out.unknown:
		return []linState{s, apply(s)}
	case known && holds != out.succeeded:
		return nil
	case out.succeeded:
		return []linState{apply(s)}
	}
	s2, ok := learn(s)
	if !ok || (!known && s2[in.key].modRev == in.rev) {
		return nil
	}
	return []linState{s2}
}

var linModel = (&porcupine.NondeterministicModel{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		var out [linGroups][]porcupine.Operation
		for _, op := range h {
			g := op.Input.(linInput).group
			out[g] = append(out[g], op)
		}
		return out[:]
	},
	Init: func() []any { return []any{linState{}} },
	Step: func(state, input, output any) []any {
		next := linStep(state.(linState), input.(linInput), output.(linOutput))
		out := make([]any, len(next))
		for i, s := range next {
			out[i] = s
		}
		return out
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(linInput), output.(linOutput)
		var s string
		switch in.kind {
		case linGet:
			s = fmt.Sprintf("get(g%d)", in.group)
		case linPut:
			s = fmt.Sprintf("put(g%d/k%d, %d)", in.group, in.key, in.value)
		case linDelete:
			s = fmt.Sprintf("delete(g%d/k%d)", in.group, in.key)
		case linCASRev:
			s = fmt.Sprintf("if rev(g%d/k%d)=%d put %d", in.group, in.key, in.rev, in.value)
		case linCASValue:
			s = fmt.Sprintf("if value(g%d/k%d)=%d put %d", in.group, in.key, in.expect, in.value)
		case linTxn:
			s = fmt.Sprintf("if rev(g%d/k0)=%d put k0=%d, k1=%d", in.group, in.rev, in.value, in.value2)
		}
		switch {
		case out.unknown:
			return s + " -> unknown"
		case out.hasReads:
			return fmt.Sprintf("%s -> ok=%v %+v", s, out.succeeded, out.reads)
		default:
			return fmt.Sprintf("%s -> ok=%v rev=%d deleted=%d", s, out.succeeded, out.rev, out.deleted)
		}
	},
}).ToModel()

// linReads turns the keys a range of a group returned into observations.
func linReads(group int, kvs []kv.KeyValue) [linKeysPer]linObs {
	var out [linKeysPer]linObs
	for _, e := range kvs {
		for i := range linKeysPer {
			if e.Key == linKey(group, i) {
				v, _ := strconv.Atoi(string(e.Value))
				out[i] = linObs{present: true, value: v, modRev: e.ModRevision}
			}
		}
	}
	return out
}

// linRequest is the transaction that carries a write, with a read of the
// group as its else branch.
func linRequest(in linInput) kv.TxnRequest {
	key := linKey(in.group, in.key)
	var req kv.TxnRequest
	switch in.kind {
	case linPut:
		req.Success = []kv.Op{kv.OpPutKV(key, linValue(in.value))}
	case linDelete:
		req.Success = []kv.Op{kv.OpDeleteKey(key)}
	case linCASRev:
		req.Compare = []kv.Compare{{Key: key, Target: kv.CompareModRevision, Result: kv.Equal, Int: in.rev}}
		req.Success = []kv.Op{kv.OpPutKV(key, linValue(in.value))}
	case linCASValue:
		req.Compare = []kv.Compare{{Key: key, Target: kv.CompareValue, Result: kv.Equal, Value: linValue(in.expect)}}
		req.Success = []kv.Op{kv.OpPutKV(key, linValue(in.value))}
	case linTxn:
		k0, k1 := linKey(in.group, 0), linKey(in.group, 1)
		req.Compare = []kv.Compare{{Key: k0, Target: kv.CompareModRevision, Result: kv.Equal, Int: in.rev}}
		req.Success = []kv.Op{kv.OpPutKV(k0, linValue(in.value))}
		if in.value2 == 0 {
			req.Success = append(req.Success, kv.OpDeleteKey(k1))
		} else {
			req.Success = append(req.Success, kv.OpPutKV(k1, linValue(in.value2)))
		}
	}
	if len(req.Compare) > 0 {
		req.Failure = []kv.Op{linGroupRange(in.group)}
	}
	return req
}

// linResult turns a transaction's response into the model's output.
func linResult(in linInput, resp *kv.TxnResponse) linOutput {
	out := linOutput{succeeded: resp.Succeeded, rev: resp.Revision}
	if in.kind == linDelete && len(resp.Responses) == 1 && resp.Responses[0].Delete != nil {
		out.deleted = resp.Responses[0].Delete.Deleted
	}
	if !resp.Succeeded && len(resp.Responses) == 1 && resp.Responses[0].Range != nil {
		out.reads, out.hasReads = linReads(in.group, resp.Responses[0].Range.KVs), true
	}
	return out
}
