package raft

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/governor-io/governor/store/kv"
)

func TestEntryRoundTrip(t *testing.T) {
	txn := &kv.TxnRequest{
		Compare: []kv.Compare{{Key: "/a", Target: kv.CompareModRevision, Result: kv.Less, Int: -3, Value: []byte("x")}},
		Success: []kv.Op{{Type: kv.OpPut, Key: "/a", Value: []byte("v"), PrevKV: true}, {Type: kv.OpRange, Key: "/a", End: "/b", Limit: 5, KeysOnly: true, CountOnly: true}},
		Failure: []kv.Op{{Type: kv.OpDelete, Key: "/c", End: "\x00"}},
	}
	origin, reqs, err := decodeEntry(encodeTxns(nil, 7, []*request{{id: 42, txn: txn}}))
	if err != nil {
		t.Fatal(err)
	}
	if origin != 7 || len(reqs) != 1 || reqs[0].id != 42 {
		t.Fatalf("origin %d reqs %+v", origin, reqs)
	}
	if d := cmp.Diff(txn, reqs[0].txn); d != "" {
		t.Fatalf("txn changed (-want +got):\n%s", d)
	}
	origin, reqs, err = decodeEntry(encodeCompact(3, 9, 100))
	if err != nil || origin != 3 || reqs[0].id != 9 || reqs[0].compact != 100 || reqs[0].txn != nil {
		t.Fatalf("compact: %d %+v %v", origin, reqs, err)
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeTxns(nil, 1, []*request{{id: 1, txn: &kv.TxnRequest{Success: []kv.Op{kv.OpPutKV("/k", []byte("v"))}}}}))
	f.Add(encodeCompact(1, 2, 3))
	f.Add([]byte{'T', 1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		origin, reqs, err := decodeEntry(data)
		if err != nil {
			if !errors.Is(err, ErrCorruptEntry) {
				t.Fatalf("error %v does not match ErrCorruptEntry", err)
			}
			return
		}
		// What decodes re-encodes to the same transactions.
		var in []*request
		for i := range reqs {
			if reqs[i].txn == nil {
				return
			}
			in = append(in, &reqs[i])
		}
		if len(in) == 0 {
			return
		}
		_, again, err := decodeEntry(encodeTxns(nil, origin, in))
		if err != nil || len(again) != len(reqs) {
			t.Fatalf("re-encoding failed: %v", err)
		}
	})
}
