package snap

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// File format. A snapshot file, and the stream that [Store.Stream] sends and
// [Store.Receive] accepts, is:
//
//	[0:8]    magic "GVSNAP\x00\x01" (format version 1)
//	[8:16]   data length n (uint64, little endian)
//	[16:20]  metadata length m (uint32)
//	[20:24]  CRC-32C of bytes [8:20] and the metadata
//	[24:24+m]       metadata: a protobuf raftpb.SnapshotMetadata
//	[24+m:24+m+n]   data: the state machine's bytes, opaque to the store
//	[24+m+n:+4]     CRC-32C of the data
//
// The saver streams the data and then writes the header in place, so the
// data never has to be held in memory or measured in advance.
const (
	magic       = "GVSNAP\x00\x01"
	headerSize  = 24
	trailerSize = 4
	// maxMetadata bounds the metadata a header may announce: a snapshot
	// metadata is a few indexes and member IDs.
	maxMetadata = 16 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// header is a decoded file header.
type header struct {
	dataLen int64
	meta    *raftpb.SnapshotMetadata
	// metaLen is the encoded metadata's length; data starts at
	// headerSize+metaLen.
	metaLen int64
}

func encodeHeader(dataLen uint64, meta []byte) []byte {
	b := make([]byte, headerSize, headerSize+len(meta))
	copy(b, magic)
	binary.LittleEndian.PutUint64(b[8:], dataLen)
	binary.LittleEndian.PutUint32(b[16:], uint32(len(meta)))
	crc := crc32.Update(0, castagnoli, b[8:20])
	crc = crc32.Update(crc, castagnoli, meta)
	binary.LittleEndian.PutUint32(b[20:], crc)
	return append(b, meta...)
}

// readHeader reads and checks a header from r. It returns the raw bytes
// read too, so that a receiver can store them unchanged.
func readHeader(r io.Reader) (header, []byte, error) {
	var h header
	fixed := make([]byte, headerSize)
	if _, err := io.ReadFull(r, fixed); err != nil {
		return h, nil, corruptf("header: %v", err)
	}
	if string(fixed[:8]) != magic {
		return h, nil, corruptf("bad magic %q", fixed[:8])
	}
	n := binary.LittleEndian.Uint64(fixed[8:])
	m := binary.LittleEndian.Uint32(fixed[16:])
	if n > 1<<62 {
		return h, nil, corruptf("data length %d out of range", n)
	}
	if m > maxMetadata {
		return h, nil, corruptf("metadata length %d out of range", m)
	}
	meta := make([]byte, m)
	if _, err := io.ReadFull(r, meta); err != nil {
		return h, nil, corruptf("metadata: %v", err)
	}
	crc := crc32.Update(0, castagnoli, fixed[8:20])
	crc = crc32.Update(crc, castagnoli, meta)
	if crc != binary.LittleEndian.Uint32(fixed[20:]) {
		return h, nil, corruptf("header CRC mismatch")
	}
	md := &raftpb.SnapshotMetadata{}
	if err := proto.Unmarshal(meta, md); err != nil {
		return h, nil, corruptf("metadata: %v", err)
	}
	h.dataLen, h.meta, h.metaLen = int64(n), md, int64(m)
	return h, append(fixed, meta...), nil
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// crcWriter passes writes through, counting and checksumming them.
type crcWriter struct {
	w   io.Writer
	n   int64
	crc uint32
}

func (c *crcWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.crc = crc32.Update(c.crc, castagnoli, p[:n])
	return n, err
}

// verifyingReader reads exactly n data bytes from r, then the 4-byte data
// CRC, and fails with ErrCorrupt at the end if they disagree or r ends
// early. It never returns io.EOF before checking.
type verifyingReader struct {
	r    io.Reader
	left int64
	crc  uint32
	err  error
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.left == 0 {
		v.err = v.finish()
		return 0, v.err
	}
	if int64(len(p)) > v.left {
		p = p[:v.left]
	}
	n, err := v.r.Read(p)
	v.left -= int64(n)
	v.crc = crc32.Update(v.crc, castagnoli, p[:n])
	if err == io.EOF {
		if v.left > 0 {
			v.err = corruptf("data ends %d bytes early", v.left)
			return n, v.err
		}
		err = nil
	}
	if err != nil {
		v.err = err
	}
	return n, err
}

func (v *verifyingReader) finish() error {
	var tr [trailerSize]byte
	if _, err := io.ReadFull(v.r, tr[:]); err != nil {
		return corruptf("data CRC: %v", err)
	}
	if binary.LittleEndian.Uint32(tr[:]) != v.crc {
		return corruptf("data CRC mismatch")
	}
	return io.EOF
}
