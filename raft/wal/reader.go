package wal

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// scanBlock is how much of a segment recovery reads at a time outside the
// records themselves: preallocated space, and the scan for a valid record
// after a bad one.
const scanBlock = len(zeroBlock)

// segmentReader reads one segment's records in order through fixed-size
// buffers, so that recovery holds one record's payload in memory at a
// time, whatever the size of the segment. One reader serves every segment
// of a replay in turn (see reset).
type segmentReader struct {
	f    File
	path string
	seq  uint64
	size int64
	off  int64 // where the next record starts

	br      *bufio.Reader
	hdr     [headerSize]byte
	payload []byte // the last record's payload; reused
	window  []byte // a scanned block and the header that may straddle its end
	scratch []byte // payload bytes streamed through a CRC
}

func newSegmentReader() *segmentReader {
	return &segmentReader{br: bufio.NewReaderSize(nil, scanBlock)}
}

// reset points r at the start of segment seq, open as f.
func (r *segmentReader) reset(f File, path string, seq uint64) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("wal: read %s: %w", path, err)
	}
	r.f, r.path, r.seq, r.size, r.off = f, path, seq, fi.Size(), 0
	r.br.Reset(io.NewSectionReader(f, 0, r.size))
	return nil
}

// next reads the record at r.off. If the bytes there are not a valid
// record it returns why in bad, leaves r.off at the bad record, and r must
// be reset before it reads again. payload is valid until the next call.
// err reports a failed read (not bad data).
func (r *segmentReader) next() (typ recordType, payload []byte, crc uint32, bad string, err error) {
	if r.size-r.off < headerSize {
		return 0, nil, 0, badShortHdr, nil
	}
	if _, err := io.ReadFull(r.br, r.hdr[:]); err != nil {
		return 0, nil, 0, "", r.readErr(err)
	}
	typ, n, bad := parseHeader(r.hdr[:], r.size-r.off)
	if bad != badNone {
		return 0, nil, 0, bad, nil
	}
	if int64(cap(r.payload)) < n {
		r.payload = make([]byte, n)
	}
	payload = r.payload[:n]
	if _, err := io.ReadFull(r.br, payload); err != nil {
		return 0, nil, 0, "", r.readErr(err)
	}
	crc = binary.LittleEndian.Uint32(r.hdr[12:])
	if crc32.Update(headerCRC(r.seq, r.off, r.hdr[:]), castagnoli, payload) != crc {
		return 0, nil, 0, badCRC, nil
	}
	next := r.off + frameSize(int(n))
	// next may lie past the end of the file if only padding was cut off:
	// the writer still continues at the aligned offset.
	if pad := int(next - r.off - headerSize - n); next <= r.size && pad > 0 {
		if _, err := r.br.Discard(pad); err != nil {
			return 0, nil, 0, "", r.readErr(err)
		}
	}
	r.off = next
	return typ, payload, crc, badNone, nil
}

func (r *segmentReader) readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("file shorter than its size %d: %w", r.size, err)
	}
	return fmt.Errorf("wal: read %s: %w", r.path, err)
}

// readBlock reads min(len(buf), size-off) bytes at off into buf.
func (r *segmentReader) readBlock(buf []byte, off int64) ([]byte, error) {
	buf = buf[:min(int64(len(buf)), r.size-off)]
	n, err := r.f.ReadAt(buf, off)
	if n == len(buf) {
		return buf, nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return nil, r.readErr(err)
}

// zeroFrom reports whether the segment holds only zeros from off on
// (preallocated space that no record reached).
func (r *segmentReader) zeroFrom(off int64) (bool, error) {
	if r.scratch == nil {
		r.scratch = make([]byte, scanBlock)
	}
	for off < r.size {
		b, err := r.readBlock(r.scratch, off)
		if err != nil {
			return false, err
		}
		if !allZero(b) {
			return false, nil
		}
		off += int64(len(b))
	}
	return true, nil
}

// findRecord reports whether any valid record for the segment starts at an
// aligned offset after off, and where. It tells a torn tail (nothing valid
// follows the bad record) from a corrupt middle (valid records follow).
func (r *segmentReader) findRecord(off int64) (int64, bool, error) {
	if r.window == nil {
		r.window = make([]byte, scanBlock+headerSize)
	}
	// Each pass examines the record starts in [p, p+scanBlock), whose
	// headers lie in the window.
	for p := (off + recAlign) &^ (recAlign - 1); p+headerSize <= r.size; p += int64(scanBlock) {
		w, err := r.readBlock(r.window, p)
		if err != nil {
			return 0, false, err
		}
		// No record starts in zeros: a header's first 8 bytes (n and ^n)
		// are never all zero. Preallocated space is most of a segment.
		if len(w) >= scanBlock && bytes.Equal(w[:scanBlock], zeroBlock[:]) {
			continue
		}
		for i := 0; i+headerSize <= len(w) && i < scanBlock; i += recAlign {
			h := w[i : i+headerSize]
			if binary.LittleEndian.Uint64(h) == 0 {
				continue
			}
			q := p + int64(i)
			_, n, bad := parseHeader(h, r.size-q)
			if bad != badNone {
				continue
			}
			ok, err := r.crcMatches(q, h, n)
			if err != nil {
				return 0, false, err
			}
			if ok {
				return q, true, nil
			}
		}
	}
	return 0, false, nil
}

// crcMatches reports whether the n-byte payload after header h at q
// matches the header's CRC, streaming the payload through scratch.
func (r *segmentReader) crcMatches(q int64, h []byte, n int64) (bool, error) {
	if r.scratch == nil {
		r.scratch = make([]byte, scanBlock)
	}
	c := headerCRC(r.seq, q, h)
	for at, end := q+headerSize, q+headerSize+n; at < end; {
		b, err := r.readBlock(r.scratch[:min(int64(len(r.scratch)), end-at)], at)
		if err != nil {
			return false, err
		}
		c = crc32.Update(c, castagnoli, b)
		at += int64(len(b))
	}
	return c == binary.LittleEndian.Uint32(h[12:]), nil
}
