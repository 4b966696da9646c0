package kvtest

import (
	"fmt"
	"strconv"

	"github.com/governor-io/governor/store/kv"
)

func rangeCases() []testCase {
	return []testCase{
		{"PutSetsRevisionsAndVersion", testPutRevisions},
		{"RangeMissingKey", testRangeMissing},
		{"RangePrefixLimitCount", testRangePrefix},
		{"RangeAtPastRevision", testRangePast},
		{"RangeAtRevisionWithLimit", testRangePastLimit},
		{"RangeRejectsBadRequests", testRangeErrors},
		{"PutDoesNotKeepCallerBuffer", testPutCopies},
	}
}

func txnCases() []testCase {
	return []testCase{
		{"TxnWritesOneRevision", testTxnOneRevision},
		{"DeleteResetsVersion", testDeleteResets},
		{"DeleteOfNothingKeepsRevision", testDeleteNothing},
		{"ReadOnlyTxnKeepsRevision", testReadOnlyTxn},
		{"TxnCompares", testTxnCompares},
		{"TxnComparesOnDeletedKey", testTxnComparesDeleted},
		{"TxnOverlappingDeletes", testTxnOverlappingDeletes},
		{"TxnBranches", testTxnBranches},
		{"TxnOpsSeeEarlierWrites", testTxnSeesWrites},
		{"TxnPrevKV", testTxnPrevKV},
		{"TxnRejectsMalformed", testTxnMalformed},
	}
}

func testPutRevisions(t *caseT, k kv.KV) {
	a := key(t, "a")
	r1 := put(t, k, a, "one")
	wantKV(t, "after first put", get(t, k, a), "one", r1, r1, 1)
	r2 := put(t, k, a, "two")
	if r2 != r1+1 {
		t.Fatalf("second put at revision %d, want %d", r2, r1+1)
	}
	wantKV(t, "after second put", get(t, k, a), "two", r1, r2, 2)
	resp := rangeReq(t, k, kv.RangeRequest{Key: a})
	if resp.Revision != r2 {
		t.Fatalf("range read revision %d, want the current %d", resp.Revision, r2)
	}
}

func testRangeMissing(t *caseT, k kv.KV) {
	resp := rangeReq(t, k, kv.RangeRequest{Key: key(t, "missing")})
	if len(resp.KVs) != 0 || resp.Count != 0 || resp.More {
		t.Fatalf("range of a missing key: %+v", resp)
	}
	if got := get(t, k, key(t, "missing")); got != nil {
		t.Fatalf("get of a missing key: %s", fmtKV(got))
	}
}

func testRangePrefix(t *caseT, k kv.KV) {
	p := space(t)
	for _, n := range []string{"c", "a", "e", "b", "d"} {
		put(t, k, p+n, "v"+n)
	}
	put(t, k, p[:len(p)-1]+"0", "outside") // sorts right after the prefix
	end := kv.PrefixEnd(p)

	all := rangeReq(t, k, kv.RangeRequest{Key: p, End: end})
	wantKeys(t, "prefix", all.KVs, p+"a", p+"b", p+"c", p+"d", p+"e")
	if all.Count != 5 || all.More {
		t.Fatalf("prefix: count=%d more=%v, want 5 false", all.Count, all.More)
	}
	if string(all.KVs[2].Value) != "vc" {
		t.Fatalf("prefix: value of c is %q", all.KVs[2].Value)
	}

	lim := rangeReq(t, k, kv.RangeRequest{Key: p, End: end, Limit: 2})
	wantKeys(t, "limit 2", lim.KVs, p+"a", p+"b")
	if lim.Count != 5 || !lim.More {
		t.Fatalf("limit 2: count=%d more=%v, want 5 true", lim.Count, lim.More)
	}
	exact := rangeReq(t, k, kv.RangeRequest{Key: p, End: end, Limit: 5})
	if len(exact.KVs) != 5 || exact.More {
		t.Fatalf("limit 5 of 5: %d keys, more=%v", len(exact.KVs), exact.More)
	}

	cnt := rangeReq(t, k, kv.RangeRequest{Key: p, End: end, CountOnly: true})
	if cnt.Count != 5 || len(cnt.KVs) != 0 {
		t.Fatalf("count only: count=%d kvs=%d", cnt.Count, len(cnt.KVs))
	}

	keys := rangeReq(t, k, kv.RangeRequest{Key: p, End: end, KeysOnly: true})
	wantKeys(t, "keys only", keys.KVs, p+"a", p+"b", p+"c", p+"d", p+"e")
	for _, got := range keys.KVs {
		if len(got.Value) != 0 || got.ModRevision == 0 || got.Version != 1 {
			t.Fatalf("keys only: %s", fmtKV(&got))
		}
	}

	sub := rangeReq(t, k, kv.RangeRequest{Key: p + "b", End: p + "d"})
	wantKeys(t, "[b, d)", sub.KVs, p+"b", p+"c")

	from := rangeReq(t, k, kv.RangeRequest{Key: p + "c", End: "\x00"})
	if len(from.KVs) < 4 {
		t.Fatalf("from key c: only %d keys", len(from.KVs))
	}
	wantKeys(t, "from key c", from.KVs[:4], p+"c", p+"d", p+"e", p[:len(p)-1]+"0")
	for _, got := range from.KVs {
		if got.Key < p+"c" {
			t.Fatalf("from key c: got %q", got.Key)
		}
	}

	empty := rangeReq(t, k, kv.RangeRequest{Key: p + "d", End: p + "b"})
	if len(empty.KVs) != 0 || empty.Count != 0 {
		t.Fatalf("end before key: %d keys", len(empty.KVs))
	}
}

func testRangePast(t *caseT, k kv.KV) {
	a, b := key(t, "a"), key(t, "b")
	r1 := put(t, k, a, "one")
	r2 := put(t, k, a, "two")
	r3 := put(t, k, b, "bee")
	_, r4 := del(t, k, a, "")
	r5 := put(t, k, a, "three")
	p := space(t)
	for _, tc := range []struct {
		rev   int64
		value string // "" means absent
		count int64
	}{
		{r1, "one", 1}, {r2, "two", 1}, {r3, "two", 2}, {r4, "", 1}, {r5, "three", 2},
	} {
		resp := rangeReq(t, k, kv.RangeRequest{Key: a, Revision: tc.rev})
		if resp.Revision != tc.rev {
			t.Fatalf("range at %d read revision %d", tc.rev, resp.Revision)
		}
		switch {
		case tc.value == "" && len(resp.KVs) != 0:
			t.Fatalf("at %d: got %s, want absent", tc.rev, fmtKV(&resp.KVs[0]))
		case tc.value != "" && (len(resp.KVs) != 1 || string(resp.KVs[0].Value) != tc.value):
			t.Fatalf("at %d: got %v, want %q", tc.rev, resp.KVs, tc.value)
		}
		cnt := rangeReq(t, k, kv.RangeRequest{Key: p, End: kv.PrefixEnd(p), Revision: tc.rev, CountOnly: true})
		if cnt.Count != tc.count {
			t.Fatalf("count at %d: %d, want %d", tc.rev, cnt.Count, tc.count)
		}
	}
	wantKV(t, "at r2", &rangeReq(t, k, kv.RangeRequest{Key: a, Revision: r2}).KVs[0], "two", r1, r2, 2)
	wantKV(t, "recreated", get(t, k, a), "three", r5, r5, 1)

	_, err := k.Range(testContext(t), kv.RangeRequest{Key: a, Revision: r5 + 1000})
	wantErr(t, "range at a future revision", err, kv.ErrFutureRevision)
}

func testRangeErrors(t *caseT, k kv.KV) {
	ctx := testContext(t)
	_, err := k.Range(ctx, kv.RangeRequest{})
	wantErr(t, "range without key", err, kv.ErrEmptyKey)
	_, err = k.Range(ctx, kv.RangeRequest{Key: key(t, "a"), Revision: -1})
	wantErr(t, "negative revision", err, kv.ErrInvalidRequest)
	_, err = k.Range(ctx, kv.RangeRequest{Key: key(t, "a"), Limit: -1})
	wantErr(t, "negative limit", err, kv.ErrInvalidRequest)
}

func testPutCopies(t *caseT, k kv.KV) {
	a := key(t, "a")
	buf := []byte("original")
	if _, err := kv.Put(testContext(t), k, a, buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "CHANGED!")
	if got := get(t, k, a); string(got.Value) != "original" {
		t.Fatalf("stored value changed with the caller's buffer: %q", got.Value)
	}
}

func testTxnOneRevision(t *caseT, k kv.KV) {
	a, b, c := key(t, "a"), key(t, "b"), key(t, "c")
	before := currentRevision(t, k)
	resp := txn(t, k, kv.TxnRequest{Success: []kv.Op{
		kv.OpPutKV(a, []byte("1")), kv.OpPutKV(b, []byte("2")), kv.OpPutKV(c, []byte("3")),
	}})
	if !resp.Succeeded || resp.Revision != before+1 {
		t.Fatalf("txn: succeeded=%v revision=%d, want true %d", resp.Succeeded, resp.Revision, before+1)
	}
	if len(resp.Responses) != 3 || resp.Responses[0].Put == nil {
		t.Fatalf("txn responses: %+v", resp.Responses)
	}
	for i, n := range []string{a, b, c} {
		wantKV(t, n, get(t, k, n), strconv.Itoa(i+1), resp.Revision, resp.Revision, 1)
	}
}

func testDeleteResets(t *caseT, k kv.KV) {
	a := key(t, "a")
	r1 := put(t, k, a, "x")
	put(t, k, a, "y")
	n, rd := del(t, k, a, "")
	if n != 1 {
		t.Fatalf("deleted %d, want 1", n)
	}
	if got := get(t, k, a); got != nil {
		t.Fatalf("deleted key still there: %s", fmtKV(got))
	}
	r3 := put(t, k, a, "z")
	if r3 != rd+1 || rd <= r1 {
		t.Fatalf("revisions %d, %d, %d do not grow by one per write", r1, rd, r3)
	}
	wantKV(t, "recreated", get(t, k, a), "z", r3, r3, 1)

	p := space(t)
	put(t, k, p+"b", "1")
	put(t, k, p+"c", "1")
	n, _ = del(t, k, p, kv.PrefixEnd(p))
	if n != 3 {
		t.Fatalf("prefix delete removed %d keys, want 3", n)
	}
}

func testDeleteNothing(t *caseT, k kv.KV) {
	put(t, k, key(t, "present"), "x")
	before := currentRevision(t, k)
	n, rev := del(t, k, key(t, "missing"), "")
	if n != 0 || rev != before {
		t.Fatalf("delete of a missing key: deleted=%d revision=%d, want 0 %d", n, rev, before)
	}
	n, rev = del(t, k, key(t, "m"), key(t, "n"))
	if n != 0 || rev != before {
		t.Fatalf("delete of an empty range: deleted=%d revision=%d, want 0 %d", n, rev, before)
	}
	if after := currentRevision(t, k); after != before {
		t.Fatalf("revision moved from %d to %d", before, after)
	}
}

func testReadOnlyTxn(t *caseT, k kv.KV) {
	a := key(t, "a")
	rev := put(t, k, a, "x")
	resp := txn(t, k, kv.TxnRequest{
		Compare: []kv.Compare{{Key: a, Target: kv.CompareVersion, Result: kv.Equal, Int: 1}},
		Success: []kv.Op{kv.OpGet(a)},
	})
	if !resp.Succeeded || resp.Revision != rev {
		t.Fatalf("read-only txn: succeeded=%v revision=%d, want true %d", resp.Succeeded, resp.Revision, rev)
	}
	rr := resp.Responses[0].Range
	if rr == nil || len(rr.KVs) != 1 || string(rr.KVs[0].Value) != "x" {
		t.Fatalf("read-only txn range: %+v", rr)
	}
}

func testTxnCompares(t *caseT, k kv.KV) {
	a, missing := key(t, "a"), key(t, "missing")
	create := put(t, k, a, "m")
	mod := put(t, k, a, "m") // version 2
	type cmp = kv.Compare
	for _, tc := range []struct {
		name string
		c    cmp
		want bool
	}{
		{"version equal", cmp{Key: a, Target: kv.CompareVersion, Result: kv.Equal, Int: 2}, true},
		{"version equal wrong", cmp{Key: a, Target: kv.CompareVersion, Result: kv.Equal, Int: 1}, false},
		{"version not equal", cmp{Key: a, Target: kv.CompareVersion, Result: kv.NotEqual, Int: 1}, true},
		{"version less", cmp{Key: a, Target: kv.CompareVersion, Result: kv.Less, Int: 3}, true},
		{"version less false", cmp{Key: a, Target: kv.CompareVersion, Result: kv.Less, Int: 2}, false},
		{"version greater", cmp{Key: a, Target: kv.CompareVersion, Result: kv.Greater, Int: 1}, true},
		{"version greater false", cmp{Key: a, Target: kv.CompareVersion, Result: kv.Greater, Int: 2}, false},
		{"create equal", cmp{Key: a, Target: kv.CompareCreateRevision, Result: kv.Equal, Int: create}, true},
		{"create less", cmp{Key: a, Target: kv.CompareCreateRevision, Result: kv.Less, Int: mod}, true},
		{"mod equal", cmp{Key: a, Target: kv.CompareModRevision, Result: kv.Equal, Int: mod}, true},
		{"mod equal stale", cmp{Key: a, Target: kv.CompareModRevision, Result: kv.Equal, Int: create}, false},
		{"mod greater", cmp{Key: a, Target: kv.CompareModRevision, Result: kv.Greater, Int: create}, true},
		{"mod not equal", cmp{Key: a, Target: kv.CompareModRevision, Result: kv.NotEqual, Int: mod}, false},
		{"value equal", cmp{Key: a, Target: kv.CompareValue, Result: kv.Equal, Value: []byte("m")}, true},
		{"value not equal", cmp{Key: a, Target: kv.CompareValue, Result: kv.NotEqual, Value: []byte("m")}, false},
		{"value less", cmp{Key: a, Target: kv.CompareValue, Result: kv.Less, Value: []byte("n")}, true},
		{"value greater", cmp{Key: a, Target: kv.CompareValue, Result: kv.Greater, Value: []byte("l")}, true},
		{"value greater false", cmp{Key: a, Target: kv.CompareValue, Result: kv.Greater, Value: []byte("mm")}, false},
		{"missing version 0", cmp{Key: missing, Target: kv.CompareVersion, Result: kv.Equal, Int: 0}, true},
		{"missing create 0", cmp{Key: missing, Target: kv.CompareCreateRevision, Result: kv.Equal, Int: 0}, true},
		{"missing mod less", cmp{Key: missing, Target: kv.CompareModRevision, Result: kv.Less, Int: 1}, true},
		{"missing value equal fails", cmp{Key: missing, Target: kv.CompareValue, Result: kv.Equal, Value: nil}, false},
		{"missing value not equal fails", cmp{Key: missing, Target: kv.CompareValue, Result: kv.NotEqual, Value: []byte("x")}, false},
	} {
		resp := txn(t, k, kv.TxnRequest{Compare: []kv.Compare{tc.c}})
		if resp.Succeeded != tc.want {
			t.Errorf("%s: succeeded=%v, want %v", tc.name, resp.Succeeded, tc.want)
		}
		if resp.Revision != mod {
			t.Errorf("%s: a txn without ops moved the revision to %d", tc.name, resp.Revision)
		}
	}
	// All compares must hold.
	resp := txn(t, k, kv.TxnRequest{Compare: []kv.Compare{
		{Key: a, Target: kv.CompareVersion, Result: kv.Equal, Int: 2},
		{Key: a, Target: kv.CompareVersion, Result: kv.Equal, Int: 3},
	}})
	if resp.Succeeded {
		t.Error("a txn with one false compare succeeded")
	}
}

func testTxnBranches(t *caseT, k kv.KV) {
	a, b := key(t, "a"), key(t, "b")
	absent := []kv.Compare{{Key: a, Target: kv.CompareVersion, Result: kv.Equal, Int: 0}}
	req := kv.TxnRequest{
		Compare: absent,
		Success: []kv.Op{kv.OpPutKV(a, []byte("created"))},
		Failure: []kv.Op{kv.OpGet(a), kv.OpPutKV(b, []byte("lost"))},
	}
	first := txn(t, k, req)
	if !first.Succeeded || len(first.Responses) != 1 || first.Responses[0].Put == nil {
		t.Fatalf("create: %+v", first)
	}
	second := txn(t, k, req)
	if second.Succeeded || len(second.Responses) != 2 || second.Responses[0].Range == nil || second.Responses[1].Put == nil {
		t.Fatalf("failure branch: %+v", second)
	}
	if second.Revision != first.Revision+1 {
		t.Fatalf("failure branch wrote at %d, want %d", second.Revision, first.Revision+1)
	}
	if rr := second.Responses[0].Range; len(rr.KVs) != 1 || string(rr.KVs[0].Value) != "created" {
		t.Fatalf("failure branch range: %+v", rr)
	}
	if got := get(t, k, b); got == nil || string(got.Value) != "lost" {
		t.Fatalf("failure branch put: %s", fmtKV(got))
	}
}

func testTxnSeesWrites(t *caseT, k kv.KV) {
	a, b, c := key(t, "a"), key(t, "b"), key(t, "c")
	put(t, k, b, "old")
	put(t, k, c, "c1")
	resp := txn(t, k, kv.TxnRequest{Success: []kv.Op{
		kv.OpPutKV(a, []byte("new")),
		kv.OpGet(a),
		kv.OpDeleteKey(b),
		kv.OpGet(b),
		{Type: kv.OpRange, Key: space(t), End: kv.PrefixEnd(space(t)), CountOnly: true},
		kv.OpPutKV(c, []byte("c2")),
		kv.OpGet(c),
	}})
	rev := resp.Revision
	if rr := resp.Responses[1].Range; len(rr.KVs) != 1 || string(rr.KVs[0].Value) != "new" || rr.KVs[0].ModRevision != rev {
		t.Fatalf("range after put in the same txn: %+v (txn revision %d)", rr, rev)
	}
	if d := resp.Responses[2].Delete; d == nil || d.Deleted != 1 {
		t.Fatalf("delete: %+v", d)
	}
	if rr := resp.Responses[3].Range; len(rr.KVs) != 0 {
		t.Fatalf("range after delete in the same txn: %+v", rr.KVs)
	}
	if rr := resp.Responses[4].Range; rr.Count != 2 {
		t.Fatalf("count in txn: %d, want 2 (a and c)", rr.Count)
	}
	if rr := resp.Responses[6].Range; len(rr.KVs) != 1 || rr.KVs[0].Version != 2 || string(rr.KVs[0].Value) != "c2" {
		t.Fatalf("range after update in the same txn: %+v", rr.KVs)
	}
	if got := currentRevision(t, k); got != rev {
		t.Fatalf("revision %d after txn, txn reported %d", got, rev)
	}
}

func testTxnPrevKV(t *caseT, k kv.KV) {
	a, b := key(t, "a"), key(t, "b")
	r1 := put(t, k, a, "1")
	put(t, k, b, "b")
	resp := txn(t, k, kv.TxnRequest{Success: []kv.Op{{Type: kv.OpPut, Key: a, Value: []byte("2"), PrevKV: true}}})
	wantKV(t, "put prev", resp.Responses[0].Put.PrevKV, "1", r1, r1, 1)
	resp = txn(t, k, kv.TxnRequest{Success: []kv.Op{{Type: kv.OpPut, Key: key(t, "new"), PrevKV: true}}})
	if p := resp.Responses[0].Put.PrevKV; p != nil {
		t.Fatalf("put of a new key returned prev %s", fmtKV(p))
	}
	r2 := resp.Revision - 1
	resp = txn(t, k, kv.TxnRequest{Success: []kv.Op{{Type: kv.OpDelete, Key: a, End: key(t, "c"), PrevKV: true}}})
	d := resp.Responses[0].Delete
	if d.Deleted != 2 || len(d.PrevKVs) != 2 {
		t.Fatalf("delete with prev: %+v", d)
	}
	wantKV(t, "delete prev a", &d.PrevKVs[0], "2", r1, r2, 2)
	if d.PrevKVs[1].Key != b || string(d.PrevKVs[1].Value) != "b" {
		t.Fatalf("delete prev b: %s", fmtKV(&d.PrevKVs[1]))
	}
}

func testTxnMalformed(t *caseT, k kv.KV) {
	a, b := key(t, "a"), key(t, "b")
	put(t, k, a, "keep")
	before := currentRevision(t, k)
	many := make([]kv.Op, 1<<14)
	for i := range many {
		many[i] = kv.OpPutKV(key(t, "many/"+strconv.Itoa(i)), nil)
	}
	for _, tc := range []struct {
		name string
		req  kv.TxnRequest
		want error
	}{
		{"put twice", kv.TxnRequest{Success: []kv.Op{kv.OpPutKV(b, nil), kv.OpPutKV(b, nil)}}, kv.ErrDuplicateKey},
		{"put twice in failure", kv.TxnRequest{Failure: []kv.Op{kv.OpPutKV(b, nil), kv.OpPutKV(b, nil)}}, kv.ErrDuplicateKey},
		{"put and delete", kv.TxnRequest{Success: []kv.Op{kv.OpDeleteKey(a), kv.OpPutKV(a, nil)}}, kv.ErrDuplicateKey},
		{"put inside deleted range", kv.TxnRequest{Success: []kv.Op{kv.OpPutKV(b, nil), kv.OpDeleteRange(a, key(t, "c"))}}, kv.ErrDuplicateKey},
		{"too many ops", kv.TxnRequest{Success: many}, kv.ErrTooManyOps},
		{"empty put key", kv.TxnRequest{Success: []kv.Op{kv.OpPutKV("", nil)}}, kv.ErrEmptyKey},
		{"empty compare key", kv.TxnRequest{Compare: []kv.Compare{{Target: kv.CompareVersion}}}, kv.ErrEmptyKey},
		{"unknown op", kv.TxnRequest{Success: []kv.Op{{Type: kv.OpType(99), Key: a}}}, kv.ErrInvalidRequest},
		{"unknown compare target", kv.TxnRequest{Compare: []kv.Compare{{Key: a, Target: kv.CompareTarget(99)}}}, kv.ErrInvalidRequest},
		{"unknown compare result", kv.TxnRequest{Compare: []kv.Compare{{Key: a, Result: kv.CompareResult(99)}}}, kv.ErrInvalidRequest},
		{"negative range limit", kv.TxnRequest{Success: []kv.Op{{Type: kv.OpRange, Key: a, Limit: -1}}}, kv.ErrInvalidRequest},
	} {
		_, err := k.Txn(testContext(t), tc.req)
		wantErr(t, tc.name, err, tc.want)
	}
	if after := currentRevision(t, k); after != before {
		t.Fatalf("rejected txns moved the revision from %d to %d", before, after)
	}
	if got := get(t, k, a); got == nil || string(got.Value) != "keep" {
		t.Fatalf("rejected txns changed %q: %s", a, fmtKV(got))
	}
	if got := get(t, k, b); got != nil {
		t.Fatalf("rejected txn wrote %q", b)
	}
}

func testRangePastLimit(t *caseT, k kv.KV) {
	p := space(t)
	end := kv.PrefixEnd(p)
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		put(t, k, p+n, "old")
	}
	then := currentRevision(t, k)
	_, _ = del(t, k, p+"a", "")
	_, _ = del(t, k, p+"b", "")
	put(t, k, p+"c", "new")
	put(t, k, p+"0", "new") // sorts first
	now := currentRevision(t, k)

	past := rangeReq(t, k, kv.RangeRequest{Key: p, End: end, Revision: then, Limit: 2})
	wantKeys(t, "limit 2 at the past revision", past.KVs, p+"a", p+"b")
	if past.Count != 5 || !past.More || past.Revision != then {
		t.Fatalf("limit 2 at %d: count=%d more=%v revision=%d, want 5 true %d", then, past.Count, past.More, past.Revision, then)
	}
	for _, kv := range past.KVs {
		if string(kv.Value) != "old" || kv.ModRevision > then {
			t.Fatalf("limit 2 at %d: got %s", then, fmtKV(&kv))
		}
	}
	all := rangeReq(t, k, kv.RangeRequest{Key: p, End: end, Revision: then, Limit: 5})
	if len(all.KVs) != 5 || all.More {
		t.Fatalf("limit 5 of 5 at %d: %d keys, more=%v", then, len(all.KVs), all.More)
	}
	cnt := rangeReq(t, k, kv.RangeRequest{Key: p, End: end, Revision: then, Limit: 1, CountOnly: true})
	if cnt.Count != 5 || len(cnt.KVs) != 0 {
		t.Fatalf("count only with a limit at %d: count=%d kvs=%d", then, cnt.Count, len(cnt.KVs))
	}
	cur := rangeReq(t, k, kv.RangeRequest{Key: p, End: end, Revision: now, Limit: 2})
	wantKeys(t, "limit 2 now", cur.KVs, p+"0", p+"c")
	if cur.Count != 4 || !cur.More || string(cur.KVs[1].Value) != "new" {
		t.Fatalf("limit 2 at %d: count=%d more=%v c=%q, want 4 true \"new\"", now, cur.Count, cur.More, cur.KVs[1].Value)
	}
}

func testTxnComparesDeleted(t *caseT, k kv.KV) {
	a := key(t, "a")
	put(t, k, a, "v1")
	last := put(t, k, a, "v2")
	_, gone := del(t, k, a, "")
	type cmp = kv.Compare
	// A deleted key compares as a key that never existed: zero version
	// and revisions, and no value.
	for _, tc := range []struct {
		name string
		c    cmp
		want bool
	}{
		{"version equal 0", cmp{Key: a, Target: kv.CompareVersion, Result: kv.Equal, Int: 0}, true},
		{"version equal last", cmp{Key: a, Target: kv.CompareVersion, Result: kv.Equal, Int: 2}, false},
		{"version greater 0", cmp{Key: a, Target: kv.CompareVersion, Result: kv.Greater, Int: 0}, false},
		{"create equal 0", cmp{Key: a, Target: kv.CompareCreateRevision, Result: kv.Equal, Int: 0}, true},
		{"mod equal 0", cmp{Key: a, Target: kv.CompareModRevision, Result: kv.Equal, Int: 0}, true},
		{"mod equal last put", cmp{Key: a, Target: kv.CompareModRevision, Result: kv.Equal, Int: last}, false},
		{"mod equal delete", cmp{Key: a, Target: kv.CompareModRevision, Result: kv.Equal, Int: gone}, false},
		{"mod less 1", cmp{Key: a, Target: kv.CompareModRevision, Result: kv.Less, Int: 1}, true},
		{"value equal last", cmp{Key: a, Target: kv.CompareValue, Result: kv.Equal, Value: []byte("v2")}, false},
		{"value not equal", cmp{Key: a, Target: kv.CompareValue, Result: kv.NotEqual, Value: []byte("x")}, false},
	} {
		resp := txn(t, k, kv.TxnRequest{Compare: []kv.Compare{tc.c}})
		if resp.Succeeded != tc.want {
			t.Errorf("%s on a deleted key: succeeded=%v, want %v", tc.name, resp.Succeeded, tc.want)
		}
	}
	// The create-if-absent idiom works on a deleted key.
	resp := txn(t, k, kv.TxnRequest{
		Compare: []kv.Compare{{Key: a, Target: kv.CompareVersion, Result: kv.Equal, Int: 0}},
		Success: []kv.Op{kv.OpPutKV(a, []byte("v3"))},
	})
	if !resp.Succeeded {
		t.Fatal("create if absent failed on a deleted key")
	}
	wantKV(t, "recreated", get(t, k, a), "v3", resp.Revision, resp.Revision, 1)
}

func testTxnOverlappingDeletes(t *caseT, k kv.KV) {
	p := space(t)
	for _, n := range []string{"a", "b", "c", "d"} {
		put(t, k, p+n, n)
	}
	s := openWatch(t, k, kv.WatchRequest{Key: p, End: kv.PrefixEnd(p)})
	before := currentRevision(t, k)
	// Later deletes see the earlier ones: each key is deleted once.
	resp := txn(t, k, kv.TxnRequest{Success: []kv.Op{
		{Type: kv.OpDelete, Key: p + "a", End: p + "c", PrevKV: true}, // a, b
		{Type: kv.OpDelete, Key: p + "b", End: p + "e", PrevKV: true}, // c, d (b is gone)
		{Type: kv.OpDelete, Key: p + "a", PrevKV: true},               // nothing left
		{Type: kv.OpDelete, Key: p, End: kv.PrefixEnd(p)},             // nothing left
	}})
	if resp.Revision != before+1 {
		t.Fatalf("overlapping deletes wrote at %d, want one revision, %d", resp.Revision, before+1)
	}
	for i, want := range []struct {
		n    int64
		keys []string
	}{{2, []string{p + "a", p + "b"}}, {2, []string{p + "c", p + "d"}}, {0, nil}, {0, nil}} {
		d := resp.Responses[i].Delete
		if d == nil || d.Deleted != want.n {
			t.Fatalf("delete %d: %+v, want %d deleted", i, d, want.n)
		}
		if i < 3 {
			wantKeys(t, fmt.Sprintf("delete %d prev", i), d.PrevKVs, want.keys...)
		}
	}
	rev := resp.Revision
	wantEvents(t, "one event per deleted key", s.eventsThrough(rev), []ev{
		{kv.EventDelete, p + "a", "", rev}, {kv.EventDelete, p + "b", "", rev},
		{kv.EventDelete, p + "c", "", rev}, {kv.EventDelete, p + "d", "", rev},
	})
	if cnt := rangeReq(t, k, kv.RangeRequest{Key: p, End: kv.PrefixEnd(p), CountOnly: true}); cnt.Count != 0 {
		t.Fatalf("%d keys left after deleting them all", cnt.Count)
	}
}
