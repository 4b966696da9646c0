package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/governor-io/governor/raft/rafterr"
	"github.com/governor-io/governor/store/kv"
)

// Server serves a [kv.KV] to [Client]s over the framed protocol and, on
// the same listener, to HTTP clients: a connection that does not open
// with the framed protocol's greeting is handed to HTTP (the [Handler]
// API, or any handler, such as a mux that also serves /metrics).
type Server struct {
	kv   kv.KV
	http *http.Server
	hl   *chanListener

	mu     sync.Mutex
	closed bool
	lns    map[net.Listener]struct{}
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// NewServer returns a Server of k. HTTP connections go to h; when h is
// nil they go to [NewHandler](k).
func NewServer(k kv.KV, h http.Handler) *Server {
	if h == nil {
		h = NewHandler(k)
	}
	s := &Server{kv: k, lns: map[net.Listener]struct{}{}, conns: map[net.Conn]struct{}{}}
	s.hl = newChanListener()
	s.http = &http.Server{Handler: h}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.http.Serve(s.hl)
	}()
	return s
}

// ErrServerClosed is returned by [Server.Serve] after [Server.Close].
var ErrServerClosed = errors.New("client: server closed")

// Serve accepts connections on ln until ln fails or the server is
// closed. It closes ln when it returns.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.lns[ln] = struct{}{}
	s.mu.Unlock()
	defer ln.Close()
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			delete(s.lns, ln)
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			return err
		}
		if !s.track(nc) {
			nc.Close()
			return ErrServerClosed
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(nc)
		}()
	}
}

func (s *Server) track(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[nc] = struct{}{}
	return true
}

func (s *Server) untrack(nc net.Conn) {
	s.mu.Lock()
	delete(s.conns, nc)
	s.mu.Unlock()
}

// Close stops the listeners, closes every connection and waits for the
// server's goroutines. It does not close the KV.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.closed = true
	for ln := range s.lns {
		ln.Close()
	}
	for nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()
	s.http.Close()
	s.hl.Close()
	s.wg.Wait()
	return nil
}

// serveConn tells a framed connection from an HTTP one by its first
// bytes.
func (s *Server) serveConn(nc net.Conn) {
	br := bufio.NewReaderSize(nc, 64<<10)
	magic, err := br.Peek(len(frameMagic))
	if err == nil && string(magic) != frameMagic && string(magic[:len(magicFamily)]) == magicFamily {
		// A framed client of another version: tell it so and hang up.
		s.untrack(nc)
		nc.Write([]byte(wrongVersion))
		nc.Close()
		return
	}
	if err != nil || string(magic) != frameMagic {
		s.untrack(nc) // the HTTP server owns it now
		if !s.hl.push(&peekedConn{Conn: nc, r: br}) {
			nc.Close()
		}
		return
	}
	br.Discard(len(frameMagic))
	defer s.untrack(nc)
	sc := &serverConn{s: s, nc: nc, calls: map[uint64]context.CancelFunc{}, work: make(chan frame)}
	sc.w = newFrameWriter(nc)
	defer func() {
		nc.Close()
		sc.w.close()
		sc.mu.Lock()
		sc.closed = true
		for _, cancel := range sc.calls {
			cancel()
		}
		sc.mu.Unlock()
		close(sc.work)
		sc.wg.Wait()
		<-sc.w.exit
	}()
	for {
		f, err := readFrame(br, maxBody)
		if err != nil {
			return
		}
		if f.typ == frameCancel {
			sc.mu.Lock()
			if c := sc.calls[f.id]; c != nil {
				c()
			}
			sc.mu.Unlock()
			continue
		}
		select {
		case sc.work <- f: // an idle worker took it
		default:
			sc.wg.Add(1)
			go sc.worker(f)
		}
	}
}

// maxIdleWorkers bounds the goroutines a connection keeps waiting for
// calls after a burst.
const maxIdleWorkers = 128

// worker handles calls until the connection closes or enough other
// workers are idle. Workers outlive their calls so that a connection's
// steady stream of calls does not pay for a goroutine, and the stack
// growth of a fresh one, each.
func (sc *serverConn) worker(f frame) {
	defer sc.wg.Done()
	for {
		sc.call(f)
		if sc.idle.Add(1) > maxIdleWorkers {
			sc.idle.Add(-1)
			return
		}
		var ok bool
		f, ok = <-sc.work
		sc.idle.Add(-1)
		if !ok {
			return
		}
	}
}

// call handles one call under a context that a frameCancel or the
// connection's end cancels. The context does not derive from a
// cancellable parent, so that starting a call does not register with one
// shared by every call: the connection cancels its calls itself.
func (sc *serverConn) call(f frame) {
	ctx, cancel := context.WithCancel(context.Background())
	sc.mu.Lock()
	if sc.closed {
		sc.mu.Unlock()
		cancel()
		return
	}
	sc.calls[f.id] = cancel
	sc.mu.Unlock()
	sc.handle(ctx, f)
	sc.mu.Lock()
	delete(sc.calls, f.id)
	sc.mu.Unlock()
	cancel()
}

type serverConn struct {
	s    *Server
	nc   net.Conn
	w    *frameWriter
	work chan frame // calls for idle workers
	idle atomic.Int32
	wg   sync.WaitGroup

	mu     sync.Mutex
	closed bool
	calls  map[uint64]context.CancelFunc // the calls in progress
}

// reply answers call id with the payload enc appends (nil: an empty
// result), or with err when it is set. A result too large for a client
// to accept becomes an error.
func (sc *serverConn) reply(id uint64, enc func([]byte) []byte, err error) {
	if err == nil {
		err = sc.w.send(id, frameResult, maxFrame, enc)
		if !errors.Is(err, errFrameTooLarge) {
			return
		}
		err = fmt.Errorf("client: response over the client's limit: %w", err)
	}
	we, _ := encodeError(err)
	sc.w.send(id, frameError, maxFrame, func(b []byte) []byte { return appendWireError(b, we) })
}

func invalid(err error) error { return fmt.Errorf("%w: %v", kv.ErrInvalidRequest, err) }

func (sc *serverConn) handle(ctx context.Context, f frame) {
	k := sc.s.kv
	switch f.typ {
	case frameRange:
		req, err := decodeRangeRequest(f.payload)
		if err != nil {
			sc.reply(f.id, nil, invalid(err))
			return
		}
		if err := needLeader(k); err != nil && !req.Serializable {
			sc.reply(f.id, nil, err)
			return
		}
		resp, err := k.Range(ctx, req.RangeRequest)
		sc.reply(f.id, func(b []byte) []byte { return appendRangeResponse(b, resp) }, err)
	case frameTxn:
		req, err := decodeTxnRequest(f.payload)
		if err != nil {
			sc.reply(f.id, nil, invalid(err))
			return
		}
		if err := needLeader(k); err != nil {
			sc.reply(f.id, nil, err)
			return
		}
		resp, err := k.Txn(ctx, req)
		sc.reply(f.id, func(b []byte) []byte { return appendTxnResponse(b, resp) }, err)
	case frameCompact:
		req, err := decodeCompactRequest(f.payload)
		if err != nil {
			sc.reply(f.id, nil, invalid(err))
			return
		}
		if err := needLeader(k); err != nil {
			sc.reply(f.id, nil, err)
			return
		}
		sc.reply(f.id, nil, k.Compact(ctx, req.Revision))
	case frameProgress:
		if err := decodeEmpty(f.payload); err != nil {
			sc.reply(f.id, nil, invalid(err))
			return
		}
		sc.reply(f.id, nil, k.RequestProgress(ctx))
	case frameWatch:
		req, err := decodeWatchRequest(f.payload)
		if err != nil {
			sc.reply(f.id, nil, invalid(err))
			return
		}
		sc.watch(ctx, f.id, req)
	default:
		sc.reply(f.id, nil, invalid(fmt.Errorf("unknown frame type %d", f.typ)))
	}
}

// watch streams a watch's responses until one carries an error or the
// call is cancelled.
func (sc *serverConn) watch(ctx context.Context, id uint64, req kv.WatchRequest) {
	lw := newLeaderWatch(sc.s.kv) // before the check, so as to miss no change
	if err := needLeader(sc.s.kv); err != nil {
		sc.reply(id, nil, err)
		return
	}
	ch, err := sc.s.kv.Watch(ctx, req)
	if err != nil {
		sc.reply(id, nil, err)
		return
	}
	sc.reply(id, nil, nil) // the watch is open
	for {
		wr, ok := nextWireWatchResponse(ctx, ch, lw)
		if !ok {
			return
		}
		err := sc.w.send(id, frameWatchResp, maxFrame, func(b []byte) []byte { return appendWatchResponse(b, &wr) })
		if errors.Is(err, errFrameTooLarge) {
			// The client could not read it: end the watch with an error
			// rather than a silent gap.
			we, _ := encodeError(fmt.Errorf("client: watch response over the client's limit: %w", err))
			wr = wireWatchResponse{Revision: wr.Revision, Error: we}
			err = sc.w.send(id, frameWatchResp, maxFrame, func(b []byte) []byte { return appendWatchResponse(b, &wr) })
		}
		if err != nil || wr.Error != nil {
			return
		}
	}
}

// member is the part of a [*raft.Node] that tells whether it knows of a
// leader.
type member interface {
	Leader() uint64
	LeaderChanged() <-chan struct{}
	Err() error
}

// leaderWatch tells a watch served from a member when the member loses
// its leader: from then on the member, cut off from its peers, may
// deliver nothing, and the watch ends with [rafterr.ErrNoLeader] so that
// the client resumes it on another member. It is nil (never firing) for
// an engine that is not a member.
type leaderWatch struct {
	m  member
	ch <-chan struct{}
}

func newLeaderWatch(k kv.KV) *leaderWatch {
	m, ok := k.(member)
	if !ok {
		return nil
	}
	return &leaderWatch{m: m, ch: m.LeaderChanged()}
}

// changed returns a channel closed when the member's leader may have
// changed.
func (lw *leaderWatch) changed() <-chan struct{} {
	if lw == nil {
		return nil
	}
	return lw.ch
}

// lost reports whether the member, running, knows of no leader now, and
// otherwise waits for the next change.
func (lw *leaderWatch) lost() bool {
	lw.ch = lw.m.LeaderChanged()
	return lw.m.Leader() == 0 && lw.m.Err() == nil
}

// needLeader refuses a call that needs the cluster's leader (a
// linearizable read, a write, a compaction, a watch) with
// [rafterr.ErrNoLeader] when k is a running member that knows of none, as
// one cut off from its peers does after an election timeout. The member
// would hold the call for as long as it stays cut off, while the client
// can take it to another member at once; the call was not proposed, so
// repeating it is safe. A call that arrived before the member noticed is
// left to the client's attempt timeout.
func needLeader(k kv.KV) error {
	m, ok := k.(member)
	if !ok || m.Leader() != 0 || m.Err() != nil {
		return nil
	}
	return rafterr.ErrNoLeader
}

// chanListener hands connections the Server sniffed as HTTP to its
// http.Server.
type chanListener struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newChanListener() *chanListener {
	return &chanListener{ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) push(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "sniffed" }
func (pipeAddr) String() string  { return "sniffed" }

// peekedConn is a connection whose first bytes were read ahead.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
