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
// The client tries its endpoints in turn when one cannot be reached, and
// follows a [raft.NotLeaderError] to the leader it names. A read whose
// framed connection breaks mid-call is sent once more; a write fails with
// [ErrConnBroken], since it may or may not have taken effect. Errors keep
// their identity across the wire: errors.Is(err, kv.ErrCompacted) holds
// on the client as on the server.
//
// Values in a response of the framed protocol ([kv.KeyValue].Value) share
// the memory of the frame that carried them: keeping one keeps the frame.
package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/governor-io/governor/raft"
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
}

// ErrNoEndpoints is returned by [New] for a [Config] without endpoints.
var ErrNoEndpoints = errors.New("client: no endpoints")

// Client is a [kv.KV] backed by a remote cluster. It is safe for
// concurrent use.
type Client struct {
	endpoints []string // framed: host:port; HTTP: a URL
	hc        *http.Client
	tls       *tls.Config
	cur       atomic.Int64 // index of the endpoint in use

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
	nc, err := dialFramed(ctx, addr, c.tls)
	if err != nil {
		return nil, err
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
		return err
	}
	return fc.call(ctx, typ, req, out)
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

// retriable reports whether a call may be repeated at another endpoint:
// the request never reached a server.
func retriable(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// do sends req to the current endpoint (trying the others when one
// cannot be reached, and following a NotLeaderError once) and decodes the
// answer into out.
//
// A read (idempotent) whose framed connection broke before its answer
// came is sent once more, on a fresh connection or, if its member cannot
// be reached any more, at the next endpoint. A write is not: its outcome
// is unknown, and the caller gets [ErrConnBroken].
func (c *Client) do(ctx context.Context, typ byte, req request, out result, idempotent bool) error {
	if err := ctx.Err(); err != nil {
		return err // a caller that has given up gets nothing sent, let alone applied
	}
	if c.isClosed() {
		return kv.ErrClosed
	}
	start := int(c.cur.Load())
	var lastErr error
	redirected, resent := false, false
	for i := 0; i < len(c.endpoints); i++ {
		idx := (start + i) % len(c.endpoints)
		err := c.callAt(ctx, c.endpoints[idx], typ, req, out)
		if err == nil {
			c.cur.Store(int64(idx))
			return nil
		}
		if idempotent && !resent && resendable(ctx, err) {
			resent = true
			i-- // the same endpoint, over a fresh connection
			continue
		}
		var nl *raft.NotLeaderError
		if !redirected && errors.As(err, &nl) && nl.LeaderAddr != "" {
			redirected = true
			addr := nl.LeaderAddr
			if isHTTP(c.endpoints[idx]) {
				addr = normalize(addr, "http://")
			}
			err := c.callAt(ctx, addr, typ, req, out)
			if err != nil && idempotent && !resent && resendable(ctx, err) {
				resent = true
				err = c.callAt(ctx, addr, typ, req, out)
			}
			if err != nil {
				return err
			}
			for j, e := range c.endpoints {
				if e == addr {
					c.cur.Store(int64(j))
				}
			}
			return nil
		}
		if !retriable(err) {
			return err
		}
		lastErr = err
	}
	return lastErr
}

// resendable reports whether a read may be sent again after err: its
// connection broke (not because the stream was garbage, nor because the
// client closed), and the caller still waits.
func resendable(ctx context.Context, err error) bool {
	return ctx.Err() == nil && errors.Is(err, ErrConnBroken) && !errors.Is(err, ErrProtocol) && !errors.Is(err, errConnClosed)
}

func (c *Client) doAt(ctx context.Context, endpoint, path string, req request, out result) error {
	payload, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("client: encode request: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+path, bytes.NewReader(payload))
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

// Range implements [kv.KV.Range]. A context from [raft.WithSerializable]
// asks the member for a serializable read. A Range whose connection
// breaks before its answer comes is sent once more (see [ErrConnBroken]).
func (c *Client) Range(ctx context.Context, req kv.RangeRequest) (*kv.RangeResponse, error) {
	// One allocation for both: the request escapes to the protocol.
	call := &struct {
		req  rangeRequest
		resp kv.RangeResponse
	}{req: rangeRequest{RangeRequest: req, Serializable: raft.IsSerializable(ctx)}}
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
// connection, or a streamed HTTP response). If the stream breaks, the
// watch ends with an error (never a silent gap); a new watch from the last
// revision seen plus one resumes it.
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
	stop := context.AfterFunc(wctx, src.close)
	go func() {
		defer release()
		defer close(ch)
		defer stop()
		defer src.close()
		c.pump(wctx, ctx, src, ch)
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

func (c *Client) openWatch(ctx context.Context, req *kv.WatchRequest) (watchSource, error) {
	start := int(c.cur.Load())
	var lastErr error
	for i := 0; i < len(c.endpoints); i++ {
		idx := (start + i) % len(c.endpoints)
		var src watchSource
		var err error
		if isHTTP(c.endpoints[idx]) {
			src, err = c.openHTTPWatch(ctx, c.endpoints[idx], req)
		} else {
			src, err = c.openFramedWatch(ctx, c.endpoints[idx], req)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if !retriable(err) {
				return nil, err
			}
			lastErr = err
			continue
		}
		c.cur.Store(int64(idx))
		return src, nil
	}
	return nil, lastErr
}

type httpWatch struct {
	body io.ReadCloser
	sc   *bufio.Scanner
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

func (w *httpWatch) close() { w.body.Close() }

func (c *Client) openHTTPWatch(ctx context.Context, endpoint string, wreq *kv.WatchRequest) (watchSource, error) {
	payload, err := json.Marshal(wreq)
	if err != nil {
		return nil, fmt.Errorf("client: encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+pathWatch, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		return nil, decodeErrorBody(data)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 256<<20)
	return &httpWatch{body: resp.Body, sc: sc}, nil
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

func (c *Client) openFramedWatch(ctx context.Context, addr string, req *kv.WatchRequest) (watchSource, error) {
	nc, err := dialFramed(ctx, addr, c.tls)
	if err != nil {
		return nil, err
	}
	w := &framedWatch{nc: nc, br: bufio.NewReaderSize(nc, 64<<10)}
	stop := context.AfterFunc(ctx, w.close)
	defer stop()
	b, start := startFrame(nil, 1, frameWatch)
	b = appendWatchRequest(b, req)
	finishFrame(b, start)
	if _, err := nc.Write(b); err != nil {
		w.close()
		return nil, err
	}
	f, err := readFrame(w.br, maxFrame)
	if err != nil {
		w.close()
		return nil, fmt.Errorf("%w: watch: %w", ErrConnBroken, err)
	}
	switch f.typ {
	case frameResult:
		if err := decodeEmpty(f.payload); err != nil {
			w.close()
			return nil, err
		}
		return w, nil
	case frameError:
		w.close()
		return nil, decodeResult(f, &emptyResult{})
	}
	w.close()
	return nil, fmt.Errorf("%w: unexpected frame type %d opening a watch", ErrProtocol, f.typ)
}

// pump copies the stream's responses to ch until the stream ends.
func (c *Client) pump(wctx, userCtx context.Context, src watchSource, ch chan<- kv.WatchResponse) {
	send := func(r kv.WatchResponse) bool {
		select {
		case ch <- r:
			return true
		case <-wctx.Done():
			return false
		}
	}
	var err error
	for {
		var r kv.WatchResponse
		r, err = src.next()
		if err != nil {
			break
		}
		if !send(r) || r.Err != nil {
			return
		}
	}
	if userCtx.Err() != nil {
		return // the caller ended the watch
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
	send(kv.WatchResponse{Err: fmt.Errorf("%w: watch stream ended: %v", ErrStreamBroken, err)})
}

// ErrStreamBroken ends a watch whose connection to the member broke.
var ErrStreamBroken = errors.New("client: watch stream broken")
