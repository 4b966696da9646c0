package raft

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/governor-io/governor/clock"
)

// The TCP transport speaks a small framed protocol rather than HTTP/2.
// Raft traffic is a stream of small messages between a fixed set of
// peers: one long-lived connection per direction, with messages written
// back to back into a buffered writer and flushed once the queue is empty,
// batches many messages per system call without per-request headers,
// stream multiplexing or flow-control windows to tune. Snapshots, which
// can be large, go over a connection of their own so that they never
// delay heartbeats.
//
// A connection starts with a hello:
//
//	"GVRT" version(1) kind(1) from(8, big endian) to(8)
//
// kind 1 is a message stream: frames of a 4-byte big-endian length and a
// protobuf-encoded raftpb.Message. kind 2 is one snapshot: a frame with
// the MsgSnap message, the data length (8 bytes), the data, and a one-byte
// answer from the receiver (0 stored, 1 failed).
const (
	helloMagic     = "GVRT"
	helloVersion   = 1
	helloSize      = 4 + 1 + 1 + 8 + 8
	kindStream     = 1
	kindSnapshot   = 2
	maxFrameSize   = 256 << 20
	defaultQueue   = 4096
	writeTimeout   = 5 * time.Second
	snapAckTimeout = time.Minute
)

// ErrProtocol reports a peer that broke the transport protocol.
var ErrProtocol = errors.New("raft: transport protocol error")

// TCPConfig configures a [TCPTransport].
type TCPConfig struct {
	// ID is the local member's ID; a peer dialing the wrong member is
	// refused.
	ID uint64
	// ListenAddr is the host:port to listen on; port 0 picks one.
	ListenAddr string
	// TLS, when set, secures both directions; set ClientAuth to
	// tls.RequireAndVerifyClientCert (with ClientCAs) for mutual TLS.
	TLS *tls.Config
	// QueueSize bounds the messages queued per peer; more are dropped
	// and reported unreachable. Zero means 4096.
	QueueSize int
	// DialTimeout bounds one connection attempt. Zero means one second.
	DialTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between failed connection
	// attempts, which doubles after each failure. Zero means 50ms and 2s.
	MinBackoff, MaxBackoff time.Duration
	// Clock times the backoff. Nil means [clock.Real].
	Clock clock.Clock
	// Logger receives connection errors. Nil discards them.
	Logger *slog.Logger
	// Metrics, when set, receives the transport's metrics; package
	// prommetrics reports them with etcd's names:
	// etcd_network_peer_sent_bytes_total and
	// etcd_network_peer_received_bytes_total (the bytes of messages and
	// snapshots, labelled To or From with the peer's ID in hex) and
	// etcd_network_peer_sent_failures_total (messages dropped because the
	// peer's queue was full). Nil means no metrics.
	Metrics MetricsProvider
}

// TCPTransport is the production [Transport]: framed Raft messages over
// TCP (optionally TLS), with a bounded queue, a writer goroutine and
// reconnection with exponential backoff per peer.
type TCPTransport struct {
	cfg TCPConfig
	ln  net.Listener
	h   Handler

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	peers map[uint64]*tcpPeer
	conns map[net.Conn]struct{}
	done  bool
}

var _ Transport = (*TCPTransport)(nil)

// NewTCPTransport listens on cfg.ListenAddr. Messages flow once the
// member calls Start.
func NewTCPTransport(cfg TCPConfig) (*TCPTransport, error) {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = defaultQueue
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 50 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(2*time.Second, cfg.MinBackoff)
	}
	cfg.Clock = clock.OrReal(cfg.Clock)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ListenAddr == "" {
		return nil, fmt.Errorf("%w: transport needs a listen address", ErrInvalidConfig)
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("raft: transport listen: %w", err)
	}
	if cfg.TLS != nil {
		ln = tls.NewListener(ln, cfg.TLS)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &TCPTransport{cfg: cfg, ln: ln, ctx: ctx, cancel: cancel, peers: map[uint64]*tcpPeer{}, conns: map[net.Conn]struct{}{}}, nil
}

// Addr returns the listening address.
func (t *TCPTransport) Addr() string { return t.ln.Addr().String() }

// Start implements [Transport.Start]: it accepts connections and starts
// the writers of the peers added so far.
func (t *TCPTransport) Start(h Handler) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.h != nil {
		return errors.New("raft: transport already started")
	}
	t.h = h
	for _, p := range t.peers {
		t.startPeer(p)
	}
	t.wg.Add(1)
	go t.accept()
	return nil
}

// AddPeer implements [Transport.AddPeer].
func (t *TCPTransport) AddPeer(id uint64, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done || id == t.cfg.ID {
		return
	}
	if p, ok := t.peers[id]; ok {
		p.setAddr(addr)
		return
	}
	p := &tcpPeer{t: t, id: id, met: newPeerMetrics(t.cfg.Metrics, id), addr: addr, queue: make(chan *raftpb.Message, t.cfg.QueueSize), stop: make(chan struct{})}
	t.peers[id] = p
	if t.h != nil {
		t.startPeer(p)
	}
}

func (t *TCPTransport) startPeer(p *tcpPeer) {
	t.wg.Add(1)
	go p.run()
}

// RemovePeer implements [Transport.RemovePeer].
func (t *TCPTransport) RemovePeer(id uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.peers[id]; ok {
		close(p.stop)
		delete(t.peers, id)
	}
}

// Send implements [Transport.Send]. It never blocks: a message for a full
// queue or an unknown peer is dropped and the peer reported unreachable.
func (t *TCPTransport) Send(msgs []*raftpb.Message) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return
	}
	for _, m := range msgs {
		p, ok := t.peers[m.GetTo()]
		if !ok {
			continue
		}
		if m.GetType() == raftpb.MsgSnap {
			t.wg.Add(1)
			go p.sendSnapshot(m)
			continue
		}
		select {
		case p.queue <- m:
		default:
			p.met.sentFailures.Inc()
			if t.h != nil {
				go t.h.ReportUnreachable(p.id)
			}
		}
	}
}

// Close implements [Transport.Close].
func (t *TCPTransport) Close() error {
	t.mu.Lock()
	if t.done {
		t.mu.Unlock()
		return nil
	}
	t.done = true
	for id, p := range t.peers {
		close(p.stop)
		delete(t.peers, id)
	}
	for c := range t.conns {
		c.Close()
	}
	t.mu.Unlock()
	t.cancel()
	err := t.ln.Close()
	t.wg.Wait()
	return err
}

// track registers an open connection, so that Close can end it. It
// returns false when the transport is closing.
func (t *TCPTransport) track(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return false
	}
	t.conns[c] = struct{}{}
	return true
}

func (t *TCPTransport) untrack(c net.Conn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
	c.Close()
}

func (t *TCPTransport) accept() {
	defer t.wg.Done()
	for {
		c, err := t.ln.Accept()
		if err != nil {
			if t.ctx.Err() == nil {
				t.cfg.Logger.Warn("raft: transport accept", "err", err)
			}
			return
		}
		if !t.track(c) {
			c.Close()
			return
		}
		t.wg.Add(1)
		go t.serve(c)
	}
}

// serve reads one inbound connection.
func (t *TCPTransport) serve(c net.Conn) {
	defer t.wg.Done()
	defer t.untrack(c)
	br := bufio.NewReaderSize(c, 64<<10)
	var hello [helloSize]byte
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(br, hello[:]); err != nil {
		return
	}
	c.SetReadDeadline(time.Time{})
	kind, from, to, err := parseHello(hello[:])
	if err != nil || to != t.cfg.ID {
		t.cfg.Logger.Warn("raft: transport refused connection", "remote", c.RemoteAddr(), "to", to, "err", err)
		return
	}
	var buf []byte
	var received CounterMetric = noop{}
	if t.cfg.Metrics != nil {
		received = t.cfg.Metrics.NewPeerReceivedBytesMetric(from)
	}
	switch kind {
	case kindStream:
		for {
			m, err := readMessage(br, &buf)
			if err != nil {
				if t.ctx.Err() == nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
					t.cfg.Logger.Debug("raft: transport read", "from", from, "err", err)
				}
				return
			}
			received.Add(float64(4 + len(buf)))
			if t.h.Process(t.ctx, m) != nil {
				return
			}
		}
	case kindSnapshot:
		m, err := readMessage(br, &buf)
		if err != nil || m.GetType() != raftpb.MsgSnap {
			return
		}
		var sz [8]byte
		if _, err := io.ReadFull(br, sz[:]); err != nil {
			return
		}
		size := int64(binary.BigEndian.Uint64(sz[:]))
		lr := &io.LimitedReader{R: br, N: size}
		err = t.h.ReceiveSnapshot(t.ctx, m, lr)
		received.Add(float64(4 + len(buf) + 8 + int(size-lr.N)))
		ack := byte(0)
		if err != nil || lr.N != 0 {
			ack = 1
			t.cfg.Logger.Warn("raft: receive snapshot", "from", from, "err", err)
		}
		c.SetWriteDeadline(time.Now().Add(writeTimeout))
		c.Write([]byte{ack})
	}
}

func appendHello(b []byte, kind byte, from, to uint64) []byte {
	b = append(b, helloMagic...)
	b = append(b, helloVersion, kind)
	b = binary.BigEndian.AppendUint64(b, from)
	return binary.BigEndian.AppendUint64(b, to)
}

func parseHello(b []byte) (kind byte, from, to uint64, err error) {
	if len(b) != helloSize || string(b[:4]) != helloMagic {
		return 0, 0, 0, fmt.Errorf("%w: bad hello", ErrProtocol)
	}
	if b[4] != helloVersion {
		return 0, 0, 0, fmt.Errorf("%w: version %d", ErrProtocol, b[4])
	}
	kind = b[5]
	if kind != kindStream && kind != kindSnapshot {
		return 0, 0, 0, fmt.Errorf("%w: kind %d", ErrProtocol, kind)
	}
	return kind, binary.BigEndian.Uint64(b[6:14]), binary.BigEndian.Uint64(b[14:22]), nil
}

// appendFrame appends m as one length-prefixed frame.
func appendFrame(b []byte, m *raftpb.Message) ([]byte, error) {
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	b, err := proto.MarshalOptions{}.MarshalAppend(b, m)
	if err != nil {
		return b[:start], err
	}
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	return b, nil
}

// readMessage reads one frame; buf is reused between calls, and holds the
// frame's body when it returns.
func readMessage(r io.Reader, buf *[]byte) (*raftpb.Message, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxFrameSize {
		return nil, fmt.Errorf("%w: frame of %d bytes", ErrProtocol, n)
	}
	if cap(*buf) < int(n) {
		*buf = make([]byte, n)
	}
	b := (*buf)[:n]
	*buf = b
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	m := &raftpb.Message{}
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	return m, nil
}

// tcpPeer is the outbound side towards one peer.
type tcpPeer struct {
	t     *TCPTransport
	id    uint64
	met   peerMetrics // resolved once, so that sends do no label lookup
	queue chan *raftpb.Message
	stop  chan struct{}

	mu   sync.Mutex
	addr string
}

func (p *tcpPeer) setAddr(addr string) {
	p.mu.Lock()
	p.addr = addr
	p.mu.Unlock()
}

func (p *tcpPeer) getAddr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

func (p *tcpPeer) dial(kind byte) (net.Conn, error) {
	d := &net.Dialer{Timeout: p.t.cfg.DialTimeout}
	var c net.Conn
	var err error
	ctx, cancel := context.WithTimeout(p.t.ctx, p.t.cfg.DialTimeout)
	defer cancel()
	if p.t.cfg.TLS != nil {
		td := &tls.Dialer{NetDialer: d, Config: p.t.cfg.TLS}
		c, err = td.DialContext(ctx, "tcp", p.getAddr())
	} else {
		c, err = d.DialContext(ctx, "tcp", p.getAddr())
	}
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	c.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := c.Write(appendHello(nil, kind, p.t.cfg.ID, p.id)); err != nil {
		c.Close()
		return nil, err
	}
	if !p.t.track(c) {
		c.Close()
		return nil, net.ErrClosed
	}
	return c, nil
}

// run writes queued messages to the peer, reconnecting with backoff.
func (p *tcpPeer) run() {
	defer p.t.wg.Done()
	var (
		conn    net.Conn
		bw      *bufio.Writer
		buf     []byte
		backoff = p.t.cfg.MinBackoff
	)
	defer func() {
		if conn != nil {
			p.t.untrack(conn)
		}
	}()
	for {
		var m *raftpb.Message
		select {
		case <-p.stop:
			return
		case m = <-p.queue:
		}
		if conn == nil {
			c, err := p.dial(kindStream)
			if err != nil {
				p.t.cfg.Logger.Debug("raft: dial peer", "peer", fmt.Sprintf("%x", p.id), "err", err)
				p.dropQueued()
				p.t.h.ReportUnreachable(p.id)
				timer := p.t.cfg.Clock.NewTimer(backoff)
				select {
				case <-p.stop:
					timer.Stop()
					return
				case <-timer.C():
				}
				backoff = min(2*backoff, p.t.cfg.MaxBackoff)
				continue
			}
			conn, bw = c, bufio.NewWriterSize(c, 64<<10)
			backoff = p.t.cfg.MinBackoff
		}
		err := p.write(conn, bw, m, &buf)
		if err != nil {
			p.t.cfg.Logger.Debug("raft: write to peer", "peer", fmt.Sprintf("%x", p.id), "err", err)
			p.t.untrack(conn)
			conn, bw = nil, nil
			p.t.h.ReportUnreachable(p.id)
		}
	}
}

// write writes m and whatever else is queued, then flushes.
func (p *tcpPeer) write(conn net.Conn, bw *bufio.Writer, m *raftpb.Message, buf *[]byte) error {
	sent := p.met.sentBytes
	conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	for m != nil {
		b, err := appendFrame((*buf)[:0], m)
		if err != nil {
			return err
		}
		*buf = b
		if _, err := bw.Write(b); err != nil {
			return err
		}
		sent.Add(float64(len(b)))
		select {
		case m = <-p.queue:
		default:
			m = nil
		}
	}
	return bw.Flush()
}

func (p *tcpPeer) dropQueued() {
	for {
		select {
		case <-p.queue:
		default:
			return
		}
	}
}

// sendSnapshot streams a snapshot to the peer on its own connection and
// reports the outcome to Raft.
func (p *tcpPeer) sendSnapshot(m *raftpb.Message) {
	defer p.t.wg.Done()
	err := p.streamSnapshot(m)
	if err != nil {
		p.t.cfg.Logger.Warn("raft: send snapshot", "peer", fmt.Sprintf("%x", p.id), "err", err)
	}
	p.t.h.ReportSnapshot(p.id, err != nil)
}

func (p *tcpPeer) streamSnapshot(m *raftpb.Message) error {
	rc, size, err := p.t.h.OpenSnapshot(m)
	if err != nil {
		return err
	}
	defer rc.Close()
	c, err := p.dial(kindSnapshot)
	if err != nil {
		return err
	}
	defer p.t.untrack(c)
	bw := bufio.NewWriterSize(c, 256<<10)
	frame, err := appendFrame(nil, m)
	if err != nil {
		return err
	}
	frame = binary.BigEndian.AppendUint64(frame, uint64(size))
	c.SetWriteDeadline(time.Time{})
	if _, err := bw.Write(frame); err != nil {
		return err
	}
	n, err := io.Copy(bw, rc)
	p.met.sentBytes.Add(float64(len(frame) + int(n)))
	if err != nil || n != size {
		return fmt.Errorf("raft: snapshot stream: wrote %d of %d bytes: %v", n, size, err)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	c.SetReadDeadline(time.Now().Add(snapAckTimeout))
	var ack [1]byte
	if _, err := io.ReadFull(c, ack[:]); err != nil {
		return err
	}
	if ack[0] != 0 {
		return errors.New("raft: peer failed to store the snapshot")
	}
	return nil
}
