package interop_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/governor-io/governor/examples/cluster/apiserver"
	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
)

// The tests in this package's *clientgo* files run client-go against the
// example control plane's API server, started in-process on 127.0.0.1.

// testTimeout bounds every wait of a client-go test.
const testTimeout = 60 * time.Second

// storageKind is where a testServer keeps its objects.
type storageKind int

const (
	memoryStorage storageKind = iota // one mvcc engine, kept across restarts
	raftStorage                      // an embedded single-member Raft KV in a data dir, reopened on restart
)

// request is one request the server received, as the recorder saw it.
type request struct {
	Method string
	Path   string
	Query  url.Values
}

// watch reports whether the request is a watch.
func (r request) watch() bool { return r.Query.Get("watch") == "true" || r.Query.Get("watch") == "1" }

// recorder remembers the requests for one path and signals each new one.
type recorder struct {
	path string

	mu   sync.Mutex
	reqs []request
	next chan struct{} // closed and replaced on each request
}

func newRecorder(path string) *recorder { return &recorder{path: path, next: make(chan struct{})} }

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == rec.path {
			rec.mu.Lock()
			rec.reqs = append(rec.reqs, request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query()})
			close(rec.next)
			rec.next = make(chan struct{})
			rec.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

// snapshot returns the requests so far and a channel closed on the next.
func (rec *recorder) snapshot() ([]request, <-chan struct{}) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]request(nil), rec.reqs...), rec.next
}

// testServer is an API server with the built-in resources that a test
// can stop and start again on the same storage and address.
type testServer struct {
	t       *testing.T
	kind    storageKind
	dir     string       // Raft data dir
	engine  *mvcc.Engine // memory storage
	addr    string
	rec     *recorder // requests for /api/v1/pods, across restarts
	running *instance
}

// instance is one run of the server.
type instance struct {
	srv  *apiserver.Server
	hs   *http.Server
	node *raft.Node // nil on memory storage
	done chan error
}

// startServer starts a server on kind storage and stops it when the test
// ends.
func startServer(t *testing.T, kind storageKind) *testServer {
	t.Helper()
	ts := &testServer{t: t, kind: kind, rec: newRecorder("/api/v1/pods")}
	switch kind {
	case memoryStorage:
		ts.engine = mvcc.New(mvcc.Options{})
		t.Cleanup(func() { ts.engine.Close() })
	case raftStorage:
		ts.dir = filepath.Join(t.TempDir(), "raft")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	ts.start(ln)
	t.Cleanup(ts.stop)
	return ts
}

// URL is the server's address for clients.
func (ts *testServer) URL() string { return "http://" + ts.addr }

// start serves on ln and waits until /readyz answers 200.
func (ts *testServer) start(ln net.Listener) {
	t := ts.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	in := &instance{done: make(chan error, 1)}
	var store kv.KV = ts.engine
	if ts.kind == raftStorage {
		node, err := openRaft(ctx, ts.dir)
		if err != nil {
			ln.Close()
			t.Fatal(err)
		}
		in.node, store = node, node
	}
	srv, err := apiserver.New(apiserver.Config{KV: store, Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		err = apiserver.InstallBuiltins(srv)
	}
	if err != nil {
		ln.Close()
		in.close()
		t.Fatal(err)
	}
	in.srv = srv
	in.hs = &http.Server{Handler: ts.rec.wrap(srv.Handler()), ReadHeaderTimeout: testTimeout}
	go func() { in.done <- in.hs.Serve(ln) }()
	ts.running = in
	if err := srv.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL()+"/readyz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("readyz: %v", err)
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz answered %d after the watch caches loaded", resp.StatusCode)
	}
}

// stop ends the running server's watches, shuts it down and closes its
// Raft member. It does nothing if the server is not running.
func (ts *testServer) stop() {
	in := ts.running
	if in == nil {
		return
	}
	ts.running = nil
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	_ = in.srv.Close() // ends every watch first
	if err := in.hs.Shutdown(ctx); err != nil {
		ts.t.Errorf("shutdown: %v", err)
	}
	if err := <-in.done; !errors.Is(err, http.ErrServerClosed) {
		ts.t.Errorf("serve: %v", err)
	}
	in.close()
}

func (in *instance) close() {
	if in.srv != nil {
		_ = in.srv.Close()
	}
	if in.node != nil {
		_ = in.node.Close()
	}
}

// restart stops the server and starts a new one on the same storage and
// address.
func (ts *testServer) restart() {
	ts.t.Helper()
	ts.stop()
	ln, err := net.Listen("tcp", ts.addr)
	if err != nil {
		ts.t.Fatalf("listen again on %s: %v", ts.addr, err)
	}
	ts.start(ln)
}

// openRaft opens (or reopens, from dir) a single-member Raft KV, as the
// governor command does.
func openRaft(ctx context.Context, dir string) (*raft.Node, error) {
	tr, err := raft.NewTCPTransport(raft.TCPConfig{ID: 1, ListenAddr: "127.0.0.1:0"})
	if err != nil {
		return nil, err
	}
	node, err := raft.Open(ctx, raft.Config{ID: 1, Dir: dir, Transport: tr,
		InitialCluster: []raft.Member{{ID: 1, PeerAddr: tr.Addr()}}})
	if err != nil {
		tr.Close()
		return nil, fmt.Errorf("open raft in %s: %w", dir, err)
	}
	return node, nil
}

// restConfig is a client-go config for ts that speaks JSON, with its own
// transport whose idle connections are closed when the test ends.
func (ts *testServer) restConfig(t *testing.T) *rest.Config {
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	return &rest.Config{
		Host: ts.URL(),
		// Typed clients send protobuf unless told otherwise.
		ContentConfig: rest.ContentConfig{ContentType: "application/json"},
		QPS:           -1, // no client-side rate limit
		Transport:     tr,
		UserAgent:     "governor-interop/" + strings.ReplaceAll(t.Name(), "/", "-"),
	}
}

func (ts *testServer) clientset(t *testing.T) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(ts.restConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func (ts *testServer) dynamic(t *testing.T) *dynamic.DynamicClient {
	t.Helper()
	dc, err := dynamic.NewForConfig(ts.restConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	return dc
}

// testContext is a context bounded by testTimeout, canceled when the test
// ends.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}
