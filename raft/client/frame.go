package client

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The framed protocol multiplexes many concurrent calls over one TCP
// connection, so that 64 callers cost a few system calls per batch
// rather than one read and one write each, as HTTP/1.1 does.
//
// A connection opens with the four bytes of frameMagic. Then each side
// sends frames:
//
//	length  uint32, big endian: the bytes that follow (9 + payload)
//	id      uint64, big endian: the call the frame belongs to
//	type    one byte (the frame* constants)
//	payload JSON: the request, result, error or watch response
//
// Calls are answered in any order; the id pairs a response with its
// request. A watch streams frameWatch frames with its call's id until
// one carries an error. frameCancel abandons a call.
const frameMagic = "GKV1"

// Frame types.
const (
	frameRange    byte = 1 // rangeRequest -> kv.RangeResponse
	frameTxn      byte = 2 // kv.TxnRequest -> kv.TxnResponse
	frameCompact  byte = 3 // compactRequest -> {}
	frameProgress byte = 4 // {} -> {}
	frameWatch    byte = 5 // kv.WatchRequest -> wireWatchResponse...
	frameCancel   byte = 6 // no payload: abandon call id

	frameResult    byte = 0x81 // the call's result
	frameError     byte = 0x82 // wireError: the call failed
	frameWatchResp byte = 0x83 // wireWatchResponse
)

const frameHeader = 4 + 8 + 1

// maxFrame bounds a frame a client accepts; servers accept maxBody.
const maxFrame = 256 << 20

// frame is one decoded frame. payload aliases the reader's buffer only
// until the next read.
type frame struct {
	id      uint64
	typ     byte
	payload []byte
}

// appendFrame appends a frame to buf.
func appendFrame(buf []byte, id uint64, typ byte, payload []byte) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(9+len(payload)))
	buf = binary.BigEndian.AppendUint64(buf, id)
	buf = append(buf, typ)
	return append(buf, payload...)
}

// errFrameTooLarge reports a frame over the reader's limit.
var errFrameTooLarge = errors.New("frame too large")

// readFrame reads one frame of at most limit bytes from r. The payload
// is a fresh slice owned by the caller.
func readFrame(r *bufio.Reader, limit int) (frame, error) {
	var hdr [frameHeader]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return frame{}, err
	}
	return parseFrame(hdr, r, limit)
}

func parseFrame(hdr [frameHeader]byte, r io.Reader, limit int) (frame, error) {
	n := binary.BigEndian.Uint32(hdr[:4])
	if n < 9 {
		return frame{}, fmt.Errorf("%w: frame length %d under the header", ErrProtocol, n)
	}
	if int64(n)-9 > int64(limit) {
		return frame{}, fmt.Errorf("%w: %w: %d bytes over %d", ErrProtocol, errFrameTooLarge, n-9, limit)
	}
	f := frame{id: binary.BigEndian.Uint64(hdr[4:12]), typ: hdr[12]}
	if n > 9 {
		f.payload = make([]byte, n-9)
		if _, err := io.ReadFull(r, f.payload); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return frame{}, err
		}
	}
	return f, nil
}
