package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/store/meta"
)

// Client talks to one API server. It is safe for concurrent use; build one
// per process (or per identity) and share it: its connections, rate limit
// and metrics are per Client. Typed calls go through [For].
type Client struct {
	base     *url.URL
	host     string // metrics label
	http     *http.Client
	own      *http.Transport // the transport New built, if any
	limiter  *rate.Limiter   // nil: unlimited
	clock    clock.Clock
	log      *slog.Logger
	metrics  MetricsProvider
	token    string
	ua       string
	timeout  time.Duration
	retries  int
	backoff  Backoff
	rnd      func() float64 // jitter source, [0, 1)
	maxError int64          // bytes of an error body read
}

// New returns a Client for cfg. It reads the certificate and token files
// cfg names; errors match [ErrConfig].
func New(cfg Config) (*Client, error) {
	base, err := parseHost(cfg.Host)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	c := &Client{
		base:     base,
		host:     base.Host,
		clock:    clock.OrReal(cfg.Clock),
		log:      log,
		metrics:  cfg.Metrics,
		ua:       cfg.UserAgent,
		timeout:  cfg.Timeout,
		retries:  cfg.MaxRetries,
		backoff:  cfg.Backoff.withDefaults(),
		rnd:      rand.Float64,
		maxError: 1 << 20,
	}
	if c.ua == "" {
		c.ua = defaultUserAgent()
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	switch {
	case c.retries == 0:
		c.retries = DefaultMaxRetries
	case c.retries < 0:
		c.retries = 0
	}
	rt := cfg.Transport
	if rt == nil {
		t, err := cfg.TLS.transport()
		if err != nil {
			return nil, err
		}
		rt, c.own = t, t
	}
	c.http = &http.Client{Transport: rt}

	c.token = cfg.BearerToken
	if c.token == "" && cfg.BearerTokenFile != "" {
		b, err := os.ReadFile(cfg.BearerTokenFile)
		if err != nil {
			return nil, fmt.Errorf("%w: read token: %w", ErrConfig, err)
		}
		c.token = strings.TrimSpace(string(b))
	}
	if c.token != "" && base.Scheme != "https" {
		log.Warn("client: not sending the bearer token over plain http", "host", cfg.Host)
		c.token = ""
	}

	qps, burst := cfg.QPS, cfg.Burst
	if qps == 0 {
		qps = DefaultQPS
	}
	if burst == 0 {
		burst = DefaultBurst
	}
	if burst < 0 {
		return nil, fmt.Errorf("%w: negative burst %d", ErrConfig, burst)
	}
	if qps > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(qps), max(burst, 1))
	}
	return c, nil
}

// Host returns the base URL the client sends requests to.
func (c *Client) Host() string { return c.base.String() }

// Close closes the idle connections of the transport [New] built. A Client
// given its own Transport leaves it alone.
func (c *Client) Close() {
	if c.own != nil {
		c.own.CloseIdleConnections()
	}
}

// request is one API call, before it is sent.
type request struct {
	method      string
	path        string // "/api/v1/namespaces/default/pods"
	query       url.Values
	body        []byte
	contentType string
	// idempotent calls are retried after 5xx answers and connection
	// errors; others only when the server surely did not act on them.
	idempotent bool
}

func (r *request) String() string {
	s := r.method + " " + r.path
	if len(r.query) > 0 {
		s += "?" + r.query.Encode()
	}
	return s
}

// do sends r, bounded by the client's timeout, and returns the body of a
// 2xx answer; any other answer becomes the Store error its Status names.
func (c *Client) do(ctx context.Context, r *request) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.roundTrip(ctx, r)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, nil, c.statusError(resp)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("client: %s: read response: %w", r, err)
	}
	return resp.StatusCode, body, nil
}

// stream sends r and returns the open response of a 2xx answer, for a
// watch. Only getting the response headers is bounded by the client's
// timeout; the body is read until ctx is done or the server ends it.
func (c *Client) stream(ctx context.Context, r *request) (*http.Response, error) {
	// The request's context must outlive this call (it carries the
	// body), so the timeout cancels it only until the headers are in.
	hctx, cancel := context.WithCancel(ctx)
	timer := c.clock.AfterFunc(c.timeout, cancel)
	resp, err := c.roundTrip(hctx, r)
	if !timer.Stop() && err == nil {
		// The timer fired as the headers arrived: the body is cut off.
		resp.Body.Close()
		err = fmt.Errorf("client: %s: %w", r, context.DeadlineExceeded)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer cancel()
		defer resp.Body.Close()
		return nil, c.statusError(resp)
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelBody releases the request's context when the body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// roundTrip sends r until it gets an answer that is not retried, the
// retries run out, or ctx is done. The caller closes the body of the
// response it returns.
func (c *Client) roundTrip(ctx context.Context, r *request) (*http.Response, error) {
	u := *c.base
	u.Path = c.base.Path + r.path
	u.RawQuery = r.query.Encode()
	target := u.String()
	for attempt := 0; ; attempt++ {
		if err := c.wait(ctx, r.method); err != nil {
			return nil, fmt.Errorf("client: %s: rate limit: %w", r, err)
		}
		req, err := http.NewRequestWithContext(ctx, r.method, target, bytes.NewReader(r.body))
		if err != nil {
			return nil, fmt.Errorf("client: %s: %w", r, err)
		}
		if r.body == nil {
			req.Body, req.ContentLength = http.NoBody, 0
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", c.ua)
		if r.contentType != "" {
			req.Header.Set("Content-Type", r.contentType)
		}
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		start := c.clock.Now()
		resp, err := c.http.Do(req)
		code := codeError
		if err == nil {
			code = strconv.Itoa(resp.StatusCode)
		}
		if c.metrics != nil {
			c.metrics.RequestResult(code, r.method, c.host)
			c.metrics.RequestLatency(r.method, c.host, c.clock.Since(start))
		}
		if err != nil && ctx.Err() != nil {
			return nil, fmt.Errorf("client: %s: %w", r, ctx.Err())
		}

		var delay time.Duration
		if err != nil {
			if !retryableError(err, r.idempotent) {
				return nil, fmt.Errorf("client: %s: %w", r, err)
			}
		} else if !retryableStatus(resp.StatusCode, r.idempotent) {
			return resp, nil
		} else if d, ok := retryAfter(resp.Header); ok {
			delay = min(d, c.backoff.MaxRetryAfter)
		}
		if delay == 0 {
			delay = c.backoff.delay(attempt, c.rnd())
		}
		// Give up, returning what we have, when the retries are spent or
		// the wait would outlast the caller's deadline.
		giveUp := attempt >= c.retries
		if dl, ok := ctx.Deadline(); ok && delay >= time.Until(dl) {
			giveUp = true
		}
		if giveUp {
			if err != nil {
				return nil, fmt.Errorf("client: %s: %w", r, err)
			}
			return resp, nil
		}
		cause := code
		if err != nil {
			cause = err.Error()
		} else {
			drain(resp.Body)
		}
		c.log.Info("client: retrying", "request", r.String(), "attempt", attempt+1, "delay", delay, "cause", cause)
		if c.metrics != nil {
			c.metrics.RequestRetry(code, r.method, c.host)
		}
		if err := c.sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("client: %s: waiting to retry after %s: %w", r, cause, err)
		}
	}
}

// retryableStatus reports whether an answer with code is retried. 429
// means the server turned the request away unprocessed, so any request is
// retried; a 5xx may come after the server acted, so only an idempotent
// one is.
func retryableStatus(code int, idempotent bool) bool {
	switch {
	case code == http.StatusTooManyRequests:
		return true
	case code >= 500 && code <= 599:
		return idempotent
	}
	return false
}

// retryableError reports whether a request that failed with err (and no
// response) is retried: an idempotent one unless the failure is a
// certificate problem that no retry fixes, any request when it never left
// the client (the connection could not be made).
func retryableError(err error, idempotent bool) bool {
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		recordHdr tls.RecordHeaderError
		opErr     *net.OpError
	)
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid),
		errors.As(err, &verify), errors.As(err, &recordHdr):
		return false
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return true // nothing was sent
	default:
		return idempotent
	}
}

// drain reads a little of body, so that its connection can be reused, and
// closes it.
func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	body.Close()
}

// wait blocks until the rate limiter lets one request through.
func (c *Client) wait(ctx context.Context, verb string) error {
	if c.limiter == nil {
		return nil
	}
	now := c.clock.Now()
	res := c.limiter.ReserveN(now, 1)
	d := res.DelayFrom(now)
	if c.metrics != nil {
		c.metrics.RateLimiterLatency(verb, c.host, d)
	}
	if d <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && d >= time.Until(dl) {
		res.CancelAt(now)
		return fmt.Errorf("waiting %s would pass the deadline: %w", d, context.DeadlineExceeded)
	}
	if err := c.sleep(ctx, d); err != nil {
		res.CancelAt(c.clock.Now())
		return err
	}
	return nil
}

// sleep waits d on the client's clock, or until ctx is done.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	t := c.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}

// statusError reads the body of a non-2xx answer and returns the
// [*meta.StatusError] its Status names, or one made from the HTTP code
// when the body is not a Status (a proxy's error page, say).
func (c *Client) statusError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, c.maxError))
	var st meta.Status
	if err := json.Unmarshal(body, &st); err == nil && st.Kind == "Status" && st.Status != meta.StatusSuccess {
		if st.Code == 0 {
			st.Code = int32(resp.StatusCode)
		}
		se := meta.FromStatus(st)
		if se.RetryAfterSeconds == 0 {
			if d, ok := retryAfter(resp.Header); ok {
				se.RetryAfterSeconds = int32(d / time.Second)
			}
		}
		return se
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 256 {
		msg = msg[:256] + "..."
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	st = meta.Status{Status: meta.StatusFailure, Code: int32(resp.StatusCode),
		Message: fmt.Sprintf("the server responded with %d: %s", resp.StatusCode, msg)}
	se := meta.FromStatus(st)
	if d, ok := retryAfter(resp.Header); ok {
		se.RetryAfterSeconds = int32(d / time.Second)
	}
	return se
}
