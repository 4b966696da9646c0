package client

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// The framed protocol multiplexes many concurrent calls over one TCP
// connection, so that 64 callers cost a few system calls per batch
// rather than one read and one write each, as HTTP/1.1 does.
//
// A connection opens with the six bytes of frameMagic. Then each side
// sends frames:
//
//	length  uint32, big endian: the bytes that follow (9 + payload)
//	id      uint64, big endian: the call the frame belongs to
//	type    one byte (the frame* constants)
//	payload the request, result, error or watch response, in the binary
//	        encoding described in codec.go
//
// Calls are answered in any order; the id pairs a response with its
// request. A watch streams frameWatchResp frames with its call's id until
// one carries an error. frameCancel abandons a call.
//
// The magic names the protocol's version: "GKV1" carried JSON payloads,
// "GKV2\r\n" carries the binary encoding. Versions do not mix, and a
// mismatch fails at once with [ErrProtocol] rather than hanging:
//
//   - A server hands a connection that does not open with its magic to
//     HTTP. The CR LF ends a request line, so an older server's HTTP side
//     answers a GKV2 client at once with 400 Bad Request, and the client
//     reports a frame starting with "HTTP" as ErrProtocol.
//   - A server answers a greeting of another GKV version with such a 400
//     itself, whose "HTTP" an older client reads as an oversized frame.
const frameMagic = "GKV2\r\n"

// magicFamily starts the greeting of every version of the framed protocol.
const magicFamily = "GKV"

// wrongVersion is what a server answers a framed greeting of another
// version.
const wrongVersion = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"

// Frame types, with their payloads.
const (
	frameRange    byte = 1 // rangeRequest -> RangeResponse
	frameTxn      byte = 2 // TxnRequest -> TxnResponse
	frameCompact  byte = 3 // compact -> empty
	frameProgress byte = 4 // empty -> empty
	frameWatch    byte = 5 // WatchRequest -> empty, then WatchResponse frames
	frameCancel   byte = 6 // empty: abandon call id

	frameResult    byte = 0x81 // the call's result
	frameError     byte = 0x82 // wireError: the call failed
	frameWatchResp byte = 0x83 // WatchResponse
)

const frameHeader = 4 + 8 + 1

// maxFrame bounds a frame a client accepts; servers accept maxBody.
const maxFrame = 256 << 20

// frame is one decoded frame. Its payload is a fresh slice that the
// frame's reader owns.
type frame struct {
	id      uint64
	typ     byte
	payload []byte
}

// appendFrame appends a frame to buf.
func appendFrame(buf []byte, id uint64, typ byte, payload []byte) []byte {
	buf, start := startFrame(buf, id, typ)
	buf = append(buf, payload...)
	finishFrame(buf, start)
	return buf
}

// startFrame appends the header of a frame whose payload follows, with a
// length that finishFrame fills in. It returns where the frame starts.
func startFrame(buf []byte, id uint64, typ byte) ([]byte, int) {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0)
	buf = binary.BigEndian.AppendUint64(buf, id)
	return append(buf, typ), start
}

// finishFrame sets the length of the frame at buf[start:], which runs to
// the end of buf.
func finishFrame(buf []byte, start int) {
	binary.BigEndian.PutUint32(buf[start:], uint32(len(buf)-start-4))
}

// errFrameTooLarge reports a frame over the reader's limit.
var errFrameTooLarge = errors.New("frame too large")

// httpAnswer is how a server that does not speak our framed protocol (an
// older one, which handed the connection to HTTP) starts its answer.
const httpAnswer = "HTTP"

// readFrame reads one frame of at most limit bytes from r. The payload
// is a fresh slice owned by the caller.
func readFrame(r *bufio.Reader, limit int) (frame, error) {
	// Peek rather than io.ReadFull into an array: the array would escape
	// through the io.Reader, one allocation per frame.
	var hdr [frameHeader]byte
	b, err := r.Peek(frameHeader)
	if err != nil {
		if len(b) >= len(httpAnswer) && string(b[:len(httpAnswer)]) == httpAnswer {
			return frame{}, errHTTPAnswer
		}
		if err == io.EOF && len(b) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return frame{}, err
	}
	copy(hdr[:], b)
	r.Discard(frameHeader)
	if string(hdr[:len(httpAnswer)]) == httpAnswer {
		return frame{}, errHTTPAnswer
	}
	return parseFrame(hdr, r, limit)
}

var errHTTPAnswer = fmt.Errorf("%w: the server answered HTTP: it does not speak %q", ErrProtocol, frameMagic)

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

// frameWriter owns a connection's writes. Any goroutine encodes its frame
// straight into the pending batch; the writer goroutine swaps the batch
// for an empty buffer and writes it with one system call, so every frame
// queued while the previous write ran leaves in the next one.
type frameWriter struct {
	mu     sync.Mutex
	ready  sync.Cond // the writer waits for frames
	room   sync.Cond // senders wait for the batch to drain
	buf    []byte    // the pending batch
	frames int       // frames in buf
	closed bool
	exit   chan struct{}
}

// Batch sizes: a sender waits while the pending batch holds maxPending
// bytes, and the writer keeps a spent buffer for reuse up to maxSpare.
const (
	maxPending = 4 << 20
	maxSpare   = 1 << 20
)

// yieldAfterSingles is how many batches of one frame in a row stop the
// writer yielding before it takes a batch.
const yieldAfterSingles = 8

var errWriterClosed = errors.New("connection writer closed")

func newFrameWriter(w io.Writer) *frameWriter {
	fw := &frameWriter{exit: make(chan struct{})}
	fw.ready.L = &fw.mu
	fw.room.L = &fw.mu
	go fw.run(w)
	return fw
}

func (fw *frameWriter) run(w io.Writer) {
	defer close(fw.exit)
	var out []byte
	singles := yieldAfterSingles // batches of one frame in a row
	for {
		fw.mu.Lock()
		for len(fw.buf) == 0 && !fw.closed {
			fw.ready.Wait()
		}
		// While batches hold several frames, let the goroutines that are
		// ready to run add theirs before taking this one: the frame that
		// woke the writer is seldom alone then (a read barrier answers
		// many calls at once, a batch of answers wakes many callers), and
		// one write of 20 frames costs about what a write of one does.
		// Without this a free P runs the writer at once, and batches of 64
		// concurrent readers average under 1.5 frames. A lone caller,
		// whose batches hold one frame, does not wait for the scheduler.
		if singles < yieldAfterSingles {
			fw.mu.Unlock()
			runtime.Gosched()
			fw.mu.Lock()
		}
		if fw.closed {
			fw.mu.Unlock()
			return
		}
		if fw.frames > 1 {
			singles = 0
		} else if singles < yieldAfterSingles {
			singles++
		}
		fw.frames = 0
		out, fw.buf = fw.buf, out[:0]
		fw.room.Broadcast()
		fw.mu.Unlock()
		if _, err := w.Write(out); err != nil {
			fw.close()
			return
		}
		if cap(out) > maxSpare {
			out = nil
		}
	}
}

// send appends a frame to the pending batch; enc appends its payload (nil:
// none). It fails with errWriterClosed once the writer has stopped, and
// with errFrameTooLarge, sending nothing, when the payload is over limit.
func (fw *frameWriter) send(id uint64, typ byte, limit int, enc func([]byte) []byte) error {
	fw.mu.Lock()
	for len(fw.buf) >= maxPending && !fw.closed {
		fw.room.Wait()
	}
	if fw.closed {
		fw.mu.Unlock()
		return errWriterClosed
	}
	b, start := startFrame(fw.buf, id, typ)
	if enc != nil {
		b = enc(b)
	}
	if n := len(b) - start - frameHeader; n > limit {
		fw.buf = b[:start]
		fw.mu.Unlock()
		return fmt.Errorf("%w: %d bytes over %d", errFrameTooLarge, n, limit)
	}
	finishFrame(b, start)
	fw.buf = b
	fw.frames++
	fw.mu.Unlock()
	fw.ready.Signal()
	return nil
}

// close stops the writer; queued frames may be dropped.
func (fw *frameWriter) close() {
	fw.mu.Lock()
	fw.closed = true
	fw.buf = nil
	fw.mu.Unlock()
	fw.ready.Broadcast()
	fw.room.Broadcast()
}
