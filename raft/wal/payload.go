package wal

import (
	"math"

	"go.etcd.io/raft/v3/raftpb"
)

// Payload encodings. All integers are uvarints unless noted; byte strings are
// a uvarint length and the bytes.
//
//	segment:  version(1 byte) seq prevEnd prevCRC(4 bytes LE) term vote commit metadata
//	batch:    flags(1 byte: bit 0 = has HardState) [term vote commit] count
//	          count × (type term index data)
//	snapshot: index term hasConfState(1 byte)
//	          [voters learners votersOutgoing learnersNext (count + uvarints each)
//	           autoLeave(1 byte)]

const segmentVersion = 1

// SnapshotMarker records in the WAL that a snapshot at Index and Term has
// been saved, with the configuration at that index. Entries at or below Index
// are no longer returned by [WAL.ReadAll], and segments holding only such
// entries can be released with [WAL.ReleaseTo].
type SnapshotMarker struct {
	// Index is the last log index the snapshot covers.
	Index uint64
	// Term is the term of the entry at Index.
	Term uint64
	// ConfState is the membership at Index. It may be nil.
	ConfState *raftpb.ConfState
}

// hardState is raftpb.HardState as plain values.
type hardState struct{ term, vote, commit uint64 }

func hardStateOf(p *raftpb.HardState) hardState {
	return hardState{p.GetTerm(), p.GetVote(), p.GetCommit()}
}

func (h hardState) empty() bool { return h == hardState{} }

func (h hardState) proto() *raftpb.HardState {
	t, v, c := h.term, h.vote, h.commit
	return &raftpb.HardState{Term: &t, Vote: &v, Commit: &c}
}

func (e *encoder) hardState(h hardState) {
	e.uvarint(h.term)
	e.uvarint(h.vote)
	e.uvarint(h.commit)
}

func (d *decoder) hardState() hardState {
	return hardState{term: d.uvarint(), vote: d.uvarint(), commit: d.uvarint()}
}

// segHeader is the payload of a recSegment record.
type segHeader struct {
	seq     uint64
	prevEnd int64
	prevCRC uint32
	hs      hardState
	meta    []byte
}

func encodeSegHeader(buf []byte, h segHeader) []byte {
	e := encoder{buf}
	e.byte1(segmentVersion)
	e.uvarint(h.seq)
	e.uvarint(uint64(h.prevEnd))
	e.u32(h.prevCRC)
	e.hardState(h.hs)
	e.bytes(h.meta)
	return e.b
}

func decodeSegHeader(p []byte) (segHeader, string) {
	d := decoder{b: p}
	var h segHeader
	if v := d.byte1(); d.bad == "" && v != segmentVersion {
		return h, "unknown segment format version"
	}
	h.seq = d.uvarint()
	prevEnd := d.uvarint()
	if prevEnd > math.MaxInt64 {
		d.fail("previous segment end out of range")
	}
	h.prevEnd = int64(prevEnd)
	h.prevCRC = d.u32()
	h.hs = d.hardState()
	h.meta = d.bytes()
	d.done()
	return h, d.bad
}

// encodeBatch appends a recBatch payload.
func encodeBatch(buf []byte, hs hardState, hasHS bool, ents []*raftpb.Entry) []byte {
	e := encoder{buf}
	if hasHS {
		e.byte1(1)
		e.hardState(hs)
	} else {
		e.byte1(0)
	}
	e.uvarint(uint64(len(ents)))
	for _, ent := range ents {
		e.uvarint(uint64(uint32(ent.GetType())))
		e.uvarint(ent.GetTerm())
		e.uvarint(ent.GetIndex())
		e.bytes(ent.GetData())
	}
	return e.b
}

// batchSizeHint is an upper bound of the encoded size of a batch, used to
// grow the buffer once.
func batchSizeHint(ents []*raftpb.Entry) int {
	n := 1 + 3*binaryMaxVarint + binaryMaxVarint
	for _, e := range ents {
		n += 4*binaryMaxVarint + len(e.GetData())
	}
	return n
}

const binaryMaxVarint = 10

type batch struct {
	hs    hardState
	hasHS bool
	ents  []*raftpb.Entry
}

func decodeBatch(p []byte) (batch, string) {
	d := decoder{b: p}
	var b batch
	switch d.byte1() {
	case 0:
	case 1:
		b.hasHS = true
		b.hs = d.hardState()
	default:
		d.fail("bad batch flags")
	}
	n := d.count()
	if n > 0 {
		b.ents = make([]*raftpb.Entry, 0, n)
	}
	for i := 0; i < n && d.bad == ""; i++ {
		typ := d.uvarint()
		if typ > math.MaxUint32 {
			d.fail("entry type out of range")
		}
		t := raftpb.EntryType(int32(uint32(typ)))
		term, index := d.uvarint(), d.uvarint()
		data := d.bytes()
		b.ents = append(b.ents, &raftpb.Entry{Type: &t, Term: &term, Index: &index, Data: data})
	}
	d.done()
	return b, d.bad
}

func encodeMarker(buf []byte, m SnapshotMarker) []byte {
	e := encoder{buf}
	e.uvarint(m.Index)
	e.uvarint(m.Term)
	cs := m.ConfState
	if cs == nil {
		e.byte1(0)
		return e.b
	}
	e.byte1(1)
	for _, ids := range [][]uint64{cs.GetVoters(), cs.GetLearners(), cs.GetVotersOutgoing(), cs.GetLearnersNext()} {
		e.uvarint(uint64(len(ids)))
		for _, id := range ids {
			e.uvarint(id)
		}
	}
	if cs.GetAutoLeave() {
		e.byte1(1)
	} else {
		e.byte1(0)
	}
	return e.b
}

func decodeMarker(p []byte) (SnapshotMarker, string) {
	d := decoder{b: p}
	m := SnapshotMarker{Index: d.uvarint(), Term: d.uvarint()}
	switch d.byte1() {
	case 0:
	case 1:
		var lists [4][]uint64
		for i := range lists {
			n := d.count()
			for j := 0; j < n && d.bad == ""; j++ {
				lists[i] = append(lists[i], d.uvarint())
			}
		}
		cs := &raftpb.ConfState{Voters: lists[0], Learners: lists[1], VotersOutgoing: lists[2], LearnersNext: lists[3]}
		switch d.byte1() {
		case 0:
		case 1:
			t := true
			cs.AutoLeave = &t
		default:
			d.fail("bad auto-leave flag")
		}
		m.ConfState = cs
	default:
		d.fail("bad conf state flag")
	}
	d.done()
	return m, d.bad
}
