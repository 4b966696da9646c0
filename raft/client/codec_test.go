package client

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/store/kv"
)

func kvp(key, value string, rev int64) kv.KeyValue {
	return kv.KeyValue{Key: key, Value: []byte(value), CreateRevision: rev - 1, ModRevision: rev, Version: 2}
}

var (
	sampleRangeRequests = []rangeRequest{
		{},
		{RangeRequest: kv.RangeRequest{Key: "/a"}},
		{RangeRequest: kv.RangeRequest{Key: "/a/", End: "/a0", Revision: 7, Limit: 10, CountOnly: true, KeysOnly: true, Serializable: true}},
		{RangeRequest: kv.RangeRequest{Key: "\x00", End: "\x00", Revision: -1, Limit: math.MinInt64}},
	}
	sampleRangeResponses = []kv.RangeResponse{
		{},
		{KVs: []kv.KeyValue{}, Revision: 1},
		{KVs: []kv.KeyValue{kvp("/a", "1", 3)}, Count: 1, Revision: 3},
		{KVs: []kv.KeyValue{{Key: "/k", Value: nil, ModRevision: 2}, {Key: "/l", Value: []byte{}}, kvp("/é", "\xff\x00", math.MaxInt64)}, Count: 40, More: true, Revision: math.MaxInt64},
	}
	sampleTxnRequests = []kv.TxnRequest{
		{},
		{Success: []kv.Op{kv.OpPutKV("/a", []byte("v"))}},
		{
			Compare: []kv.Compare{
				{Key: "/a", Target: kv.CompareVersion, Result: kv.Equal, Int: 0},
				{Key: "/b", Target: kv.CompareValue, Result: kv.NotEqual, Value: []byte("x")},
				{Key: "/c", Target: kv.CompareModRevision, Result: kv.Less, Int: 9},
				{Key: "/d", Target: kv.CompareCreateRevision, Result: kv.Greater, Int: -3, Value: []byte{}},
			},
			Success: []kv.Op{
				{Type: kv.OpPut, Key: "/a", Value: []byte("1"), PrevKV: true},
				{Type: kv.OpDelete, Key: "/b", End: "/c", PrevKV: true},
				{Type: kv.OpRange, Key: "/", End: "\x00", Limit: 5, CountOnly: true, KeysOnly: true},
			},
			Failure: []kv.Op{},
		},
		{Compare: []kv.Compare{{Target: 99, Result: -1}}, Failure: []kv.Op{{Type: 42}}},
	}
	sampleTxnResponses = []kv.TxnResponse{
		{},
		{Succeeded: true, Revision: 2, Responses: []kv.OpResponse{{Put: &kv.PutResponse{}}}},
		{Revision: 9, Responses: []kv.OpResponse{
			{Range: &kv.RangeResponse{KVs: []kv.KeyValue{kvp("/a", "1", 3), kvp("/b", "", 4)}, Count: 2, Revision: 9}},
			{Put: &kv.PutResponse{PrevKV: &kv.KeyValue{Key: "/a", Value: []byte("0"), ModRevision: 1}}},
			{Delete: &kv.DeleteResponse{Deleted: 2, PrevKVs: []kv.KeyValue{kvp("/b", "x", 5), kvp("/c", "y", 6)}}},
			{Delete: &kv.DeleteResponse{}},
			{},
			{Range: &kv.RangeResponse{}, Put: &kv.PutResponse{}, Delete: &kv.DeleteResponse{PrevKVs: []kv.KeyValue{}}},
		}},
		{Responses: []kv.OpResponse{}},
	}
	sampleWatchRequests = []kv.WatchRequest{
		{},
		{Key: "/a", StartRevision: 1},
		{Key: "/a/", End: "/a0", StartRevision: 12, PrevKV: true, ProgressNotify: true},
	}
	sampleWatchResponses = []wireWatchResponse{
		{},
		{Revision: 9, ProgressNotify: true},
		{Revision: 5, Events: []kv.Event{
			{Type: kv.EventPut, KV: kvp("/a", "1", 5)},
			{Type: kv.EventPut, KV: kvp("/a", "2", 5), PrevKV: &kv.KeyValue{Key: "/a", Value: []byte("1"), ModRevision: 4}},
			{Type: kv.EventDelete, KV: kv.KeyValue{Key: "/b", ModRevision: 5}, PrevKV: &kv.KeyValue{Key: "/b"}},
		}},
		{Revision: 7, Events: []kv.Event{}, Error: &wireError{Code: "compacted", Message: "gone", CompactRevision: 6}},
	}
	sampleWireErrors = []wireError{
		{},
		{Code: "compacted", Message: "kv: required revision has been compacted", CompactRevision: 4},
		{Code: "watcher_lagging", ResumeRevision: 11},
		{Code: "not_leader", Message: "m", LeaderID: math.MaxUint64, LeaderAddr: "10.0.0.2:2379"},
	}
)

// roundTrip checks that decode(encode(v)) == v and that decoding the
// encoding after a prefix of unrelated bytes gives the same (the encoder
// appends).
func roundTrip[T any](t *testing.T, name string, vs []T, enc func([]byte, *T) []byte, dec func([]byte) (T, error)) {
	t.Helper()
	for i, v := range vs {
		b := enc(nil, &v)
		got, err := dec(b)
		if err != nil {
			t.Errorf("%s %d: decode: %v", name, i, err)
			continue
		}
		if d := cmp.Diff(v, got); d != "" {
			t.Errorf("%s %d: round trip (-want +got):\n%s", name, i, d)
		}
		prefixed := enc([]byte("prefix"), &v)
		if string(prefixed[len("prefix"):]) != string(b) {
			t.Errorf("%s %d: encoding depends on what precedes it", name, i)
		}
		// Every strict prefix of an encoding is an error.
		for n := range len(b) {
			if _, err := dec(b[:n]); !errors.Is(err, ErrProtocol) {
				t.Errorf("%s %d: %d of %d bytes decoded with %v, want ErrProtocol", name, i, n, len(b), err)
				break
			}
		}
		if _, err := dec(append(b, 0)); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s %d: a trailing byte decoded with %v, want ErrProtocol", name, i, err)
		}
	}
}

func decodeInto[T any](f func([]byte, *T) error) func([]byte) (T, error) {
	return func(p []byte) (T, error) {
		var v T
		err := f(p, &v)
		return v, err
	}
}

func TestCodecRoundTrip(t *testing.T) {
	roundTrip(t, "rangeRequest", sampleRangeRequests, appendRangeRequest, decodeRangeRequest)
	roundTrip(t, "RangeResponse", sampleRangeResponses, appendRangeResponse, decodeInto(decodeRangeResponse))
	roundTrip(t, "TxnRequest", sampleTxnRequests, appendTxnRequest, decodeTxnRequest)
	roundTrip(t, "TxnResponse", sampleTxnResponses, appendTxnResponse, decodeInto(decodeTxnResponse))
	roundTrip(t, "WatchRequest", sampleWatchRequests, appendWatchRequest, decodeWatchRequest)
	roundTrip(t, "compact", []compactRequest{{}, {Revision: 5}, {Revision: -5}}, appendCompactRequest, decodeCompactRequest)
	roundTrip(t, "wireError", sampleWireErrors, appendWireError, decodeWireError)
	roundTrip(t, "WatchResponse", sampleWatchResponses, appendWatchResponse, decodeWireWatchResponse)
}

// decodeWireWatchResponse decodes a watch response and turns its error
// back into wire form, to compare with what was encoded.
func decodeWireWatchResponse(p []byte) (wireWatchResponse, error) {
	r, err := decodeWatchResponse(p)
	if err != nil {
		return wireWatchResponse{}, err
	}
	w := wireWatchResponse{Events: r.Events, Revision: r.Revision, ProgressNotify: r.ProgressNotify}
	if r.Err != nil {
		w.Error, _ = encodeError(r.Err)
		// The message is the decoded error's, which names the server's.
		w.Error.Message = "gone"
	}
	return w, nil
}

func TestWatchResponseErrorKeepsItsIdentity(t *testing.T) {
	for _, err := range []error{&kv.CompactedError{CompactRevision: 6}, &kv.LaggingError{ResumeRevision: 3}, kv.ErrClosed, raft.ErrStopped} {
		we, _ := encodeError(err)
		got, derr := decodeWatchResponse(appendWatchResponse(nil, &wireWatchResponse{Revision: 1, Error: we}))
		if derr != nil {
			t.Fatal(derr)
		}
		for _, target := range []error{kv.ErrCompacted, kv.ErrWatcherLagging, kv.ErrClosed, raft.ErrStopped} {
			if errors.Is(err, target) != errors.Is(got.Err, target) {
				t.Errorf("%v: errors.Is(%v) differs after the wire: %v", err, target, got.Err)
			}
		}
	}
}

// TestDecodedValuesAreCapped checks that a decoded value is a sub-slice
// of the payload that cannot grow into the bytes after it.
func TestDecodedValuesAreCapped(t *testing.T) {
	p := appendRangeResponse(nil, &kv.RangeResponse{KVs: []kv.KeyValue{kvp("/a", "11", 2), kvp("/b", "22", 3)}})
	var r kv.RangeResponse
	if err := decodeRangeResponse(p, &r); err != nil {
		t.Fatal(err)
	}
	if cap(r.KVs[0].Value) != 2 {
		t.Fatalf("value has capacity %d, want 2", cap(r.KVs[0].Value))
	}
	_ = append(r.KVs[0].Value, 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x')
	if string(r.KVs[1].Value) != "22" || r.KVs[1].Key != "/b" {
		t.Fatalf("appending to one value changed the next: %q %q", r.KVs[1].Key, r.KVs[1].Value)
	}
}

// TestDecodeRejectsBadInput lists hand-made bad payloads, each of which
// must fail with ErrProtocol.
func TestDecodeRejectsBadInput(t *testing.T) {
	hdr := func(strBytes uint32, body ...byte) []byte {
		return append(binary.BigEndian.AppendUint32(nil, strBytes), body...)
	}
	huge := binary.AppendUvarint(nil, 1<<40)
	for name, tc := range map[string]struct {
		p   []byte
		dec func([]byte) error
	}{
		"no header":            {[]byte{0, 0}, func(p []byte) error { _, err := decodeRangeRequest(p); return err }},
		"string bytes claimed": {hdr(100, 0, 0, 0, 0, 0), func(p []byte) error { _, err := decodeRangeRequest(p); return err }},
		"unknown flag":         {hdr(0, 0x08, 0, 0, 0, 0), func(p []byte) error { _, err := decodeRangeRequest(p); return err }},
		"long string":          {hdr(0, append([]byte{0}, huge...)...), func(p []byte) error { _, err := decodeRangeRequest(p); return err }},
		"overlong varint":      {hdr(0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), func(p []byte) error { _, err := decodeRangeRequest(p); return err }},
		"kv count":             {hdr(0, append([]byte{0, 0, 0}, huge...)...), func(p []byte) error { return decodeRangeResponse(p, new(kv.RangeResponse)) }},
		"kv count over bytes":  {hdr(0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0), func(p []byte) error { return decodeRangeResponse(p, new(kv.RangeResponse)) }},
		"long value":           {hdr(0, 0, 0, 0, 2, 0, 9, 0, 0, 0), func(p []byte) error { return decodeRangeResponse(p, new(kv.RangeResponse)) }},
		"presence byte":        {hdr(0, 0, 0, 2, 2, 7), func(p []byte) error { return decodeTxnResponse(p, new(kv.TxnResponse)) }},
		"enum out of range":    {hdr(0, 0, 0, 2, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), func(p []byte) error { _, err := decodeTxnRequest(p); return err }},
		"empty with bytes":     {[]byte{1}, decodeEmpty},
		"watch error flag":     {hdr(0, 2, 0, 0), func(p []byte) error { _, err := decodeWatchResponse(p); return err }},
	} {
		if err := tc.dec(tc.p); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: got %v, want ErrProtocol", name, err)
		}
	}
}

// TestCodecRandomRoundTrip round-trips seeded random transactions and
// their responses.
func TestCodecRandomRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	str := func() string {
		b := make([]byte, rng.IntN(20))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return string(b)
	}
	val := func() []byte {
		switch rng.IntN(4) {
		case 0:
			return nil
		case 1:
			return []byte{}
		}
		b := make([]byte, rng.IntN(300))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return b
	}
	i64 := func() int64 { return int64(rng.Uint64()) >> rng.IntN(64) }
	keyValue := func() kv.KeyValue {
		return kv.KeyValue{Key: str(), Value: val(), CreateRevision: i64(), ModRevision: i64(), Version: i64()}
	}
	keyValues := func() []kv.KeyValue {
		n := rng.IntN(5) - 1
		if n < 0 {
			return nil
		}
		out := make([]kv.KeyValue, n)
		for i := range out {
			out[i] = keyValue()
		}
		return out
	}
	ops := func() []kv.Op {
		n := rng.IntN(5) - 1
		if n < 0 {
			return nil
		}
		out := make([]kv.Op, n)
		for i := range out {
			out[i] = kv.Op{Type: kv.OpType(rng.IntN(3)), Key: str(), End: str(), Value: val(), PrevKV: rng.IntN(2) == 0,
				Limit: i64(), CountOnly: rng.IntN(2) == 0, KeysOnly: rng.IntN(2) == 0}
		}
		return out
	}
	var reqs []kv.TxnRequest
	var resps []kv.TxnResponse
	var events []wireWatchResponse
	for range 200 {
		req := kv.TxnRequest{Success: ops(), Failure: ops()}
		for range rng.IntN(3) {
			req.Compare = append(req.Compare, kv.Compare{Key: str(), Target: kv.CompareTarget(rng.IntN(4)),
				Result: kv.CompareResult(rng.IntN(4)), Int: i64(), Value: val()})
		}
		reqs = append(reqs, req)
		resp := kv.TxnResponse{Succeeded: rng.IntN(2) == 0, Revision: i64()}
		for range rng.IntN(4) {
			var or kv.OpResponse
			switch rng.IntN(3) {
			case 0:
				or.Range = &kv.RangeResponse{KVs: keyValues(), Count: i64(), More: rng.IntN(2) == 0, Revision: i64()}
			case 1:
				or.Put = &kv.PutResponse{}
				if rng.IntN(2) == 0 {
					prev := keyValue()
					or.Put.PrevKV = &prev
				}
			case 2:
				or.Delete = &kv.DeleteResponse{Deleted: i64(), PrevKVs: keyValues()}
			}
			resp.Responses = append(resp.Responses, or)
		}
		resps = append(resps, resp)
		wr := wireWatchResponse{Revision: i64(), ProgressNotify: rng.IntN(2) == 0}
		for range rng.IntN(4) {
			ev := kv.Event{Type: kv.EventType(rng.IntN(2)), KV: keyValue()}
			if rng.IntN(2) == 0 {
				prev := keyValue()
				ev.PrevKV = &prev
			}
			wr.Events = append(wr.Events, ev)
		}
		events = append(events, wr)
	}
	roundTrip(t, "random TxnRequest", reqs, appendTxnRequest, decodeTxnRequest)
	roundTrip(t, "random TxnResponse", resps, appendTxnResponse, decodeInto(decodeTxnResponse))
	roundTrip(t, "random WatchResponse", events, appendWatchResponse, decodeWireWatchResponse)
}

// fuzzDecoder checks a decoder on arbitrary bytes: it never panics, fails
// only with ErrProtocol, and what it accepts re-encodes to something that
// decodes to the same value.
func fuzzDecoder[T any](f *testing.F, seeds []T, enc func([]byte, *T) []byte, dec func([]byte) (T, error)) {
	for _, s := range seeds {
		f.Add(enc(nil, &s))
	}
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, p []byte) {
		v, err := dec(p)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("decode error %v does not match ErrProtocol", err)
			}
			return
		}
		again, err := dec(enc(nil, &v))
		if err != nil {
			t.Fatalf("re-encoded %+v does not decode: %v", v, err)
		}
		if d := cmp.Diff(v, again); d != "" {
			t.Fatalf("re-encoding changed the value (-first +second):\n%s", d)
		}
	})
}

func FuzzDecodeRangeRequest(f *testing.F) {
	fuzzDecoder(f, sampleRangeRequests, appendRangeRequest, decodeRangeRequest)
}

func FuzzDecodeRangeResponse(f *testing.F) {
	fuzzDecoder(f, sampleRangeResponses, appendRangeResponse, decodeInto(decodeRangeResponse))
}

func FuzzDecodeTxnRequest(f *testing.F) {
	fuzzDecoder(f, sampleTxnRequests, appendTxnRequest, decodeTxnRequest)
}

func FuzzDecodeTxnResponse(f *testing.F) {
	fuzzDecoder(f, sampleTxnResponses, appendTxnResponse, decodeInto(decodeTxnResponse))
}

func FuzzDecodeCompactRequest(f *testing.F) {
	fuzzDecoder(f, []compactRequest{{Revision: 3}}, appendCompactRequest, decodeCompactRequest)
}

func FuzzDecodeWatchRequest(f *testing.F) {
	fuzzDecoder(f, sampleWatchRequests, appendWatchRequest, decodeWatchRequest)
}

func FuzzDecodeWatchResponse(f *testing.F) {
	fuzzDecoder(f, sampleWatchResponses, appendWatchResponse, decodeWireWatchResponse)
}

func FuzzDecodeWireError(f *testing.F) {
	fuzzDecoder(f, sampleWireErrors, appendWireError, decodeWireError)
}
