package apiserver_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/examples/cluster/apiserver"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
)

// silentKV is a KV whose progress requests go nowhere, so a watch cache
// learns of new revisions only from its own resource's events.
type silentKV struct{ *mvcc.Engine }

func (silentKV) RequestProgress(context.Context) error { return nil }

// A consistent read waits for the cache to reach the KV's revision; when
// it cannot (no progress notification comes), a list reads the KV and a
// watch starts from the cache as it is, after Config.FreshnessTimeout.
func TestConsistentReadsWhenTheCacheLagsBehind(t *testing.T) {
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	clk := clocktest.New(epoch)
	srv, err := apiserver.New(apiserver.Config{KV: silentKV{engine}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := apiserver.Register(srv, widgets); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	e := &env{t: t, srv: srv, ts: ts, kv: engine, clock: clk}
	e.waitReady()
	e.create("ns", "a", 1, nil)
	e.do("GET", "/api/v1/namespaces/ns/widgets", "") // the cache has seen a
	// A write elsewhere moves the KV's revision past anything the widget
	// cache will see.
	if _, err := kv.Put(t.Context(), engine, "/elsewhere", []byte("x")); err != nil {
		t.Fatal(err)
	}
	idle := clk.Waiters()
	done := make(chan response, 1)
	go func() { done <- e.do("GET", "/api/v1/namespaces/ns/widgets", "") }()
	if err := clk.BlockUntilWaiters(t.Context(), idle+1); err != nil {
		t.Fatal(err)
	}
	clk.Step(apiserver.DefaultFreshnessTimeout)
	r := <-done
	if r.code != 200 || metaOf(r.json(t))["resourceVersion"] != "2" || len(r.json(t)["items"].([]any)) != 1 {
		t.Fatalf("the list did not read the KV: %d %s", r.code, r.body)
	}

	opened := make(chan *watchStream, 1)
	go func() { opened <- e.watch("/api/v1/namespaces/ns/widgets?watch=true&timeoutSeconds=600") }()
	if err := clk.BlockUntilWaiters(t.Context(), idle+1); err != nil {
		t.Fatal(err)
	}
	clk.Step(apiserver.DefaultFreshnessTimeout)
	var w *watchStream
	select {
	case w = <-opened:
	case <-time.After(20 * time.Second):
		t.Fatal("the watch did not open")
	}
	w.expect("ADDED", "a")
	w.close() // before the deferred closes of the server, which wait for it
}
