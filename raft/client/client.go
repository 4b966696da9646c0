// Package client carries the Raft KV's API to remote processes: [Server]
// serves a member's [kv.KV] (or any other engine) and [Client] implements
// [kv.KV] over it, so that a controller in another process uses a cluster
// exactly as it would use an embedded engine, watches included.
//
// Two protocols share one listener. The framed protocol (host:port
// endpoints) multiplexes every concurrent call of a Client over one TCP
// connection per member, with compact binary payloads, writing requests
// and answers in batches; it is the fast one. HTTP/JSON ([Handler],
// http:// endpoints) is there for curl and for servers that mount the API
// on their own mux.
//
// # Failover
//
// A client sends its calls to one endpoint while it answers, and leaves
// a member that fails: one it cannot dial, one that does not answer
// within [Config.AttemptTimeout] (paused, or cut off with its connection
// open), one that answers [rafterr.ErrNoLeader] (a [Server] refuses the
// calls that need a leader, and watches, on a member that knows of none,
// as one cut off from its peers does after an election timeout), or one
// that is stopping. The member is then skipped for a jittered backoff
// ([Config.Backoff], doubling with each failure in a row up to
// [Config.MaxBackoff]) and tried again once it has passed; a connection
// on which nothing came for a whole attempt timeout is dropped.
//
// What moves to the next endpoint depends on what is safe to repeat.
// Reads (Range, read-only Txn, RequestProgress) and watch openings go
// there; so does a write that certainly was not proposed: its member
// could not be dialled, its connection had broken before it was queued,
// or the member refused it for want of a leader. When every endpoint has
// failed the call starts over, up to [Config.MaxRetries] times, waiting
// for the first member's backoff. A read whose connection breaks mid-call
// is first sent once more to the same member. A write whose outcome is
// unknown (its connection broke, or its member did not answer in time)
// fails with [ErrConnBroken], which [ErrAttemptTimeout] wraps: retry it
// only if it is safe to repeat, such as a Txn guarded by a revision
// compare. So a paused or isolated member costs a caller about one
// attempt timeout, and the writes in flight to it.
//
// The client follows a [rafterr.NotLeaderError] to the leader it names. A
// watch whose stream breaks is opened again from the revision after the
// last one it delivered, on the same member or the next (see
// [Client.Watch]); so is a watch whose member loses its leader, since a
// member cut off from its peers would deliver nothing more: a [Server]
// ends the watches it serves with [rafterr.ErrNoLeader] then.
// Errors keep their identity across the wire: errors.Is(err,
// kv.ErrCompacted) holds on the client as on the server.
//
// # Memory
//
// Values in a response of the framed protocol ([kv.KeyValue].Value) share
// the memory of the frame that carried them: keeping one keeps the frame.
package client

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/raft/rafterr"
	"github.com/governor-io/governor/store/kv"
)

// Config configures a [Client].
type Config struct {
	// Endpoints are the members' client addresses: host:port for the
	// framed protocol, http(s)://host:port for HTTP/JSON. At least one is
	// required.
	Endpoints []string
	// TLS, when set, is used to reach https endpoints and to wrap framed
	// connections.
	TLS *tls.Config
	// HTTPClient, when set, replaces the client's own HTTP client.
	HTTPClient *http.Client

	// AttemptTimeout bounds one attempt of a call at one member: a member
	// that has not answered by then is left for the next endpoint (a read
	// is sent there; a write fails with [ErrAttemptTimeout], since it may
	// have taken effect). It bounds what a paused or isolated member costs
	// a caller, so keep it near the cluster's election timeout, above the
	// time the largest Range takes. Zero means [DefaultAttemptTimeout];
	// negative means no bound but the caller's context.
	AttemptTimeout time.Duration
	// Backoff is how long a member that failed is left alone before it is
	// tried again; each further failure in a row doubles it, up to
	// MaxBackoff. Each wait is jittered over [d/2, d). Zero means
	// [DefaultBackoff] and [DefaultMaxBackoff].
	Backoff, MaxBackoff time.Duration
	// MaxRetries bounds how many times a call that is safe to repeat
	// starts over after it failed at every endpoint. Zero means
	// [DefaultMaxRetries]; negative means none.
	MaxRetries int
	// Clock times attempts and backoffs. Nil means the wall clock.
	Clock clock.Clock
	// Rand draws the backoffs' jitter; a seeded one makes them
	// reproducible. The client uses it under its own lock. Nil means a
	// randomly seeded one.
	Rand *rand.Rand
}

// ErrNoEndpoints is returned by [New] for a [Config] without endpoints.
var ErrNoEndpoints = errors.New("client: no endpoints")

// Client is a [kv.KV] backed by a remote cluster. It is safe for
// concurrent use.
type Client struct {
	endpoints []string // framed: host:port; HTTP: a URL
	hc        *http.Client
	tls       *tls.Config
	eps       *endpoints
	clock     clock.Clock

	attemptTimeout time.Duration
	maxRetries     int

	mu      sync.Mutex
	closed  bool
	conns   map[string]*fconn
	watches map[*watchStream]struct{}
	wg      sync.WaitGroup
}

var _ kv.KV = (*Client)(nil)

// New returns a client of the cluster at cfg.Endpoints. It does not
// connect until the first call.
func New(cfg Config) (*Client, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, ErrNoEndpoints
	}
	c := &Client{hc: cfg.HTTPClient, tls: cfg.TLS, watches: map[*watchStream]struct{}{}, conns: map[string]*fconn{}}
	for _, e := range cfg.Endpoints {
		c.endpoints = append(c.endpoints, strings.TrimRight(e, "/"))
	}
	c.clock = clock.OrReal(cfg.Clock)
	c.attemptTimeout = cmp.Or(cfg.AttemptTimeout, DefaultAttemptTimeout)
	c.maxRetries = max(cmp.Or(cfg.MaxRetries, DefaultMaxRetries), 0)
	backoff := cmp.Or(cfg.Backoff, DefaultBackoff)
	maxBackoff := max(cmp.Or(cfg.MaxBackoff, DefaultMaxBackoff), backoff)
	rnd := cfg.Rand
	if rnd == nil {
		rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	c.eps = newEndpoints(c.endpoints, c.clock, backoff, maxBackoff, rnd)
	if c.hc == nil {
		tr := &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 512,
			IdleConnTimeout:     90 * time.Second,
			TLSClientConfig:     cfg.TLS,
			ForceAttemptHTTP2:   false,
		}
		c.hc = &http.Client{Transport: tr}
	}
	return c, nil
}

func normalize(e, scheme string) string {
	if isHTTP(e) {
		return strings.TrimRight(e, "/")
	}
	return scheme + e
}

// isHTTP reports whether endpoint e speaks HTTP/JSON.
func isHTTP(e string) bool {
	return strings.HasPrefix(e, "http://") || strings.HasPrefix(e, "https://")
}

// conn returns the shared framed connection to addr, dialling it if
// needed.
func (c *Client) conn(ctx context.Context, addr string) (*fconn, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, kv.ErrClosed
	}
	fc := c.conns[addr]
	c.mu.Unlock()
	if fc != nil && !fc.broken() {
		return fc, nil
	}
	dctx, release := c.withAttemptTimeout(ctx)
	nc, err := dialFramed(dctx, addr, c.tls)
	release()
	if err != nil {
		return nil, attemptErr(ctx, dctx, addr, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		nc.Close()
		return nil, kv.ErrClosed
	}
	if cur := c.conns[addr]; cur != nil && !cur.broken() {
		nc.Close() // another caller dialled first
		return cur, nil
	}
	fc = newFconn(nc)
	c.conns[addr] = fc
	return fc, nil
}

// callAt makes one call at one endpoint, over the protocol the endpoint
// names.
func (c *Client) callAt(ctx context.Context, endpoint string, typ byte, req request, out result) error {
	if isHTTP(endpoint) {
		return c.doAt(ctx, endpoint, paths[typ], req, out)
	}
	fc, err := c.conn(ctx, endpoint)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &notSentError{err}
	}
	err = fc.call(ctx, typ, req, out, c.clock, c.attemptTimeout)
	if errors.Is(err, ErrAttemptTimeout) {
		return fmt.Errorf("client: %s: %w", endpoint, err)
	}
	return err
}

var paths = map[byte]string{
	frameRange: pathRange, frameTxn: pathTxn, frameCompact: pathCompact,
	frameProgress: pathProgress, frameWatch: pathWatch,
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// do sends req to the current endpoint and decodes the answer into out,
// moving to another endpoint when one fails (see [Client.each]) and
// following a NotLeaderError once.
func (c *Client) do(ctx context.Context, typ byte, req request, out result, idempotent bool) error {
	if err := ctx.Err(); err != nil {
		return err // a caller that has given up gets nothing sent, let alone applied
	}
	if c.isClosed() {
		return kv.ErrClosed
	}
	redirected := false
	leader := ""
	err := c.each(ctx, idempotent, func(ctx context.Context, addr string) error {
		err := c.callAt(ctx, addr, typ, req, out)
		var nl *rafterr.NotLeaderError
		if redirected || !errors.As(err, &nl) || nl.LeaderAddr == "" {
			return err
		}
		redirected = true
		to := nl.LeaderAddr
		if isHTTP(addr) {
			to = normalize(to, "http://")
		}
		err = c.callAt(ctx, to, typ, req, out)
		if err != nil && idempotent && resendable(ctx, err) {
			err = c.callAt(ctx, to, typ, req, out)
		}
		if err == nil {
			leader = to
		}
		return err
	})
	if err == nil && leader != "" {
		c.eps.setCurrent(leader)
	}
	return err
}

// each runs try at one endpoint after another until it succeeds or fails
// in a way that another endpoint would not mend, and returns its last
// error.
//
// A call that is safe to repeat (a read, or a write that certainly never
// reached a member, or that a member refused with [rafterr.ErrNoLeader]
// before proposing it) moves to the next endpoint when a member cannot be
// reached, does not answer within the attempt timeout, has no leader or
// is stopping; once every endpoint failed it starts over, up to
// maxRetries times, waiting for the first member's backoff to pass. A
// call whose connection broke is first sent once more to the same member
// over a fresh connection. Any other call fails with its error; a write
// whose outcome is unknown wraps [ErrConnBroken].
func (c *Client) each(ctx context.Context, idempotent bool, try func(ctx context.Context, addr string) error) error {
	n := c.eps.len()
	var buf [8]bool
	var tried []bool // this pass's
	if n <= len(buf) {
		tried = buf[:n]
	} else {
		tried = make([]bool, n)
	}
	var lastErr error
	resent := false
	for retries := 0; ; {
		idx, wait, ok := c.eps.pick(tried)
		if !ok {
			if retries >= c.maxRetries {
				return lastErr
			}
			retries++
			clear(tried)
			continue
		}
		if err := sleep(ctx, c.clock, wait); err != nil {
			if lastErr == nil {
				return err
			}
			return fmt.Errorf("%w (last error: %w)", err, lastErr)
		}
		tried[idx] = true
		addr := c.eps.addr(idx)
		err := try(ctx, addr)
		if err != nil && !resent && (idempotent || notSent(err)) && resendable(ctx, err) {
			resent = true // the same member, over a fresh connection
			err = try(ctx, addr)
		}
		if err == nil {
			c.eps.succeeded(idx)
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		if c.isClosed() {
			return kv.ErrClosed
		}
		if !unavailable(err) {
			return err
		}
		c.eps.failed(idx)
		if !idempotent && !notSent(err) && !errors.Is(err, rafterr.ErrNoLeader) {
			return err // it may have taken effect
		}
		lastErr = err
	}
}

// withAttemptTimeout returns a context that the attempt timeout ends with
// the cause ErrAttemptTimeout, and the function that releases it.
func (c *Client) withAttemptTimeout(ctx context.Context) (context.Context, func()) {
	if c.attemptTimeout <= 0 {
		return ctx, func() {}
	}
	actx, cancel := context.WithCancelCause(ctx)
	t := c.clock.AfterFunc(c.attemptTimeout, func() { cancel(ErrAttemptTimeout) })
	return actx, func() {
		t.Stop()
		cancel(nil)
	}
}

// attemptErr turns the error of an attempt whose context the attempt
// timeout ended into ErrAttemptTimeout.
func attemptErr(ctx, actx context.Context, addr string, err error) error {
	if err != nil && ctx.Err() == nil && timedOut(actx) {
		return fmt.Errorf("client: %s: %w", addr, ErrAttemptTimeout)
	}
	return err
}

// timedOut reports whether the attempt timeout ended actx.
func timedOut(actx context.Context) bool {
	return errors.Is(context.Cause(actx), ErrAttemptTimeout)
}

// ErrAttemptTimeout reports a member that did not answer a call within
// [Config.AttemptTimeout]. It wraps [ErrConnBroken]: a write that meets
// it may or may not have taken effect. A read that meets it is sent to
// the next endpoint.
var ErrAttemptTimeout = fmt.Errorf("%w: no answer within the attempt timeout", ErrConnBroken)

// notSentError marks a call that certainly never reached a member: the
// connection could not be made, or had broken before the call was
// queued on it. Any call may be repeated after it.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }

// notSent reports whether err certainly left the call unsent.
func notSent(err error) bool {
	var ns *notSentError
	var op *net.OpError
	return errors.As(err, &ns) || errors.As(err, &op) && op.Op == "dial"
}

// unavailable reports whether err says something about the member rather
// than the call: it could not be reached, did not answer, broke the
// connection, has no leader, or is stopping. Another member may answer.
func unavailable(err error) bool {
	if errors.Is(err, ErrProtocol) {
		return false
	}
	return notSent(err) || errors.Is(err, ErrConnBroken) || errors.Is(err, rafterr.ErrNoLeader) ||
		errors.Is(err, rafterr.ErrStopped) || errors.Is(err, rafterr.ErrTimeout) || errors.Is(err, kv.ErrClosed)
}

// resendable reports whether a call may be sent again to the same member
// after err: its connection broke (not because the stream was garbage,
// nor because the client closed, nor because the member stayed silent
// for an attempt timeout), and the caller still waits.
func resendable(ctx context.Context, err error) bool {
	return ctx.Err() == nil && errors.Is(err, ErrConnBroken) && !errors.Is(err, ErrProtocol) &&
		!errors.Is(err, errConnClosed) && !errors.Is(err, ErrAttemptTimeout) && !errors.Is(err, errSilent)
}

// doAt makes a call over HTTP. The attempt timeout bounds it from the
// moment its request is encoded.
func (c *Client) doAt(ctx context.Context, endpoint, path string, req request, out result) error {
	payload, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("client: encode request: %w", err)
	}
	actx, release := c.withAttemptTimeout(ctx)
	defer release()
	return attemptErr(ctx, actx, endpoint, c.post(actx, endpoint+path, payload, out))
}

func (c *Client) post(ctx context.Context, url string, payload []byte, out result) error {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(hreq)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("client: read response: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return decodeErrorBody(data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%w: bad response: %v", ErrProtocol, err)
	}
	return nil
}

// Range implements [kv.KV.Range]. [kv.RangeRequest.Serializable] asks the
// member for a serializable read. A Range whose connection
// breaks before its answer comes is sent once more (see [ErrConnBroken]).
func (c *Client) Range(ctx context.Context, req kv.RangeRequest) (*kv.RangeResponse, error) {
	// One allocation for both: the request escapes to the protocol.
	call := &struct {
		req  rangeRequest
		resp kv.RangeResponse
	}{req: rangeRequest{RangeRequest: req}}
	if err := c.do(ctx, frameRange, &call.req, (*rangeResult)(&call.resp), true); err != nil {
		return nil, err
	}
	return &call.resp, nil
}

// Txn implements [kv.KV.Txn]. A read-only transaction (no put or delete
// in either branch) whose connection breaks before its answer comes is
// sent once more; any other fails with [ErrConnBroken], because it may or
// may not have taken effect.
func (c *Client) Txn(ctx context.Context, req kv.TxnRequest) (*kv.TxnResponse, error) {
	call := &struct {
		req  txnRequest
		resp kv.TxnResponse
	}{req: txnRequest(req)}
	if err := c.do(ctx, frameTxn, &call.req, (*txnResult)(&call.resp), readOnly(&req)); err != nil {
		return nil, err
	}
	return &call.resp, nil
}

// readOnly reports whether a transaction only reads.
func readOnly(req *kv.TxnRequest) bool {
	for _, ops := range [][]kv.Op{req.Success, req.Failure} {
		for i := range ops {
			if ops[i].Type != kv.OpRange {
				return false
			}
		}
	}
	return true
}

// Compact implements [kv.KV.Compact].
func (c *Client) Compact(ctx context.Context, rev int64) error {
	return c.do(ctx, frameCompact, &compactRequest{Revision: rev}, &emptyResult{}, false)
}

// RequestProgress implements [kv.KV.RequestProgress] on the member the
// client is talking to (where its watches are).
func (c *Client) RequestProgress(ctx context.Context) error {
	return c.do(ctx, frameProgress, progressRequest{}, &emptyResult{}, true)
}

// Close implements [kv.KV.Close]: it ends the open watches with
// [kv.ErrClosed] and releases idle connections.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return kv.ErrClosed
	}
	c.closed = true
	for w := range c.watches {
		w.cancel()
	}
	for _, fc := range c.conns {
		fc.close()
	}
	c.mu.Unlock()
	c.wg.Wait()
	c.hc.CloseIdleConnections()
	return nil
}

type watchStream struct {
	cancel context.CancelFunc
}

// Watch implements [kv.KV.Watch] over a stream of its own (a framed
// connection, or a streamed HTTP response). If the stream breaks, or its
// member loses its leader, the client opens the watch again, at the same member or the next, from the
// revision after the last one a response brought it to, and the caller
// sees no break. A watch from the current revision (StartRevision zero)
// that has had no response yet cannot be resumed without a possible gap:
// it ends with [ErrStreamBroken], as does a watch that cannot be opened
// again; a new watch from the last revision seen plus one resumes it.
func (c *Client) Watch(ctx context.Context, req kv.WatchRequest) (<-chan kv.WatchResponse, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, kv.ErrClosed
	}
	wctx, cancel := context.WithCancel(ctx)
	ws := &watchStream{cancel: cancel}
	c.watches[ws] = struct{}{}
	c.wg.Add(1)
	c.mu.Unlock()
	release := func() {
		cancel()
		c.mu.Lock()
		delete(c.watches, ws)
		c.mu.Unlock()
		c.wg.Done()
	}
	src, err := c.openWatch(wctx, &req)
	if err != nil {
		release()
		if c.isClosed() {
			return nil, kv.ErrClosed
		}
		return nil, err
	}
	ch := make(chan kv.WatchResponse, 64)
	go func() {
		defer release()
		defer close(ch)
		c.pump(wctx, ctx, req, src, ch)
	}()
	return ch, nil
}

// watchSource is an open watch stream.
type watchSource interface {
	// next returns the next response; an error means the stream ended
	// (ErrProtocol: it carried something undecodable).
	next() (kv.WatchResponse, error)
	close()
}

// openWatch opens the watch at the current endpoint, or at the next
// ones as a read would be sent there (see [Client.each]).
func (c *Client) openWatch(ctx context.Context, req *kv.WatchRequest) (watchSource, error) {
	var src watchSource
	err := c.each(ctx, true, func(ctx context.Context, addr string) error {
		var err error
		if isHTTP(addr) {
			src, err = c.openHTTPWatch(ctx, addr, req)
		} else {
			src, err = c.openFramedWatch(ctx, addr, req)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return src, nil
}

type httpWatch struct {
	body   io.ReadCloser
	sc     *bufio.Scanner
	cancel context.CancelCauseFunc
}

func (w *httpWatch) next() (kv.WatchResponse, error) {
	if !w.sc.Scan() {
		err := w.sc.Err()
		if err == nil {
			err = io.EOF
		}
		return kv.WatchResponse{}, err
	}
	return decodeWatchLine(w.sc.Bytes())
}

func (w *httpWatch) close() {
	w.body.Close()
	w.cancel(nil)
}

// openHTTPWatch opens a watch over HTTP. The attempt timeout bounds the
// wait for the response's header, not the stream that follows.
func (c *Client) openHTTPWatch(ctx context.Context, endpoint string, wreq *kv.WatchRequest) (watchSource, error) {
	payload, err := json.Marshal(wreq)
	if err != nil {
		return nil, fmt.Errorf("client: encode request: %w", err)
	}
	rctx, cancel := context.WithCancelCause(ctx)
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, endpoint+pathWatch, bytes.NewReader(payload))
	if err != nil {
		cancel(nil)
		return nil, fmt.Errorf("client: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	stop := func() bool { return true }
	if c.attemptTimeout > 0 {
		t := c.clock.AfterFunc(c.attemptTimeout, func() { cancel(ErrAttemptTimeout) })
		stop = t.Stop
	}
	resp, err := c.hc.Do(req)
	if !stop() && err == nil {
		resp.Body.Close() // the header came as the timeout passed
		err = ErrAttemptTimeout
	}
	if err != nil {
		cancel(nil)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, attemptErr(ctx, rctx, endpoint, err)
	}
	if resp.StatusCode/100 != 2 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		cancel(nil)
		return nil, decodeErrorBody(data)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 256<<20)
	return &httpWatch{body: resp.Body, sc: sc, cancel: cancel}, nil
}

// framedWatch is a watch on a framed connection of its own, so that a
// slow watcher never holds up other calls; closing it ends the watch.
type framedWatch struct {
	nc   net.Conn
	br   *bufio.Reader
	once sync.Once
}

func (w *framedWatch) next() (kv.WatchResponse, error) {
	f, err := readFrame(w.br, maxFrame)
	if err != nil {
		return kv.WatchResponse{}, err
	}
	it, err := decodeWatchFrame(f)
	if err == nil && it.openErr != nil {
		err = fmt.Errorf("%w: error frame after the watch opened: %v", ErrProtocol, it.openErr)
	}
	return it.resp, err
}

func (w *framedWatch) close() { w.once.Do(func() { w.nc.Close() }) }

type watchItem struct {
	resp    kv.WatchResponse
	openErr error
}

// openFramedWatch opens a watch on a framed connection of its own. The
// attempt timeout bounds the dial and the wait for the server's
// acknowledgement, not the stream that follows.
func (c *Client) openFramedWatch(ctx context.Context, addr string, req *kv.WatchRequest) (watchSource, error) {
	actx, release := c.withAttemptTimeout(ctx)
	defer release()
	nc, err := dialFramed(actx, addr, c.tls)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, attemptErr(ctx, actx, addr, &notSentError{err})
	}
	w := &framedWatch{nc: nc, br: bufio.NewReaderSize(nc, 64<<10)}
	stop := context.AfterFunc(actx, w.close)
	fail := func(err error) (watchSource, error) {
		stop()
		w.close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, attemptErr(ctx, actx, addr, err)
	}
	b, start := startFrame(nil, 1, frameWatch)
	b = appendWatchRequest(b, req)
	finishFrame(b, start)
	if _, err := nc.Write(b); err != nil {
		return fail(fmt.Errorf("%w: watch: %w", ErrConnBroken, err))
	}
	f, err := readFrame(w.br, maxFrame)
	if err != nil {
		return fail(fmt.Errorf("%w: watch: %w", ErrConnBroken, err))
	}
	if !stop() {
		return fail(fmt.Errorf("%w: watch: connection closed as it opened", ErrConnBroken))
	}
	switch f.typ {
	case frameResult:
		if err := decodeEmpty(f.payload); err != nil {
			return fail(err)
		}
		return w, nil
	case frameError:
		return fail(decodeResult(f, &emptyResult{}))
	}
	return fail(fmt.Errorf("%w: unexpected frame type %d opening a watch", ErrProtocol, f.typ))
}

// pump copies the stream's responses to ch until the watch ends. When
// the stream breaks, it opens the watch again from the revision after the
// last one a response brought it to, at the same member or the next (as
// a read would be sent there), so that the caller sees no break and no
// gap.
func (c *Client) pump(wctx, userCtx context.Context, req kv.WatchRequest, src watchSource, ch chan<- kv.WatchResponse) {
	send := func(r kv.WatchResponse) bool {
		select {
		case ch <- r:
			return true
		case <-wctx.Done():
			return false
		}
	}
	for {
		ended, err := c.drain(wctx, src, &req, send)
		if ended || userCtx.Err() != nil {
			return // the watch ended with an error sent, or the caller ended it
		}
		if c.isClosed() {
			select {
			case ch <- kv.WatchResponse{Err: kv.ErrClosed}:
			default:
			}
			return
		}
		if errors.Is(err, ErrProtocol) {
			send(kv.WatchResponse{Err: err})
			return
		}
		broken := fmt.Errorf("%w: watch stream ended: %v", ErrStreamBroken, err)
		if req.StartRevision == 0 {
			// It began at the member's revision of the moment, which no
			// response has told: resuming could skip or repeat changes.
			send(kv.WatchResponse{Err: broken})
			return
		}
		if src, err = c.openWatch(wctx, &req); err != nil {
			if userCtx.Err() == nil {
				send(kv.WatchResponse{Err: fmt.Errorf("%w; resuming it: %w", broken, err)})
			}
			return
		}
	}
}

// drain copies src's responses to the watch's channel (through send)
// and moves req.StartRevision past each. It returns ended when the watch
// is over (a response carried its error, or the caller stopped
// listening), and otherwise the error that ended the stream.
func (c *Client) drain(wctx context.Context, src watchSource, req *kv.WatchRequest, send func(kv.WatchResponse) bool) (ended bool, err error) {
	stop := context.AfterFunc(wctx, src.close)
	defer func() {
		stop()
		src.close()
	}()
	for {
		r, err := src.next()
		if err != nil {
			return false, err
		}
		if errors.Is(r.Err, rafterr.ErrNoLeader) {
			return false, r.Err // its member lost its leader: resume elsewhere
		}
		if !send(r) || r.Err != nil {
			return true, nil
		}
		if r.Revision >= req.StartRevision {
			req.StartRevision = r.Revision + 1
		}
	}
}

// ErrStreamBroken ends a watch whose connection to the member broke.
var ErrStreamBroken = errors.New("client: watch stream broken")
