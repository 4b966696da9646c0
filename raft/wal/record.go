package wal

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
)

// Record framing. Every record starts on an 8-byte boundary:
//
//	[0:4]   payload length n (little endian)
//	[4:8]   ^n, so that zeros and random bytes are rejected cheaply
//	[8]     record type
//	[9:12]  zero
//	[12:16] CRC-32C of (segment sequence number, record offset, bytes
//	        [0:12] of the header, payload)
//	[16:]   payload, then zero padding to the next multiple of 8
//
// The CRC covers the record's own position, so a record is valid only at the
// offset of the segment it was written to: stale or copied bytes, or a record
// embedded in an entry's data, never pass for a record elsewhere.
const (
	headerSize = 16
	recAlign   = 8

	// MaxRecordSize is the largest payload of one record: one Save or one
	// snapshot marker.
	MaxRecordSize = 1 << 30
)

// recordType tags a record's payload.
type recordType uint8

const (
	// recSegment opens every segment: its sequence number, the end and CRC
	// of the previous segment, the WAL's metadata and the HardState at the
	// time the segment was created. A segment therefore stands on its own
	// once older ones are released.
	recSegment recordType = 1
	// recBatch is one Save: an optional HardState and a run of entries.
	// One record per Save makes a Save atomic on disk: after a crash it is
	// either whole or torn, never half applied.
	recBatch recordType = 2
	// recSnapshot is a snapshot marker.
	recSnapshot recordType = 3
)

func (t recordType) valid() bool { return t >= recSegment && t <= recSnapshot }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frameSize returns the bytes a record with an n-byte payload occupies.
func frameSize(n int) int64 {
	return (int64(headerSize+n) + recAlign - 1) &^ (recAlign - 1)
}

func recordCRC(seq uint64, off int64, hdr, payload []byte) uint32 {
	return crc32.Update(headerCRC(seq, off, hdr), castagnoli, payload)
}

// beginRecord appends a header placeholder to buf; the payload is appended
// after it and finishRecord completes the frame.
func beginRecord(buf []byte) []byte {
	return append(buf, make([]byte, headerSize)...)
}

// finishRecord fills in the header of the record that starts at buf[0],
// whose payload is buf[headerSize:], for position (seq, off), pads it, and
// returns the frame and its CRC.
func finishRecord(buf []byte, typ recordType, seq uint64, off int64) ([]byte, uint32) {
	n := len(buf) - headerSize
	h := buf[:headerSize]
	binary.LittleEndian.PutUint32(h[0:], uint32(n))
	binary.LittleEndian.PutUint32(h[4:], ^uint32(n))
	h[8], h[9], h[10], h[11] = byte(typ), 0, 0, 0
	crc := recordCRC(seq, off, h, buf[headerSize:])
	binary.LittleEndian.PutUint32(h[12:], crc)
	for pad := frameSize(n) - int64(len(buf)); pad > 0; pad-- {
		buf = append(buf, 0)
	}
	return buf, crc
}

// Why a record could not be read.
const (
	badNone      = ""
	badZero      = "zero header (end of written data)"
	badShortHdr  = "truncated header"
	badHeader    = "malformed header"
	badShortBody = "payload extends past end of file"
	badCRC       = "CRC mismatch"
)

// parseHeader checks the header h of a record that has avail bytes from
// its start to the end of the file (at least headerSize), and returns its
// type and payload length, or, if h is not a valid header, a reason.
func parseHeader(h []byte, avail int64) (typ recordType, n int64, bad string) {
	ln := binary.LittleEndian.Uint32(h[0:])
	if ln == 0 && binary.LittleEndian.Uint32(h[4:]) == 0 && allZero(h[:headerSize]) {
		return 0, 0, badZero
	}
	typ = recordType(h[8])
	if binary.LittleEndian.Uint32(h[4:]) != ^ln || !typ.valid() || h[9]|h[10]|h[11] != 0 || ln > MaxRecordSize {
		return 0, 0, badHeader
	}
	if headerSize+int64(ln) > avail {
		return 0, 0, badShortBody
	}
	return typ, int64(ln), badNone
}

// headerCRC starts the CRC of the record at position (seq, off) with header
// hdr; the payload follows with crc32.Update(c, castagnoli, payload).
func headerCRC(seq uint64, off int64, hdr []byte) uint32 {
	var pos [16]byte
	binary.LittleEndian.PutUint64(pos[0:], seq)
	binary.LittleEndian.PutUint64(pos[8:], uint64(off))
	c := crc32.Update(0, castagnoli, pos[:])
	return crc32.Update(c, castagnoli, hdr[:12])
}

// zeroBlock is compared against preallocated space a block at a time
// (bytes.Equal runs in assembly, uninstrumented by the race detector).
var zeroBlock [64 << 10]byte

func allZero(b []byte) bool {
	for len(b) >= len(zeroBlock) {
		if !bytes.Equal(b[:len(zeroBlock)], zeroBlock[:]) {
			return false
		}
		b = b[len(zeroBlock):]
	}
	return bytes.Equal(b, zeroBlock[:len(b)])
}

// encoder appends the varint-based payload encoding.
type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) byte1(v byte)     { e.b = append(e.b, v) }
func (e *encoder) bytes(p []byte)   { e.uvarint(uint64(len(p))); e.b = append(e.b, p...) }
func (e *encoder) u32(v uint32)     { e.b = binary.LittleEndian.AppendUint32(e.b, v) }

// decoder reads what encoder wrote. The first error sticks; later reads
// return zero values.
type decoder struct {
	b   []byte
	bad string
}

func (d *decoder) fail(why string) {
	if d.bad == "" {
		d.bad = why
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte1() byte {
	if len(d.b) < 1 {
		d.fail("short payload")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) u32() uint32 {
	if len(d.b) < 4 {
		d.fail("short payload")
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

// bytes returns a copy, so that decoded values never pin a segment buffer.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("length past end of payload")
		return nil
	}
	if n == 0 {
		return nil
	}
	v := make([]byte, n)
	copy(v, d.b[:n])
	d.b = d.b[n:]
	return v
}

// count reads an element count; each element takes at least one byte, so a
// count larger than what is left is corrupt (and never allocates).
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) || n > math.MaxInt32 {
		d.fail("count past end of payload")
		return 0
	}
	return int(n)
}

func (d *decoder) done() {
	if d.bad == "" && len(d.b) != 0 {
		d.fail("trailing bytes in payload")
	}
}
