package replicaset_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/quickstart/replicaset"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store/mvcc"
)

// urlWriter keeps the output and sends the metrics URL once the demo
// says the manager keeps running.
type urlWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	urls chan string
}

func (w *urlWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	const prefix = "the manager keeps running; metrics: "
	if line := string(p); strings.HasPrefix(line, prefix) {
		w.urls <- strings.Fields(strings.TrimPrefix(line, prefix))[0]
	}
	return len(p), nil
}

func (w *urlWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// With KeepRunning the manager keeps serving after the script, its
// /metrics has every family the issue names, and cancelling the context
// stops it cleanly.
func TestKeepRunningServesMetrics(t *testing.T) {
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &urlWriter{urls: make(chan string, 1)}
	done := make(chan error, 1)
	go func() {
		done <- replicaset.RunWithOptions(ctx, engine, out, replicaset.RunOptions{
			Manager: reconcile.ManagerOptions{Addr: "127.0.0.1:0"}, KeepRunning: true})
	}()
	var url string
	select {
	case url = <-out.urls:
	case err := <-done:
		t.Fatalf("RunWithOptions returned %v before the script ended:\n%s", err, out)
	case <-time.After(time.Minute):
		t.Fatalf("the script did not end:\n%s", out)
	}
	if !strings.Contains(out.String(), "== done") {
		t.Errorf("keeps running before the script is done:\n%s", out)
	}
	rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
	defer rcancel()
	req, _ := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		"\n# TYPE workqueue_adds_total ", "\n# TYPE reflector_lists_total ", "\n# TYPE informer_events_received_total ",
		"\n# TYPE go_goroutines ", "\n# TYPE process_cpu_seconds_total ", "\n# TYPE controller_runtime_reconcile_total ",
		"\n" + `leader_election_master_status{name="quickstart"} 1` + "\n",
		"\n" + `workqueue_adds_total{name="replicaset"} `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("%s lacks %q", url, strings.TrimSpace(want))
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("RunWithOptions: %v", err)
	}
	if !strings.Contains(out.String(), "manager stopped") {
		t.Errorf("no clean stop:\n%s", out)
	}
}
