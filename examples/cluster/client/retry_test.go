package client

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/store/meta"
)

// scripted is a server that answers request n with script[n] (the last
// entry repeats), counting requests by method.
type scripted struct {
	mu     sync.Mutex
	n      int
	script []func(w http.ResponseWriter, r *http.Request)
	srv    *httptest.Server
}

func newScripted(t *testing.T, script ...func(w http.ResponseWriter, r *http.Request)) *scripted {
	s := &scripted{script: script}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		i := min(s.n, len(s.script)-1)
		s.n++
		s.mu.Unlock()
		s.script[i](w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func answer(code int, retryAfter string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		if code == http.StatusOK || code == http.StatusCreated {
			writeJSON(w, code, &Widget{ObjectMeta: meta.ObjectMeta{Name: "w", Namespace: "default", ResourceVersion: "7"}})
			return
		}
		se := meta.FromStatus(meta.Status{Status: meta.StatusFailure, Code: int32(code), Message: http.StatusText(code)})
		writeStatus(w, se)
	}
}

// hangUp reads the request and drops the connection without an answer:
// the request reached the server, which may have acted on it.
func hangUp(w http.ResponseWriter, r *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

// fakeClockClient returns a client of url whose retries wait on a fake
// clock, without jitter.
func fakeClockClient(t *testing.T, url string, cfg Config) (*Client, *clocktest.Fake) {
	t.Helper()
	fc := clocktest.New(time.Unix(1_700_000_000, 0))
	cfg.Host, cfg.Clock = url, fc
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	if cfg.Backoff.Jitter == 0 {
		cfg.Backoff.Jitter = -1
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, fc
}

// expectWaits steps fc through the given waits, checking that each is the
// delay the client chose, and returns when the call's goroutine is done.
func expectWaits(t *testing.T, fc *clocktest.Fake, done <-chan struct{}, waits ...time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i, want := range waits {
		if err := fc.BlockUntilWaiters(ctx, 1); err != nil {
			t.Fatalf("wait %d: the client never waited: %v", i, err)
		}
		dl, _ := fc.NextDeadline()
		if got := dl.Sub(fc.Now()); got != want {
			t.Errorf("wait %d = %s, want %s", i, got, want)
		}
		fc.Step(dl.Sub(fc.Now()))
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("call did not finish after the expected waits")
	}
}

func TestRetryHonoursRetryAfterOn429ForEveryVerb(t *testing.T) {
	for _, verb := range []string{"get", "create"} {
		t.Run(verb, func(t *testing.T) {
			srv := newScripted(t, answer(http.StatusTooManyRequests, "3"), answer(http.StatusOK, ""))
			c, fc := fakeClockClient(t, srv.srv.URL, Config{})
			r := For(c, widgets)
			done := make(chan struct{})
			var err error
			go func() {
				defer close(done)
				if verb == "get" {
					_, err = r.Get(context.Background(), "default", "w")
				} else {
					_, err = r.Create(context.Background(), &Widget{ObjectMeta: meta.ObjectMeta{Name: "w", Namespace: "default"}})
				}
			}()
			expectWaits(t, fc, done, 3*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if n := srv.count(); n != 2 {
				t.Errorf("%d requests, want 2", n)
			}
		})
	}
}

func TestRetryBacksOffExponentiallyOn5xxForIdempotentCalls(t *testing.T) {
	srv := newScripted(t, answer(500, ""), answer(503, ""), answer(502, ""), answer(http.StatusOK, ""))
	c, fc := fakeClockClient(t, srv.srv.URL, Config{})
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		_, err = For(c, widgets).Get(context.Background(), "default", "w")
	}()
	expectWaits(t, fc, done, 100*time.Millisecond, 200*time.Millisecond, 400*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.count(); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
}

func TestRetryNeverRepeatsACreateTheServerMayHaveActedOn(t *testing.T) {
	for name, tc := range map[string]struct {
		h    func(http.ResponseWriter, *http.Request)
		want func(error) bool
	}{
		"500":                  {answer(500, ""), func(err error) bool { return errors.Is(err, meta.ErrInternal) }},
		"503 with Retry-After": {answer(503, "1"), func(err error) bool { return errors.Is(err, meta.ErrServiceUnavailable) }},
		"connection dropped": {hangUp, func(err error) bool {
			var se *meta.StatusError
			return err != nil && !errors.As(err, &se) && !errors.Is(err, context.DeadlineExceeded)
		}},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newScripted(t, tc.h, answer(http.StatusCreated, ""))
			// A retry would wait on the fake clock until the timeout.
			c, _ := fakeClockClient(t, srv.srv.URL, Config{Timeout: 5 * time.Second})
			_, err := For(c, widgets).Create(context.Background(), &Widget{ObjectMeta: meta.ObjectMeta{Name: "w", Namespace: "default"}})
			if !tc.want(err) {
				t.Fatalf("create: %v; want the first attempt's error", err)
			}
			if n := srv.count(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func TestRetryRepeatsAGetAfterADroppedConnection(t *testing.T) {
	srv := newScripted(t, hangUp, answer(http.StatusOK, ""))
	c, fc := fakeClockClient(t, srv.srv.URL, Config{})
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		_, err = For(c, widgets).Get(context.Background(), "default", "w")
	}()
	expectWaits(t, fc, done, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
}

func TestRetryRepeatsACreateThatCouldNotConnect(t *testing.T) {
	// A listener that is closed: every dial is refused, so no request is
	// ever sent and even a create may be retried.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, fc := fakeClockClient(t, "http://"+addr, Config{MaxRetries: 2})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err = For(c, widgets).Create(context.Background(), &Widget{ObjectMeta: meta.ObjectMeta{Name: "w", Namespace: "default"}})
	}()
	expectWaits(t, fc, done, 100*time.Millisecond, 200*time.Millisecond)
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		t.Fatalf("err = %v, want the dial error", err)
	}
}

func TestRetryIsBoundedByMaxRetries(t *testing.T) {
	srv := newScripted(t, answer(503, ""))
	c, fc := fakeClockClient(t, srv.srv.URL, Config{MaxRetries: 2, Backoff: Backoff{Initial: time.Second, Factor: 3}})
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		_, err = For(c, widgets).Get(context.Background(), "default", "w")
	}()
	expectWaits(t, fc, done, time.Second, 3*time.Second)
	if !errors.Is(err, meta.ErrServiceUnavailable) {
		t.Fatalf("err = %v, want ServiceUnavailable", err)
	}
	if n := srv.count(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestRetryNeverWaitsPastTheDeadline(t *testing.T) {
	srv := newScripted(t, answer(http.StatusTooManyRequests, "30"), answer(http.StatusOK, ""))
	c, _ := fakeClockClient(t, srv.srv.URL, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := For(c, widgets).Get(ctx, "default", "w")
	if !errors.Is(err, meta.ErrTooManyRequests) {
		t.Fatalf("err = %v, want the 429 at once", err)
	}
	var se *meta.StatusError
	if errors.As(err, &se); se.RetryAfterSeconds != 30 {
		t.Errorf("RetryAfterSeconds = %d, want 30", se.RetryAfterSeconds)
	}
	if n := srv.count(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestRetryStopsWhenTheContextEnds(t *testing.T) {
	srv := newScripted(t, answer(503, ""))
	c, fc := fakeClockClient(t, srv.srv.URL, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := For(c, widgets).Get(ctx, "default", "w")
		done <- err
	}()
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := fc.BlockUntilWaiters(wctx, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestBackoffJitterStretchesTheDelay(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Jitter: 0.2}.withDefaults()
	if got := b.delay(0, 0.5); got != 110*time.Millisecond {
		t.Errorf("delay(0, 0.5) = %s, want 110ms", got)
	}
	if got := b.delay(10, 0); got != DefaultBackoff.Max {
		t.Errorf("delay(10, 0) = %s, want the cap %s", got, DefaultBackoff.Max)
	}
	if got := b.delay(5000, 0.999); got > time.Duration(float64(DefaultBackoff.Max)*1.2) {
		t.Errorf("delay(5000) = %s overflows the cap", got)
	}
	// The client draws the jitter from its random source.
	srv := newScripted(t, answer(500, ""), answer(http.StatusOK, ""))
	c, fc := fakeClockClient(t, srv.srv.URL, Config{Backoff: Backoff{Jitter: 0.2}})
	c.rnd = func() float64 { return 0.5 }
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = For(c, widgets).Get(context.Background(), "default", "w")
	}()
	expectWaits(t, fc, done, 110*time.Millisecond)
}

func TestRateLimitSpacesRequestsBeyondTheBurst(t *testing.T) {
	srv := newScripted(t, answer(http.StatusOK, ""))
	c, fc := fakeClockClient(t, srv.srv.URL, Config{QPS: 2, Burst: 2})
	r := For(c, widgets)
	for range 2 {
		if _, err := r.Get(context.Background(), "default", "w"); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = r.Get(context.Background(), "default", "w")
	}()
	expectWaits(t, fc, done, 500*time.Millisecond)
	if n := srv.count(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestRateLimitOffWithNegativeQPS(t *testing.T) {
	srv := newScripted(t, answer(http.StatusOK, ""))
	c, fc := fakeClockClient(t, srv.srv.URL, Config{QPS: -1, Burst: 1})
	for range 5 {
		if _, err := For(c, widgets).Get(context.Background(), "default", "w"); err != nil {
			t.Fatal(err)
		}
	}
	if fc.HasWaiters() {
		t.Error("an unlimited client waited")
	}
}

type countingMetrics struct {
	mu      sync.Mutex
	results map[string]int // code method host
	retries map[string]int
	latency atomic.Int32
	limiter atomic.Int32
}

func (m *countingMetrics) RequestResult(code, method, host string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.results[code+" "+method]++
}

func (m *countingMetrics) RequestLatency(verb, host string, d time.Duration) { m.latency.Add(1) }

func (m *countingMetrics) RequestRetry(code, verb, host string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.retries[code+" "+verb]++
}

func (m *countingMetrics) RateLimiterLatency(verb, host string, d time.Duration) { m.limiter.Add(1) }

func TestMetricsCountEveryAttemptAndRetry(t *testing.T) {
	srv := newScripted(t, answer(503, ""), answer(http.StatusOK, ""), answer(http.StatusNotFound, ""))
	m := &countingMetrics{results: map[string]int{}, retries: map[string]int{}}
	c, fc := fakeClockClient(t, srv.srv.URL, Config{Metrics: m})
	r := For(c, widgets)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = r.Get(context.Background(), "default", "w")
	}()
	expectWaits(t, fc, done, 100*time.Millisecond)
	if _, err := r.Get(context.Background(), "default", "w"); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("err = %v, want NotFound", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	want := map[string]int{"503 GET": 1, "200 GET": 1, "404 GET": 1}
	for k, v := range want {
		if m.results[k] != v {
			t.Errorf("requests_total{%s} = %d, want %d (all: %v)", k, m.results[k], v, m.results)
		}
	}
	if m.retries["503 GET"] != 1 || len(m.retries) != 1 {
		t.Errorf("retries = %v, want one after the 503", m.retries)
	}
	if m.latency.Load() != 3 || m.limiter.Load() != 3 {
		t.Errorf("latency observations %d, rate limiter %d, want 3 each", m.latency.Load(), m.limiter.Load())
	}
}

func TestRetriesAreLogged(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	srv := newScripted(t, answer(http.StatusTooManyRequests, "1"), answer(http.StatusOK, ""))
	c, fc := fakeClockClient(t, srv.srv.URL, Config{Logger: log})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = For(c, widgets).Get(context.Background(), "default", "w")
	}()
	expectWaits(t, fc, done, time.Second)
	out := buf.String()
	for _, want := range []string{"client: retrying", "attempt=1", "delay=1s", "cause=429", "GET /apis/example.dev/v1/namespaces/default/widgets/w"} {
		if !bytes.Contains([]byte(out), []byte(want)) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
}
