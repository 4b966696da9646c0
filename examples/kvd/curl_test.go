package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/store/kv"
)

// logSink collects kvd's log and wakes whoever waits for a line.
type logSink struct {
	mu      sync.Mutex
	buf     strings.Builder
	changed chan struct{}
}

func newLogSink() *logSink { return &logSink{changed: make(chan struct{})} }

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor waits until the log holds s.
func (l *logSink) waitFor(ctx context.Context, t *testing.T, s string) {
	t.Helper()
	for {
		l.mu.Lock()
		ok, ch := strings.Contains(l.buf.String(), s), l.changed
		l.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("log never had %q:\n%s", s, l.String())
		}
	}
}

// call sends one HTTP request to kvd and returns the status and body.
func call(ctx context.Context, t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestCurlSession runs kvd as `go run ./examples/kvd` does (no flags, so
// a temporary data directory) and drives it the way the README's curl
// lines do: a text put, a range with text values and one with base64,
// a prefix delete, /healthz and /metrics. Then it stops kvd and checks
// the logs of the leader change and the shutdown, and that the
// temporary directory is gone.
func TestCurlSession(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()

	logs := newLogSink()
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		err := run(runCtx, []string{"-tick", "10ms"}, pw, logs)
		pw.Close()
		errc <- err
	}()
	var dir, addr string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "data:" {
			dir = f[1]
		}
		if len(f) >= 2 && f[0] == "client:" {
			addr = f[1]
			break
		}
	}
	drained := make(chan struct{})
	go func() { io.Copy(io.Discard, pr); close(drained) }()
	if addr == "" {
		stop()
		t.Fatalf("no banner: %v\n%s", <-errc, logs.String())
	}
	base := "http://" + addr
	logs.waitFor(ctx, t, `msg="kvd: leader changed" member=1 leader=1`)

	if code, body := call(ctx, t, "GET", base+"/healthz", ""); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	code, body := call(ctx, t, "POST", base+"/v1/put", `{"key":"/a","value":"1"}`)
	var put struct{ Revision int64 }
	if code != http.StatusOK || json.Unmarshal([]byte(body), &put) != nil || put.Revision == 0 {
		t.Fatalf("/v1/put: %d %s", code, body)
	}
	code, body = call(ctx, t, "POST", base+"/v1/range?text=1", `{"Key":"/a"}`)
	var text struct {
		KVs []struct {
			Key, Value  string
			ModRevision int64
		}
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &text) != nil ||
		len(text.KVs) != 1 || text.KVs[0].Key != "/a" || text.KVs[0].Value != "1" || text.KVs[0].ModRevision != put.Revision {
		t.Fatalf("/v1/range?text=1: %d %s", code, body)
	}
	// Without ?text the values stay base64, exact for binary clients.
	code, body = call(ctx, t, "POST", base+"/v1/range", `{"Key":"/a"}`)
	var raw kv.RangeResponse
	if code != http.StatusOK || json.Unmarshal([]byte(body), &raw) != nil || len(raw.KVs) != 1 || string(raw.KVs[0].Value) != "1" ||
		!strings.Contains(body, `"MQ=="`) {
		t.Fatalf("/v1/range: %d %s", code, body)
	}
	if code, body := call(ctx, t, "POST", base+"/v1/put", `{"key":"/b/1","value":"x"}`); code != http.StatusOK {
		t.Fatalf("/v1/put: %d %s", code, body)
	}
	code, body = call(ctx, t, "POST", base+"/v1/deleterange", `{"key":"/","prefix":true}`)
	var del struct{ Deleted int64 }
	if code != http.StatusOK || json.Unmarshal([]byte(body), &del) != nil || del.Deleted != 2 {
		t.Fatalf("/v1/deleterange: %d %s", code, body)
	}
	if code, body := call(ctx, t, "POST", base+"/v1/put", `{"key":`); code != http.StatusBadRequest || !strings.Contains(body, `"code":"invalid_request"`) {
		t.Fatalf("/v1/put with a bad body: %d %s", code, body)
	}

	code, body = call(ctx, t, "GET", base+"/metrics", "")
	for _, family := range []string{"go_goroutines ", "process_cpu_seconds_total ", "etcd_server_is_leader 1"} {
		if code != http.StatusOK || !strings.Contains(body, "\n"+family) {
			t.Errorf("/metrics lacks %q", family)
		}
	}

	stop()
	if err := <-errc; err != nil {
		t.Fatalf("run: %v", err)
	}
	<-drained
	for _, line := range []string{`msg="kvd: shutting down" member=1`, `msg="kvd: stopped" member=1`, `msg="kvd: removed temporary data directory"`} {
		if !strings.Contains(logs.String(), line) {
			t.Errorf("log lacks %q:\n%s", line, logs.String())
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary data directory %q left behind: %v", dir, err)
	}
}

// TestDataDirKept checks that kvd leaves a data directory it was given.
func TestDataDirKept(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	runCtx, stop := context.WithCancel(ctx)
	logs := newLogSink()
	errc := make(chan error, 1)
	go func() { errc <- run(runCtx, []string{"-tick", "10ms", "-data", dir}, io.Discard, logs) }()
	logs.waitFor(ctx, t, `msg="kvd: serving"`)
	stop()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) == 0 {
		t.Fatalf("data directory emptied: %v %v", entries, err)
	}
}

type fakeMember struct {
	leader uint64
	err    error
}

func (f fakeMember) Leader() uint64 { return f.leader }
func (f fakeMember) Err() error     { return f.err }

// TestHealthz checks /healthz's answers: ok with a leader, 503 without
// one and after the member stopped.
func TestHealthz(t *testing.T) {
	for _, tc := range []struct {
		m    fakeMember
		code int
		body string
	}{
		{fakeMember{leader: 2}, http.StatusOK, "ok\n"},
		{fakeMember{}, http.StatusServiceUnavailable, "unhealthy: " + raft.ErrNoLeader.Error() + "\n"},
		{fakeMember{leader: 2, err: raft.ErrStopped}, http.StatusServiceUnavailable, "unhealthy: " + raft.ErrStopped.Error() + "\n"},
	} {
		rec := httptest.NewRecorder()
		healthz(tc.m).ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		if rec.Code != tc.code || rec.Body.String() != tc.body {
			t.Errorf("leader %d, err %v: %d %q, want %d %q", tc.m.leader, tc.m.err, rec.Code, rec.Body.String(), tc.code, tc.body)
		}
	}
}
