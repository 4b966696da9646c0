package raft

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/governor-io/governor/store/kv"
)

// Log entry payloads. Every normal entry starts with a kind byte:
//
//	txns:    'T' origin count count×(id txn)
//	compact: 'C' origin id revision
//	refusal: 'M' origin id reason (a membership change the leader
//	         refused; see membership.go)
//
// origin is the ID of the member that proposed the entry and id the
// request ID its waiter is registered under there; other members ignore
// both. Integers are uvarints (revisions and limits zig-zag varints),
// strings and byte slices a uvarint length and the bytes.
const (
	entryTxns    byte = 'T'
	entryCompact byte = 'C'
	entryRefusal byte = 'M'
)

// request is one proposed operation: a transaction, or a compaction when
// txn is nil.
type request struct {
	id      uint64
	txn     *kv.TxnRequest
	compact int64
}

type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) bytes(p []byte)   { e.uvarint(uint64(len(p))); e.b = append(e.b, p...) }
func (e *encoder) byte1(c byte)     { e.b = append(e.b, c) }

func (e *encoder) txn(t *kv.TxnRequest) {
	e.uvarint(uint64(len(t.Compare)))
	for i := range t.Compare {
		c := &t.Compare[i]
		e.str(c.Key)
		e.byte1(byte(c.Target))
		e.byte1(byte(c.Result))
		e.varint(c.Int)
		e.bytes(c.Value)
	}
	e.ops(t.Success)
	e.ops(t.Failure)
}

func (e *encoder) ops(ops []kv.Op) {
	e.uvarint(uint64(len(ops)))
	for i := range ops {
		op := &ops[i]
		e.byte1(byte(op.Type))
		e.str(op.Key)
		e.str(op.End)
		e.bytes(op.Value)
		var flags byte
		if op.PrevKV {
			flags |= 1
		}
		if op.CountOnly {
			flags |= 2
		}
		if op.KeysOnly {
			flags |= 4
		}
		e.byte1(flags)
		e.varint(op.Limit)
	}
}

// txnSize estimates the encoded size of t, to cut batches.
func txnSize(t *kv.TxnRequest) int {
	n := 8
	for i := range t.Compare {
		n += len(t.Compare[i].Key) + len(t.Compare[i].Value) + 16
	}
	for _, ops := range [][]kv.Op{t.Success, t.Failure} {
		for i := range ops {
			n += len(ops[i].Key) + len(ops[i].End) + len(ops[i].Value) + 16
		}
	}
	return n
}

// encodeTxns encodes a batch of transactions proposed by origin.
func encodeTxns(buf []byte, origin uint64, reqs []*request) []byte {
	e := encoder{b: buf}
	e.byte1(entryTxns)
	e.uvarint(origin)
	e.uvarint(uint64(len(reqs)))
	for _, r := range reqs {
		e.uvarint(r.id)
		e.txn(r.txn)
	}
	return e.b
}

// encodeCompact encodes a compaction proposed by origin.
func encodeCompact(origin, id uint64, rev int64) []byte {
	e := encoder{b: make([]byte, 0, 32)}
	e.byte1(entryCompact)
	e.uvarint(origin)
	e.uvarint(id)
	e.varint(rev)
	return e.b
}

// decoder reads what encoder wrote. The first malformed field sets err;
// later reads return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s", ErrCorruptEntry, what)
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte1() byte {
	if len(d.b) < 1 {
		d.fail("byte")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) raw() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("length")
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) str() string { return string(d.raw()) }

// bytes returns a value as a capped sub-slice of the entry, not a copy:
// entries are never written after they are made (the WAL and the
// transport decode into fresh buffers), and the engine copies every value
// it keeps, so a copy here would only be garbage of the same size class
// as the values the engine holds.
func (d *decoder) bytes() []byte {
	p := d.raw()
	if len(p) == 0 {
		return nil
	}
	return p
}

// count reads a collection length, refusing one that could not fit in
// the remaining input (each element takes at least min bytes).
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)/min) || n > math.MaxInt32 {
		d.fail("count")
		return 0
	}
	return int(n)
}

func (d *decoder) txn() *kv.TxnRequest {
	t := &kv.TxnRequest{}
	if n := d.count(4); n > 0 {
		t.Compare = make([]kv.Compare, n)
		for i := range t.Compare {
			c := &t.Compare[i]
			c.Key = d.str()
			c.Target = kv.CompareTarget(d.byte1())
			c.Result = kv.CompareResult(d.byte1())
			c.Int = d.varint()
			c.Value = d.bytes()
		}
	}
	t.Success = d.ops()
	t.Failure = d.ops()
	return t
}

func (d *decoder) ops() []kv.Op {
	n := d.count(6)
	if n == 0 {
		return nil
	}
	ops := make([]kv.Op, n)
	for i := range ops {
		op := &ops[i]
		op.Type = kv.OpType(d.byte1())
		op.Key = d.str()
		op.End = d.str()
		op.Value = d.bytes()
		flags := d.byte1()
		op.PrevKV = flags&1 != 0
		op.CountOnly = flags&2 != 0
		op.KeysOnly = flags&4 != 0
		op.Limit = d.varint()
	}
	return ops
}

// decodeEntry decodes a normal entry's payload into its origin and
// requests. An empty payload (the leader's no-op entry) gives no requests.
func decodeEntry(data []byte) (origin uint64, reqs []request, err error) {
	if len(data) == 0 {
		return 0, nil, nil
	}
	d := decoder{b: data[1:]}
	switch data[0] {
	case entryTxns:
		origin = d.uvarint()
		n := d.count(4)
		reqs = make([]request, n)
		for i := range reqs {
			reqs[i].id = d.uvarint()
			reqs[i].txn = d.txn()
		}
	case entryCompact:
		origin = d.uvarint()
		reqs = []request{{id: d.uvarint(), compact: d.varint()}}
	default:
		return 0, nil, fmt.Errorf("%w: unknown entry kind %#x", ErrCorruptEntry, data[0])
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return 0, nil, d.err
	}
	return origin, reqs, nil
}
