package client

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/governor-io/governor/store/kv"
)

// The payloads of the framed protocol are a compact binary encoding,
// written and read by hand (no reflection). Every non-empty payload is
//
//	strBytes uint32, big endian: the total length of the strings in it
//	body     the message, field after field, in the order listed below
//
// and the body is built from these primitives:
//
//	varint   a signed integer, zig-zag varint (encoding/binary.AppendVarint)
//	uvarint  an unsigned integer (encoding/binary.AppendUvarint)
//	flags    one byte of booleans, bit 0 first; an unknown bit is an error
//	string   uvarint length, then the bytes
//	bytes    uvarint length+1, then the bytes; 0 means nil
//	list     uvarint count+1, then the elements; 0 means nil
//	opt      one byte, 0 (absent) or 1 (present), then the value if present
//
// The messages:
//
//	rangeRequest   flags(CountOnly, KeysOnly, Serializable) string Key,
//	               string End, varint Revision, varint Limit
//	RangeResponse  flags(More) varint Count, varint Revision, list KVs
//	KeyValue       string Key, bytes Value, varint CreateRevision,
//	               varint ModRevision, varint Version
//	TxnRequest     list Compare, list Success Op, list Failure Op
//	Compare        string Key, varint Target, varint Result, varint Int,
//	               bytes Value
//	Op             varint Type, flags(PrevKV, CountOnly, KeysOnly),
//	               string Key, string End, bytes Value, varint Limit
//	TxnResponse    flags(Succeeded) varint Revision, list OpResponse
//	OpResponse     flags(Range, Put, Delete): which follow, in that order:
//	               RangeResponse; PutResponse (opt KeyValue PrevKV);
//	               DeleteResponse (varint Deleted, list KeyValue PrevKVs)
//	compact        varint Revision
//	WatchRequest   flags(PrevKV, ProgressNotify) string Key, string End,
//	               varint StartRevision
//	WatchResponse  flags(ProgressNotify, Error) varint Revision,
//	               list Event, then a wireError if the Error flag is set
//	Event          varint Type, KeyValue KV, opt KeyValue PrevKV
//	wireError      string Code, string Message, varint CompactRevision,
//	               varint ResumeRevision, uvarint LeaderID,
//	               string LeaderAddr
//
// The strBytes header lets a decoder copy every string of a message into
// one allocation. A decoder checks every length and count against the
// bytes that remain, so a frame cannot make it allocate much more than
// its own size, and it rejects trailing bytes. Decoded values ([]byte)
// are sub-slices of the frame's payload, capped so that appending to one
// cannot overwrite the next: the payload belongs to the decoded message.

// encoder appends one message to b.
type encoder struct {
	b      []byte
	start  int // where the message's strBytes header is
	strLen int // string bytes written so far
}

// begin reserves the message's strBytes header.
func (e *encoder) begin() {
	e.start = len(e.b)
	e.strLen = 0
	e.b = append(e.b, 0, 0, 0, 0)
}

// end fills in the strBytes header.
func (e *encoder) end() {
	binary.BigEndian.PutUint32(e.b[e.start:], uint32(e.strLen))
}

func (e *encoder) flags(bits ...bool) {
	var f byte
	for i, b := range bits {
		if b {
			f |= 1 << i
		}
	}
	e.b = append(e.b, f)
}

func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }

func (e *encoder) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
	e.strLen += len(s)
}

func (e *encoder) bytes(v []byte) {
	if v == nil {
		e.b = append(e.b, 0)
		return
	}
	e.b = binary.AppendUvarint(e.b, uint64(len(v))+1)
	e.b = append(e.b, v...)
}

// count writes a list's length; nil and empty differ.
func (e *encoder) count(n int, isNil bool) {
	if isNil {
		e.b = append(e.b, 0)
		return
	}
	e.b = binary.AppendUvarint(e.b, uint64(n)+1)
}

func (e *encoder) keyValue(kv *kv.KeyValue) {
	e.str(kv.Key)
	e.bytes(kv.Value)
	e.varint(kv.CreateRevision)
	e.varint(kv.ModRevision)
	e.varint(kv.Version)
}

func (e *encoder) optKeyValue(kv *kv.KeyValue) {
	if kv == nil {
		e.b = append(e.b, 0)
		return
	}
	e.b = append(e.b, 1)
	e.keyValue(kv)
}

func (e *encoder) keyValues(kvs []kv.KeyValue) {
	e.count(len(kvs), kvs == nil)
	for i := range kvs {
		e.keyValue(&kvs[i])
	}
}

func (e *encoder) rangeRequest(r *rangeRequest) {
	e.flags(r.CountOnly, r.KeysOnly, r.Serializable)
	e.str(r.Key)
	e.str(r.End)
	e.varint(r.Revision)
	e.varint(r.Limit)
}

func (e *encoder) rangeResponse(r *kv.RangeResponse) {
	e.flags(r.More)
	e.varint(r.Count)
	e.varint(r.Revision)
	e.keyValues(r.KVs)
}

func (e *encoder) op(op *kv.Op) {
	e.varint(int64(op.Type))
	e.flags(op.PrevKV, op.CountOnly, op.KeysOnly)
	e.str(op.Key)
	e.str(op.End)
	e.bytes(op.Value)
	e.varint(op.Limit)
}

func (e *encoder) ops(ops []kv.Op) {
	e.count(len(ops), ops == nil)
	for i := range ops {
		e.op(&ops[i])
	}
}

func (e *encoder) txnRequest(r *kv.TxnRequest) {
	e.count(len(r.Compare), r.Compare == nil)
	for i := range r.Compare {
		c := &r.Compare[i]
		e.str(c.Key)
		e.varint(int64(c.Target))
		e.varint(int64(c.Result))
		e.varint(c.Int)
		e.bytes(c.Value)
	}
	e.ops(r.Success)
	e.ops(r.Failure)
}

func (e *encoder) txnResponse(r *kv.TxnResponse) {
	e.flags(r.Succeeded)
	e.varint(r.Revision)
	e.count(len(r.Responses), r.Responses == nil)
	for i := range r.Responses {
		or := &r.Responses[i]
		e.flags(or.Range != nil, or.Put != nil, or.Delete != nil)
		if or.Range != nil {
			e.rangeResponse(or.Range)
		}
		if or.Put != nil {
			e.optKeyValue(or.Put.PrevKV)
		}
		if or.Delete != nil {
			e.varint(or.Delete.Deleted)
			e.keyValues(or.Delete.PrevKVs)
		}
	}
}

func (e *encoder) watchRequest(r *kv.WatchRequest) {
	e.flags(r.PrevKV, r.ProgressNotify)
	e.str(r.Key)
	e.str(r.End)
	e.varint(r.StartRevision)
}

func (e *encoder) watchResponse(r *wireWatchResponse) {
	e.flags(r.ProgressNotify, r.Error != nil)
	e.varint(r.Revision)
	e.count(len(r.Events), r.Events == nil)
	for i := range r.Events {
		ev := &r.Events[i]
		e.varint(int64(ev.Type))
		e.keyValue(&ev.KV)
		e.optKeyValue(ev.PrevKV)
	}
	if r.Error != nil {
		e.wireError(r.Error)
	}
}

func (e *encoder) wireError(we *wireError) {
	e.str(we.Code)
	e.str(we.Message)
	e.varint(we.CompactRevision)
	e.varint(we.ResumeRevision)
	e.uvarint(we.LeaderID)
	e.str(we.LeaderAddr)
}

// Minimum encoded sizes, which bound a list's claimed count by the bytes
// left.
const (
	minKeyValue   = 5 // five empty fields
	minCompare    = 5
	minOp         = 6
	minOpResponse = 1
	minEvent      = 1 + minKeyValue + 1
)

// decoder reads one message. Its first error sticks: later reads return
// zero values, and err reports it.
type decoder struct {
	p   []byte // what is left
	err error
	sb  strings.Builder // the message's strings, one allocation
}

// init starts decoding the message p: it reads the strBytes header.
func (d *decoder) init(p []byte) {
	d.p = p
	if len(p) < 4 {
		d.fail("message of %d bytes under its header", len(p))
		return
	}
	n := binary.BigEndian.Uint32(p)
	d.p = p[4:]
	if uint64(n) > uint64(len(d.p)) {
		d.fail("%d string bytes claimed in %d", n, len(d.p))
		return
	}
	if n > 0 {
		d.sb.Grow(int(n))
	}
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
	}
	d.p = nil
}

// finish reports the first error, or trailing bytes.
func (d *decoder) finish() error {
	if d.err == nil && len(d.p) > 0 {
		d.fail("%d trailing bytes", len(d.p))
	}
	return d.err
}

// flags reads a flags byte with at most n bits set.
func (d *decoder) flags(n uint) byte {
	if len(d.p) == 0 {
		d.fail("truncated message")
		return 0
	}
	f := d.p[0]
	d.p = d.p[1:]
	if f>>n != 0 {
		d.fail("unknown flags %#x", f)
		return 0
	}
	return f
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.p)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.p)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.p = d.p[n:]
	return v
}

// int reads a varint that must fit an int (an enum).
func (d *decoder) int() int {
	v := d.varint()
	if int64(int(v)) != v {
		d.fail("integer %d out of range", v)
		return 0
	}
	return int(v)
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n == 0 {
		return ""
	}
	if n > uint64(len(d.p)) {
		d.fail("string of %d bytes in %d", n, len(d.p))
		return ""
	}
	start := d.sb.Len()
	d.sb.Write(d.p[:n])
	d.p = d.p[n:]
	return d.sb.String()[start:]
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n == 0 {
		return nil
	}
	n--
	if n > uint64(len(d.p)) {
		d.fail("value of %d bytes in %d", n, len(d.p))
		return nil
	}
	v := d.p[:n:n]
	d.p = d.p[n:]
	return v
}

// count reads a list's length, -1 for nil, checking that the bytes left
// can hold that many elements of at least min bytes.
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if n == 0 {
		return -1
	}
	n--
	if n > uint64(len(d.p)/min) {
		d.fail("%d elements claimed in %d bytes", n, len(d.p))
		return -1
	}
	return int(n)
}

func (d *decoder) present() bool {
	if len(d.p) == 0 {
		d.fail("truncated message")
		return false
	}
	b := d.p[0]
	d.p = d.p[1:]
	if b > 1 {
		d.fail("bad presence byte %d", b)
	}
	return b == 1
}

func (d *decoder) keyValue(kv *kv.KeyValue) {
	kv.Key = d.str()
	kv.Value = d.bytes()
	kv.CreateRevision = d.varint()
	kv.ModRevision = d.varint()
	kv.Version = d.varint()
}

func (d *decoder) optKeyValue() *kv.KeyValue {
	if !d.present() {
		return nil
	}
	out := new(kv.KeyValue)
	d.keyValue(out)
	return out
}

func (d *decoder) keyValues() []kv.KeyValue {
	n := d.count(minKeyValue)
	if n < 0 {
		return nil
	}
	kvs := make([]kv.KeyValue, n)
	for i := range kvs {
		d.keyValue(&kvs[i])
	}
	return kvs
}

func (d *decoder) rangeRequest(r *rangeRequest) {
	f := d.flags(3)
	r.CountOnly, r.KeysOnly, r.Serializable = f&1 != 0, f&2 != 0, f&4 != 0
	r.Key = d.str()
	r.End = d.str()
	r.Revision = d.varint()
	r.Limit = d.varint()
}

func (d *decoder) rangeResponse(r *kv.RangeResponse) {
	r.More = d.flags(1) != 0
	r.Count = d.varint()
	r.Revision = d.varint()
	r.KVs = d.keyValues()
}

func (d *decoder) ops() []kv.Op {
	n := d.count(minOp)
	if n < 0 {
		return nil
	}
	ops := make([]kv.Op, n)
	for i := range ops {
		op := &ops[i]
		op.Type = kv.OpType(d.int())
		f := d.flags(3)
		op.PrevKV, op.CountOnly, op.KeysOnly = f&1 != 0, f&2 != 0, f&4 != 0
		op.Key = d.str()
		op.End = d.str()
		op.Value = d.bytes()
		op.Limit = d.varint()
	}
	return ops
}

func (d *decoder) txnRequest(r *kv.TxnRequest) {
	if n := d.count(minCompare); n >= 0 {
		r.Compare = make([]kv.Compare, n)
		for i := range r.Compare {
			c := &r.Compare[i]
			c.Key = d.str()
			c.Target = kv.CompareTarget(d.int())
			c.Result = kv.CompareResult(d.int())
			c.Int = d.varint()
			c.Value = d.bytes()
		}
	}
	r.Success = d.ops()
	r.Failure = d.ops()
}

func (d *decoder) txnResponse(r *kv.TxnResponse) {
	r.Succeeded = d.flags(1) != 0
	r.Revision = d.varint()
	n := d.count(minOpResponse)
	if n < 0 {
		return
	}
	r.Responses = make([]kv.OpResponse, n)
	for i := range r.Responses {
		or := &r.Responses[i]
		f := d.flags(3)
		if f&1 != 0 {
			or.Range = new(kv.RangeResponse)
			d.rangeResponse(or.Range)
		}
		if f&2 != 0 {
			or.Put = &kv.PutResponse{PrevKV: d.optKeyValue()}
		}
		if f&4 != 0 {
			or.Delete = &kv.DeleteResponse{Deleted: d.varint(), PrevKVs: d.keyValues()}
		}
		if d.err != nil {
			return
		}
	}
}

func (d *decoder) watchRequest(r *kv.WatchRequest) {
	f := d.flags(2)
	r.PrevKV, r.ProgressNotify = f&1 != 0, f&2 != 0
	r.Key = d.str()
	r.End = d.str()
	r.StartRevision = d.varint()
}

func (d *decoder) watchResponse(r *kv.WatchResponse) {
	f := d.flags(2)
	r.ProgressNotify = f&1 != 0
	r.Revision = d.varint()
	if n := d.count(minEvent); n >= 0 {
		r.Events = make([]kv.Event, n)
		for i := range r.Events {
			ev := &r.Events[i]
			ev.Type = kv.EventType(d.int())
			d.keyValue(&ev.KV)
			ev.PrevKV = d.optKeyValue()
			if d.err != nil {
				return
			}
		}
	}
	if f&2 != 0 {
		var we wireError
		d.wireError(&we)
		if d.err == nil {
			r.Err = decodeError(&we)
		}
	}
}

func (d *decoder) wireError(we *wireError) {
	we.Code = d.str()
	we.Message = d.str()
	we.CompactRevision = d.varint()
	we.ResumeRevision = d.varint()
	we.LeaderID = d.uvarint()
	we.LeaderAddr = d.str()
}

// Message codecs: each append function writes one whole payload, each
// decode function reads one, with an error that matches ErrProtocol.
// They are written out one by one on purpose: a generic helper taking the
// body as a func value makes the encoder or decoder escape to the heap,
// two more allocations per message (measured with BenchmarkCodec).

func appendRangeRequest(b []byte, r *rangeRequest) []byte {
	e := encoder{b: b}
	e.begin()
	e.rangeRequest(r)
	e.end()
	return e.b
}

func decodeRangeRequest(p []byte) (rangeRequest, error) {
	var d decoder
	var r rangeRequest
	d.init(p)
	d.rangeRequest(&r)
	return r, d.finish()
}

func appendRangeResponse(b []byte, r *kv.RangeResponse) []byte {
	e := encoder{b: b}
	e.begin()
	e.rangeResponse(r)
	e.end()
	return e.b
}

func decodeRangeResponse(p []byte, r *kv.RangeResponse) error {
	var d decoder
	d.init(p)
	d.rangeResponse(r)
	return d.finish()
}

func appendTxnRequest(b []byte, r *kv.TxnRequest) []byte {
	e := encoder{b: b}
	e.begin()
	e.txnRequest(r)
	e.end()
	return e.b
}

func decodeTxnRequest(p []byte) (kv.TxnRequest, error) {
	var d decoder
	var r kv.TxnRequest
	d.init(p)
	d.txnRequest(&r)
	return r, d.finish()
}

func appendTxnResponse(b []byte, r *kv.TxnResponse) []byte {
	e := encoder{b: b}
	e.begin()
	e.txnResponse(r)
	e.end()
	return e.b
}

func decodeTxnResponse(p []byte, r *kv.TxnResponse) error {
	var d decoder
	d.init(p)
	d.txnResponse(r)
	return d.finish()
}

func appendCompactRequest(b []byte, r *compactRequest) []byte {
	e := encoder{b: b}
	e.begin()
	e.varint(r.Revision)
	e.end()
	return e.b
}

func decodeCompactRequest(p []byte) (compactRequest, error) {
	var d decoder
	d.init(p)
	r := compactRequest{Revision: d.varint()}
	return r, d.finish()
}

func appendWatchRequest(b []byte, r *kv.WatchRequest) []byte {
	e := encoder{b: b}
	e.begin()
	e.watchRequest(r)
	e.end()
	return e.b
}

func decodeWatchRequest(p []byte) (kv.WatchRequest, error) {
	var d decoder
	var r kv.WatchRequest
	d.init(p)
	d.watchRequest(&r)
	return r, d.finish()
}

func appendWatchResponse(b []byte, r *wireWatchResponse) []byte {
	e := encoder{b: b}
	e.begin()
	e.watchResponse(r)
	e.end()
	return e.b
}

// decodeWatchResponse decodes a watch response; an error in it becomes
// resp.Err.
func decodeWatchResponse(p []byte) (kv.WatchResponse, error) {
	var d decoder
	var r kv.WatchResponse
	d.init(p)
	d.watchResponse(&r)
	if err := d.finish(); err != nil {
		return kv.WatchResponse{}, err
	}
	return r, nil
}

func appendWireError(b []byte, we *wireError) []byte {
	e := encoder{b: b}
	e.begin()
	e.wireError(we)
	e.end()
	return e.b
}

func decodeWireError(p []byte) (wireError, error) {
	var d decoder
	var we wireError
	d.init(p)
	d.wireError(&we)
	return we, d.finish()
}

// decodeEmpty checks the payload of a result without content.
func decodeEmpty(p []byte) error {
	if len(p) != 0 {
		return fmt.Errorf("%w: %d bytes in an empty result", ErrProtocol, len(p))
	}
	return nil
}
