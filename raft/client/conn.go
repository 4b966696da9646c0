package client

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/store/kv"
)

// ErrConnBroken fails a call whose connection broke before the answer
// came: the call may or may not have taken effect. A [Client] returns it
// for writes (a Txn with a put or a delete, Compact); a read that meets it
// is sent once more to the same member, then to the next endpoints, and
// fails with it only when they fail too: reads are idempotent, writes are
// not. [ErrAttemptTimeout] wraps it.
var ErrConnBroken = errors.New("client: connection broken")

// fconn is one framed connection, shared by concurrent calls.
type fconn struct {
	nc       net.Conn
	w        *frameWriter
	received atomic.Uint64 // frames read: a sign of life

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan frame
	err     error // set when the connection broke
	done    chan struct{}
}

// dialFramed opens a framed connection to addr (host:port).
func dialFramed(ctx context.Context, addr string, tlsCfg *tls.Config) (net.Conn, error) {
	d := net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if tlsCfg != nil {
		tc := tls.Client(nc, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, err
		}
		nc = tc
	}
	if _, err := nc.Write([]byte(frameMagic)); err != nil {
		nc.Close()
		return nil, err
	}
	return nc, nil
}

func newFconn(nc net.Conn) *fconn {
	fc := &fconn{nc: nc, pending: map[uint64]chan frame{}, done: make(chan struct{})}
	fc.w = newFrameWriter(nc)
	go fc.readLoop()
	return fc
}

func (fc *fconn) readLoop() {
	br := bufio.NewReaderSize(fc.nc, 64<<10)
	var err error
	for {
		var f frame
		f, err = readFrame(br, maxFrame)
		if err != nil {
			break
		}
		fc.received.Add(1)
		fc.mu.Lock()
		ch := fc.pending[f.id]
		delete(fc.pending, f.id)
		fc.mu.Unlock()
		if ch != nil {
			ch <- f // buffered: one answer per call
		}
	}
	fc.fail(err)
}

// fail marks the connection broken and wakes every waiting call.
func (fc *fconn) fail(err error) {
	fc.mu.Lock()
	if fc.err == nil {
		fc.err = fmt.Errorf("%w: %w", ErrConnBroken, err)
		close(fc.done)
	}
	fc.mu.Unlock()
	fc.nc.Close()
	fc.w.close()
}

func (fc *fconn) broken() bool {
	select {
	case <-fc.done:
		return true
	default:
		return false
	}
}

// replyChans recycles the channels that carry answers to calls. A
// channel goes back only after its one answer was received, so a late
// answer can never land in another call's channel.
var replyChans = sync.Pool{New: func() any { return make(chan frame, 1) }}

// call sends a request and decodes its result into out. It waits for the
// answer at most timeout (none when timeout <= 0) once the request is
// queued, and then fails with ErrAttemptTimeout.
func (fc *fconn) call(ctx context.Context, typ byte, req request, out result, clk clock.Clock, timeout time.Duration) error {
	ch := replyChans.Get().(chan frame)
	fc.mu.Lock()
	if fc.err != nil {
		err := fc.err
		fc.mu.Unlock()
		return &notSentError{err}
	}
	fc.nextID++
	id := fc.nextID
	fc.pending[id] = ch
	fc.mu.Unlock()
	seen := fc.received.Load()
	if err := fc.w.send(id, typ, maxBody, req.appendBinary); err != nil {
		fc.forget(id)
		if errors.Is(err, errFrameTooLarge) {
			return fmt.Errorf("%w: %w", kv.ErrInvalidRequest, err)
		}
		return &notSentError{fc.errOr()} // the writer stopped before taking it
	}
	var expired <-chan time.Time
	if timeout > 0 {
		t := clk.NewTimer(timeout)
		defer t.Stop()
		expired = t.C()
	}
	select {
	case f := <-ch:
		replyChans.Put(ch)
		return decodeResult(f, out)
	case <-fc.done:
		// The answer may have arrived just before the connection broke.
		select {
		case f := <-ch:
			replyChans.Put(ch)
			return decodeResult(f, out)
		default:
		}
		return fc.errOr()
	case <-ctx.Done():
		fc.forget(id)
		fc.w.send(id, frameCancel, 0, nil)
		return ctx.Err()
	case <-expired:
		fc.forget(id)
		select {
		case f := <-ch: // it came as the time ran out
			replyChans.Put(ch)
			return decodeResult(f, out)
		default:
		}
		if fc.received.Load() == seen {
			// Nothing at all came on the connection while the call
			// waited: the member is paused or gone, or the connection is
			// half open. Drop it, so that the next attempt dials afresh.
			fc.fail(errSilent)
		} else {
			fc.w.send(id, frameCancel, 0, nil)
		}
		return ErrAttemptTimeout
	}
}

// errSilent breaks a connection on which nothing came for a whole
// attempt timeout.
var errSilent = errors.New("the member sent nothing for an attempt timeout")

func (fc *fconn) forget(id uint64) {
	fc.mu.Lock()
	delete(fc.pending, id)
	fc.mu.Unlock()
}

func (fc *fconn) errOr() error {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.err != nil {
		return fc.err
	}
	return ErrConnBroken
}

// errConnClosed breaks the connections of a closed Client.
var errConnClosed = errors.New("client closed")

func (fc *fconn) close() { fc.fail(errConnClosed) }

// decodeResult turns an answer frame into out or a typed error.
func decodeResult(f frame, out result) error {
	switch f.typ {
	case frameResult:
		return out.decodeBinary(f.payload)
	case frameError:
		we, err := decodeWireError(f.payload)
		if err != nil {
			return err
		}
		return decodeError(&we)
	default:
		return fmt.Errorf("%w: unexpected frame type %d", ErrProtocol, f.typ)
	}
}

// decodeWatchFrame decodes one frame of a watch stream.
func decodeWatchFrame(f frame) (resp watchItem, err error) {
	switch f.typ {
	case frameWatchResp:
		r, err := decodeWatchResponse(f.payload)
		return watchItem{resp: r}, err
	case frameError:
		we, err := decodeWireError(f.payload)
		if err != nil {
			return watchItem{}, err
		}
		return watchItem{openErr: decodeError(&we)}, nil
	default:
		return watchItem{}, fmt.Errorf("%w: unexpected frame type %d in a watch", ErrProtocol, f.typ)
	}
}
