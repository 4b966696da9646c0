package client

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/kvtest"
	"github.com/governor-io/governor/store/mvcc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve starts a Server for k and returns a Client of it speaking the
// framed protocol (or HTTP/JSON when overHTTP); all close with the test.
func serve(t *testing.T, k kv.KV, overHTTP bool) *Client {
	t.Helper()
	t.Cleanup(func() { k.Close() }) // runs after listen's and the client's
	ep := listen(t, k)
	if overHTTP {
		ep = "http://" + ep
	}
	// The conformance rules send requests of thousands of ops, which a
	// loaded machine may take longer than the default attempt timeout to
	// carry; these tests are about the answers, not the failover.
	c, err := New(Config{Endpoints: []string{ep}, AttemptTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// listen starts a Server for k on a loopback port and returns its
// address; the server closes with the test, k does not.
func listen(t *testing.T, k kv.KV) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(k, nil)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func TestConformanceOverEngine(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.KV {
		return serve(t, mvcc.New(mvcc.Options{}), false)
	})
}

func TestConformanceOverHTTP(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.KV {
		return serve(t, mvcc.New(mvcc.Options{}), true)
	})
}

func TestConformanceOverRaft(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.KV {
		n, err := raft.Open(context.Background(), raft.Config{
			ID: 1, Dir: t.TempDir(),
			InitialCluster: []raft.Member{{ID: 1, PeerAddr: "127.0.0.1:0"}},
			Clock:          clocktest.New(time.Unix(0, 0)),
		})
		if err != nil {
			t.Fatal(err)
		}
		return serve(t, n, false)
	})
}

func TestErrorsKeepTheirIdentity(t *testing.T) {
	for _, err := range []error{
		&kv.CompactedError{CompactRevision: 7},
		&kv.LaggingError{ResumeRevision: 9},
		&raft.NotLeaderError{LeaderID: 2, LeaderAddr: "10.0.0.2:2379"},
		kv.ErrFutureRevision, kv.ErrTooManyOps, kv.ErrDuplicateKey, kv.ErrEmptyKey,
		kv.ErrInvalidRequest, kv.ErrClosed, raft.ErrNoLeader, raft.ErrTimeout, raft.ErrStopped,
	} {
		we, _ := encodeError(err)
		got := decodeError(we)
		for _, target := range []error{kv.ErrCompacted, kv.ErrWatcherLagging, raft.ErrNotLeader, kv.ErrFutureRevision, kv.ErrTooManyOps, kv.ErrClosed, raft.ErrNoLeader} {
			if errors.Is(err, target) != errors.Is(got, target) {
				t.Errorf("%v: errors.Is(%v) differs after the wire: %v", err, target, got)
			}
		}
	}
	var nl *raft.NotLeaderError
	we, _ := encodeError(&raft.NotLeaderError{LeaderID: 2, LeaderAddr: "a:1"})
	if !errors.As(decodeError(we), &nl) || nl.LeaderID != 2 || nl.LeaderAddr != "a:1" {
		t.Errorf("NotLeaderError lost its leader: %+v", nl)
	}
	var ce *kv.CompactedError
	we, _ = encodeError(&kv.CompactedError{CompactRevision: 7})
	if !errors.As(decodeError(we), &ce) || ce.CompactRevision != 7 {
		t.Errorf("CompactedError lost its revision: %+v", ce)
	}
}

func TestClientTriesNextEndpoint(t *testing.T) {
	e := mvcc.New(mvcc.Options{})
	srv := httptest.NewServer(NewHandler(e))
	defer srv.Close()
	defer e.Close()
	framed := listen(t, e)
	// The first endpoint refuses connections.
	dead := httptest.NewServer(nil)
	deadURL := dead.URL
	dead.Close()
	for _, live := range []string{srv.URL, framed} {
		c, err := New(Config{Endpoints: []string{strings.TrimPrefix(deadURL, "http://"), deadURL, live}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if _, err := kv.Put(ctx, c, "/a", []byte("1")); err != nil {
			t.Fatal(live, err)
		}
		w, err := c.Watch(ctx, kv.WatchRequest{Key: "/a", StartRevision: 1})
		if err != nil {
			t.Fatal(live, err)
		}
		if r := <-w; r.Err != nil || len(r.Events) == 0 {
			t.Fatalf("%s: watch got %+v", live, r)
		}
		cancel()
		c.Close()
		for range w {
		}
	}
}

// TestNotLeaderRedirect checks that a framed client follows a
// NotLeaderError to the leader it names.
func TestNotLeaderRedirect(t *testing.T) {
	e := mvcc.New(mvcc.Options{})
	defer e.Close()
	lead := listen(t, e)
	fol := listen(t, notLeader{KV: e, addr: lead})
	c, err := New(Config{Endpoints: []string{fol}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kv.Put(ctx, c, "/a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if r, err := e.Range(ctx, kv.RangeRequest{Key: "/a", Serializable: true}); err != nil || len(r.KVs) != 1 || string(r.KVs[0].Value) != "1" {
		t.Fatalf("leader has %v, %v", r, err)
	}
}

// notLeader refuses every transaction with a NotLeaderError naming addr.
type notLeader struct {
	kv.KV
	addr string
}

func (n notLeader) Txn(context.Context, kv.TxnRequest) (*kv.TxnResponse, error) {
	return nil, &raft.NotLeaderError{LeaderID: 1, LeaderAddr: n.addr}
}

// TestCallCancelled checks that a cancelled call returns at once with
// the context's error while the connection stays usable.
func TestCallCancelled(t *testing.T) {
	c := serve(t, mvcc.New(mvcc.Options{}), false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := kv.Put(ctx, c, "/a", []byte("1")); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kv.Put(ctx, c, "/a", []byte("1")); err != nil {
		t.Fatal(err)
	}
}

func TestNewWithoutEndpoints(t *testing.T) {
	if _, err := New(Config{}); !errors.Is(err, ErrNoEndpoints) {
		t.Fatalf("got %v, want ErrNoEndpoints", err)
	}
}

func FuzzDecodeWatchLine(f *testing.F) {
	f.Add([]byte(`{"events":[{"Type":0,"KV":{"Key":"/a","Value":"MQ==","ModRevision":3}}],"revision":3}`))
	f.Add([]byte(`{"revision":9,"progressNotify":true}`))
	f.Add([]byte(`{"revision":0,"error":{"code":"compacted","message":"x","compactRevision":4}}`))
	f.Add([]byte(`{"error":{"code":"???"}}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, line []byte) {
		resp, err := decodeWatchLine(line)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("decode error %v does not match ErrProtocol", err)
			}
			return
		}
		if resp.Err != nil && resp.Err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}

func FuzzDecodeErrorBody(f *testing.F) {
	f.Add([]byte(`{"error":{"code":"not_leader","leaderId":2,"leaderAddr":"h:1"}}`))
	f.Add([]byte(`{"error":null}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if err := decodeErrorBody(body); err == nil {
			t.Fatal("an error body decoded to no error")
		}
	})
}

func FuzzReadFrame(f *testing.F) {
	f.Add(appendFrame(nil, 1, frameResult, appendRangeResponse(nil, &kv.RangeResponse{Revision: 3})))
	f.Add(appendFrame(nil, 2, frameError, appendWireError(nil, &wireError{Code: "compacted", CompactRevision: 4})))
	f.Add(appendFrame(nil, 3, frameWatchResp, appendWatchResponse(nil, &wireWatchResponse{Revision: 9, ProgressNotify: true})))
	f.Add(appendFrame(nil, 4, frameWatchResp, appendWatchResponse(nil, &wireWatchResponse{Error: &wireError{Code: "not_leader", LeaderAddr: "h:1"}})))
	f.Add(appendFrame(nil, 5, frameResult, appendTxnResponse(nil, &kv.TxnResponse{Succeeded: true, Revision: 2, Responses: []kv.OpResponse{{Put: &kv.PutResponse{}}}})))
	f.Add([]byte{0, 0, 0, 1, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add([]byte("HTTP/1.1 400 Bad Request\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReader(bytes.NewReader(data))
		for {
			fr, err := readFrame(br, 1<<16)
			if err != nil {
				return
			}
			for _, out := range []result{&txnResult{}, &rangeResult{}, &emptyResult{}} {
				err := decodeResult(fr, out)
				if err != nil && fr.typ == frameResult && !errors.Is(err, ErrProtocol) {
					t.Fatalf("result decode error %v does not match ErrProtocol", err)
				}
				if fr.typ == frameError && err == nil {
					t.Fatal("an error frame decoded to no error")
				}
			}
			if _, err := decodeWatchFrame(fr); err != nil && !errors.Is(err, ErrProtocol) {
				t.Fatalf("watch decode error %v does not match ErrProtocol", err)
			}
			// What was read re-encodes to the same bytes.
			if got := appendFrame(nil, fr.id, fr.typ, fr.payload); len(got) != frameHeader+len(fr.payload) {
				t.Fatalf("re-encoded frame has %d bytes", len(got))
			}
		}
	})
}

// TestOldServerIsAProtocolError checks that a framed client talking to a
// server that hands its greeting to HTTP (one that speaks another
// version) fails with ErrProtocol.
func TestOldServerIsAProtocolError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	c, err := New(Config{Endpoints: []string{ln.Addr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Range(ctx, kv.RangeRequest{Key: "/a"}); !errors.Is(err, ErrProtocol) {
		t.Fatalf("got %v, want ErrProtocol", err)
	}
	if _, err := c.Watch(ctx, kv.WatchRequest{Key: "/a"}); !errors.Is(err, ErrProtocol) {
		t.Fatalf("watch: got %v, want ErrProtocol", err)
	}
}

// TestOtherVersionClientIsRefused checks that the server answers a
// greeting of another framed protocol version with an HTTP 400 and hangs
// up, so that the client fails at once instead of waiting.
func TestOtherVersionClientIsRefused(t *testing.T) {
	e := mvcc.New(mvcc.Options{})
	defer e.Close()
	nc, err := net.Dial("tcp", listen(t, e))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write(appendFrame([]byte("GKV1"), 1, frameRange, []byte(`{"Key":"/a"}`))); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(nc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(got), "HTTP/1.1 400") {
		t.Fatalf("server answered %q", got)
	}
	// An old client reads that answer as an oversized frame.
	if _, err := readFrame(bufio.NewReader(bytes.NewReader(got)), maxFrame); !errors.Is(err, ErrProtocol) {
		t.Fatalf("reading the answer as a frame: %v, want ErrProtocol", err)
	}
}

// breaker is a KV whose calls, while breaking returns true, cut the
// server's connections before answering, as a member that crashes or a
// network that fails mid-call would.
type breaker struct {
	kv.KV
	srv      *Server
	breaking func(call int) bool
	calls    atomic.Int32
}

func (b *breaker) cut(ctx context.Context) error {
	b.srv.mu.Lock()
	for nc := range b.srv.conns {
		nc.Close()
	}
	b.srv.mu.Unlock()
	<-ctx.Done() // the server cancels the call when its connection goes
	return ctx.Err()
}

func (b *breaker) Range(ctx context.Context, req kv.RangeRequest) (*kv.RangeResponse, error) {
	if b.breaking(int(b.calls.Add(1))) {
		return nil, b.cut(ctx)
	}
	return b.KV.Range(ctx, req)
}

func (b *breaker) Txn(ctx context.Context, req kv.TxnRequest) (*kv.TxnResponse, error) {
	if b.breaking(int(b.calls.Add(1))) {
		return nil, b.cut(ctx)
	}
	return b.KV.Txn(ctx, req)
}

// serveBreaker serves e through a breaker and returns it with its
// listener.
func serveBreaker(t *testing.T, e kv.KV, breaking func(int) bool) (*breaker, net.Listener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &breaker{KV: e, breaking: breaking}
	b.srv = NewServer(b, nil)
	go b.srv.Serve(ln)
	t.Cleanup(func() { b.srv.Close() })
	return b, ln
}

// TestReadsAreResentOnceWhenTheConnectionBreaks checks that a Range or a
// read-only Txn whose connection breaks mid-call is sent once more on a
// fresh connection, while a write fails with ErrConnBroken.
func TestReadsAreResentOnceWhenTheConnectionBreaks(t *testing.T) {
	e := mvcc.New(mvcc.Options{})
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kv.Put(ctx, e, "/a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	first := func(call int) bool { return call == 1 }
	always := func(int) bool { return true }
	for _, tc := range []struct {
		name      string
		breaking  func(int) bool
		call      func(c *Client) error
		wantErr   error
		wantCalls int32
	}{
		{"range", first, func(c *Client) error {
			v, _, err := kv.Get(ctx, c, "/a")
			if err == nil && (v == nil || string(v.Value) != "1") {
				err = fmt.Errorf("got %+v", v)
			}
			return err
		}, nil, 2},
		{"read-only txn", first, func(c *Client) error {
			resp, err := c.Txn(ctx, kv.TxnRequest{Success: []kv.Op{kv.OpGet("/a")}})
			if err == nil && len(resp.Responses[0].Range.KVs) != 1 {
				err = fmt.Errorf("got %+v", resp)
			}
			return err
		}, nil, 2},
		{"put", first, func(c *Client) error { _, err := kv.Put(ctx, c, "/b", []byte("2")); return err }, ErrConnBroken, 1},
		{"txn with a delete", first, func(c *Client) error {
			_, err := c.Txn(ctx, kv.TxnRequest{Success: []kv.Op{kv.OpGet("/a")}, Failure: []kv.Op{kv.OpDeleteKey("/a")}})
			return err
		}, ErrConnBroken, 1},
		{"range, only once", always, func(c *Client) error { _, _, err := kv.Get(ctx, c, "/a"); return err }, ErrConnBroken, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, ln := serveBreaker(t, e, tc.breaking)
			// No retries after the resend: the count is the resend's.
			c, err := New(Config{Endpoints: []string{ln.Addr().String()}, MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = tc.call(c)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
			if got := b.calls.Load(); got != tc.wantCalls {
				t.Fatalf("the server saw %d calls, want %d", got, tc.wantCalls)
			}
		})
	}
}

// TestReadIsResentAtTheNextEndpoint checks that a read whose member goes
// away mid-call is answered by the next endpoint.
func TestReadIsResentAtTheNextEndpoint(t *testing.T) {
	e := mvcc.New(mvcc.Options{})
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kv.Put(ctx, e, "/a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	var lnA net.Listener
	a, lnA := serveBreaker(t, e, func(int) bool {
		lnA.Close() // the member is gone: redialling it fails
		return true
	})
	b, lnB := serveBreaker(t, e, func(int) bool { return false })
	c, err := New(Config{Endpoints: []string{lnA.Addr().String(), lnB.Addr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v, _, err := kv.Get(ctx, c, "/a"); err != nil || v == nil || string(v.Value) != "1" {
		t.Fatalf("got %+v, %v", v, err)
	}
	if a.calls.Load() != 1 || b.calls.Load() != 1 {
		t.Fatalf("calls: first endpoint %d, second %d; want 1 and 1", a.calls.Load(), b.calls.Load())
	}
}

// blocker is a KV whose Range waits for its context and reports the
// context's error.
type blocker struct {
	kv.KV
	started chan struct{}
	ended   chan error
}

func (b *blocker) Range(ctx context.Context, req kv.RangeRequest) (*kv.RangeResponse, error) {
	b.started <- struct{}{}
	<-ctx.Done()
	b.ended <- ctx.Err()
	return nil, ctx.Err()
}

// TestCancelReachesTheServer checks that a caller giving up cancels the
// call on the server, and that the connection serves the next call.
func TestCancelReachesTheServer(t *testing.T) {
	b := &blocker{KV: mvcc.New(mvcc.Options{}), started: make(chan struct{}, 1), ended: make(chan error, 1)}
	c := serve(t, b, false)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Range(ctx, kv.RangeRequest{Key: "/a"})
		errc <- err
	}()
	timeout := time.After(10 * time.Second)
	select {
	case <-b.started:
	case <-timeout:
		t.Fatal("the call never reached the server")
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("caller got %v, want context.Canceled", err)
		}
	case <-timeout:
		t.Fatal("the caller did not return")
	}
	select {
	case err := <-b.ended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("server call ended with %v, want context.Canceled", err)
		}
	case <-timeout:
		t.Fatal("the server call was not cancelled")
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if _, err := kv.Put(ctx2, c, "/a", []byte("1")); err != nil {
		t.Fatal(err)
	}
}

// TestOversizedRequestFailsAlone checks that a request over the server's
// limit fails with ErrInvalidRequest before it is sent, leaving the
// shared connection to the other calls.
func TestOversizedRequestFailsAlone(t *testing.T) {
	c := serve(t, mvcc.New(mvcc.Options{}), false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kv.Put(ctx, c, "/a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, c, "/big", make([]byte, maxBody+1)); !errors.Is(err, kv.ErrInvalidRequest) {
		t.Fatalf("got %v, want ErrInvalidRequest", err)
	}
	if v, _, err := kv.Get(ctx, c, "/a"); err != nil || v == nil || string(v.Value) != "1" {
		t.Fatalf("after the oversized request: %+v, %v", v, err)
	}
}
