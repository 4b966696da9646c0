package apiserverbench

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/apiserver"
	"github.com/governor-io/governor/store/mvcc"
)

// startGovernor serves Governor's API server in this process, over TLS
// with a PKI of its own as the benchmark does, on an in-memory KV, and
// returns the PKI and the server's URL.
func startGovernor(t *testing.T) (*PKI, string) {
	t.Helper()
	p, err := NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(p.CertFile, p.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}})
	engine, err := mvcc.Open(mvcc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := apiserver.New(apiserver.Config{KV: engine, Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	if err := apiserver.InstallBuiltins(srv); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
		srv.Close()
		engine.Close()
	})
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	if err := srv.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	return p, "https://" + ln.Addr().String()
}

// TestRunQuick runs the driver at a hundredth of the published sizes
// against Governor's API server: every phase completes, the driver's own
// checks (every list returns every pod, every watcher sees every write)
// pass, and every figure is set.
func TestRunQuick(t *testing.T) {
	p, url := startGovernor(t)
	c := Full().Scale(100)
	c.Clients, c.Lists = 8, 2
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r, err := Run(ctx, Target{REST: p.REST(url), PIDs: map[string]int{"server": os.Getpid()}}, c)
	if err != nil {
		t.Fatal(err)
	}
	if r.CreatesPerSec <= 0 || r.GetP99 <= 0 || r.ListRV0 <= 0 || r.ListConsistent <= 0 || r.WatchP99 <= 0 || r.RSS["server"] <= 0 {
		t.Fatalf("a figure is missing: %+v", r)
	}
	line := r.BenchLine("governor")
	for _, unit := range []string{"creates/s", "get-p99-ms", "list-rv0-ms", "list-consistent-ms", "watch-p99-ms", "server-rss-B", "total-rss-B"} {
		if !strings.Contains(line, " "+unit) {
			t.Errorf("bench line has no %s: %s", unit, line)
		}
	}
	// The pods are all there: a second run in the same namespaces fails
	// at its first create, which finds the pod already there.
	if _, err := Run(ctx, Target{REST: p.REST(url)}, c); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second run: %v, want already exists", err)
	}
}

func TestScaleAndValidate(t *testing.T) {
	q := Full().Scale(10)
	if q.Clients != 64 || q.Pods != 1000 || q.Watchers != 100 || q.RSSPods != 5000 || q.Lists != 10 {
		t.Fatalf("Full().Scale(10) = %+v", q)
	}
	if err := (Config{}).validate(); err == nil {
		t.Fatal("a zero Config validates")
	}
	bad := Full().Scale(10)
	bad.RSSPods = bad.Pods
	if _, err := Run(context.Background(), Target{}, bad); err == nil {
		t.Fatal("RSSPods below Pods+WatchWrites runs")
	}
}

func TestPercentile(t *testing.T) {
	d := make([]time.Duration, 100)
	for i := range d {
		d[i] = time.Duration(100 - i)
	}
	if got := Percentile(d, 0.99); got != 99 {
		t.Errorf("p99 of 1..100 = %d, want 99", got)
	}
	if got := Percentile(d, 0.5); got != 50 {
		t.Errorf("p50 of 1..100 = %d, want 50", got)
	}
	if got := Percentile([]time.Duration{7}, 0.99); got != 7 {
		t.Errorf("p99 of one = %d", got)
	}
}

func TestReadRSS(t *testing.T) {
	rss, err := ReadRSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Fatalf("ReadRSS(self) = %d, %v", rss, err)
	}
	if _, err := ReadRSS(-1); err == nil {
		t.Fatal("ReadRSS(-1): no error")
	}
}

func TestSummarize(t *testing.T) {
	mk := func(c float64) Result { return Result{CreatesPerSec: c, RSS: map[string]int64{"server": 1 << 20}} }
	s := Summarize([]string{"b", "a"}, map[string][]Result{"a": {mk(3), mk(1), mk(2)}, "b": {mk(10), mk(20)}})
	for _, want := range []string{
		"a                    creates/s               3        2.000        1.000        3.000",
		"b                    creates/s               2       15.000       10.000       20.000",
		"a                    server-rss-MiB          3        1.000        1.000        1.000",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	if strings.Index(s, "\nb ") > strings.Index(s, "\na ") {
		t.Errorf("impls out of order:\n%s", s)
	}
}
