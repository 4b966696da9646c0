// Package client carries the Raft KV's API over HTTP/JSON: [Handler] serves
// a member's [kv.KV] (or any other engine) to remote processes, and
// [Client] implements [kv.KV] over it, so that a controller in another
// process uses a cluster exactly as it would use an embedded engine,
// watches included.
//
// The client tries its endpoints in turn when one cannot be reached, and
// follows a [raft.NotLeaderError] to the leader it names. Errors keep
// their identity across the wire: errors.Is(err, kv.ErrCompacted) holds
// on the client as on the server.
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
	// Endpoints are the members' client addresses, as host:port or
	// http(s)://host:port. At least one is required.
	Endpoints []string
	// TLS, when set, is used to reach https endpoints (and host:port
	// endpoints, which then mean https).
	TLS *tls.Config
	// HTTPClient, when set, replaces the client's own HTTP client.
	HTTPClient *http.Client
}

// ErrNoEndpoints: a Config without endpoints.
var ErrNoEndpoints = errors.New("client: no endpoints")

// Client is a [kv.KV] backed by a remote cluster. It is safe for
// concurrent use.
type Client struct {
	endpoints []string
	hc        *http.Client
	cur       atomic.Int64 // index of the endpoint in use

	mu      sync.Mutex
	closed  bool
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
	c := &Client{hc: cfg.HTTPClient, watches: map[*watchStream]struct{}{}}
	scheme := "http://"
	if cfg.TLS != nil {
		scheme = "https://"
	}
	for _, e := range cfg.Endpoints {
		c.endpoints = append(c.endpoints, normalize(e, scheme))
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
	if strings.HasPrefix(e, "http://") || strings.HasPrefix(e, "https://") {
		return strings.TrimRight(e, "/")
	}
	return scheme + e
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

// do sends body to path at the current endpoint (trying the others when
// one cannot be reached, and following a NotLeaderError once) and decodes
// the answer into out.
func (c *Client) do(ctx context.Context, path string, body, out any) error {
	if c.isClosed() {
		return kv.ErrClosed
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("client: encode request: %w", err)
	}
	start := int(c.cur.Load())
	var lastErr error
	redirected := false
	for i := 0; i < len(c.endpoints); i++ {
		idx := (start + i) % len(c.endpoints)
		err := c.doAt(ctx, c.endpoints[idx], path, payload, out)
		if err == nil {
			c.cur.Store(int64(idx))
			return nil
		}
		var nl *raft.NotLeaderError
		if !redirected && errors.As(err, &nl) && nl.LeaderAddr != "" {
			redirected = true
			addr := normalize(nl.LeaderAddr, "http://")
			if err2 := c.doAt(ctx, addr, path, payload, out); err2 == nil {
				for j, e := range c.endpoints {
					if e == addr {
						c.cur.Store(int64(j))
					}
				}
				return nil
			} else {
				return err2
			}
		}
		if !retriable(err) {
			return err
		}
		lastErr = err
	}
	return lastErr
}

func (c *Client) doAt(ctx context.Context, endpoint, path string, payload []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+path, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
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
// asks the member for a serializable read.
func (c *Client) Range(ctx context.Context, req kv.RangeRequest) (*kv.RangeResponse, error) {
	var out kv.RangeResponse
	if err := c.do(ctx, pathRange, rangeRequest{RangeRequest: req, Serializable: raft.IsSerializable(ctx)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Txn implements [kv.KV.Txn].
func (c *Client) Txn(ctx context.Context, req kv.TxnRequest) (*kv.TxnResponse, error) {
	var out kv.TxnResponse
	if err := c.do(ctx, pathTxn, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Compact implements [kv.KV.Compact].
func (c *Client) Compact(ctx context.Context, rev int64) error {
	var out struct{}
	return c.do(ctx, pathCompact, compactRequest{Revision: rev}, &out)
}

// RequestProgress implements [kv.KV.RequestProgress] on the member the
// client is talking to (where its watches are).
func (c *Client) RequestProgress(ctx context.Context) error {
	var out struct{}
	return c.do(ctx, pathProgress, struct{}{}, &out)
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
	c.mu.Unlock()
	c.wg.Wait()
	c.hc.CloseIdleConnections()
	return nil
}

type watchStream struct {
	cancel context.CancelFunc
}

// Watch implements [kv.KV.Watch] over a streamed HTTP response. If the
// stream breaks, the watch ends with an error (never a silent gap); a
// new watch from the last revision seen plus one resumes it.
func (c *Client) Watch(ctx context.Context, req kv.WatchRequest) (<-chan kv.WatchResponse, error) {
	payload, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("client: encode request: %w", err)
	}
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
	resp, err := c.openWatch(wctx, payload)
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
		defer resp.Body.Close()
		c.pump(wctx, ctx, resp.Body, ch)
	}()
	return ch, nil
}

func (c *Client) openWatch(ctx context.Context, payload []byte) (*http.Response, error) {
	start := int(c.cur.Load())
	var lastErr error
	for i := 0; i < len(c.endpoints); i++ {
		idx := (start + i) % len(c.endpoints)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoints[idx]+pathWatch, bytes.NewReader(payload))
		if err != nil {
			return nil, fmt.Errorf("client: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.hc.Do(req)
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
		if resp.StatusCode/100 != 2 {
			data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			return nil, decodeErrorBody(data)
		}
		c.cur.Store(int64(idx))
		return resp, nil
	}
	return nil, lastErr
}

// pump copies the stream's responses to ch until the stream ends.
func (c *Client) pump(wctx, userCtx context.Context, body io.Reader, ch chan<- kv.WatchResponse) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 256<<20)
	send := func(r kv.WatchResponse) bool {
		select {
		case ch <- r:
			return true
		case <-wctx.Done():
			return false
		}
	}
	for sc.Scan() {
		r, err := decodeWatchLine(sc.Bytes())
		if err != nil {
			send(kv.WatchResponse{Err: err})
			return
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
	send(kv.WatchResponse{Err: fmt.Errorf("%w: watch stream ended: %v", ErrStreamBroken, sc.Err())})
}

// ErrStreamBroken ends a watch whose connection to the member broke.
var ErrStreamBroken = errors.New("client: watch stream broken")
