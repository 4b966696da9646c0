package apiserver_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/apiserver"
	"github.com/governor-io/governor/store/mvcc"
)

// Run serves on its listener until its context ends, then ends the
// watches, lets the requests in flight finish, and returns nil.
func TestRunShutsDownGracefully(t *testing.T) {
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := apiserver.New(apiserver.Config{KV: engine, Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	if err := apiserver.Register(srv, widgets); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := srv.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	req, _ := http.NewRequestWithContext(wctx, "GET", base+"/api/v1/widgets?watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	if !lines.Scan() { // the initial-events-end bookmark: the watch is open
		t.Fatalf("no bookmark: %v", lines.Err())
	}
	cancel()
	for lines.Scan() {
	}
	if err := lines.Err(); err != nil {
		t.Fatalf("the watch ended with %v, not cleanly", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := (&http.Client{Timeout: 5 * time.Second}).Get(base + "/healthz"); err == nil {
		t.Fatal("still serving after Run returned")
	}
}
