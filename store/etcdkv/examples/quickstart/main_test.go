package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/governor-io/governor/store/etcdkv/embedded"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func wantDemo(t *testing.T, out string) {
	t.Helper()
	for _, line := range []string{"ok: 3 pods: web-0 web-1 web-2", "ok: 2 pods: web-0 web-1", "ok: replicaset and pods gone", "== done"} {
		if !strings.Contains(out, line) {
			t.Fatalf("output lacks %q:\n%s", line, out)
		}
	}
}

// TestEmbedded runs the demo as `go run ./examples/quickstart` does, with
// no flags: on an etcd it embeds itself.
func TestEmbedded(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, []string{"-data-dir", t.TempDir()}, &out, io.Discard); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "store: embedded etcd on 127.0.0.1:") {
		t.Fatalf("no embedded etcd:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "governor quickstart on etcd at 127.0.0.1:") {
		t.Fatalf("the banner does not name etcd:\n%s", out.String())
	}
	wantDemo(t, out.String())
}

// TestFlag points the demo at an etcd given by -etcd, twice on the same
// etcd: the second run finds the first one's lease released and its
// objects gone.
func TestFlag(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	srv, err := embedded.Start(ctx, embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for range 2 {
		var out bytes.Buffer
		if err := run(ctx, []string{"-etcd", srv.Endpoint(), "-prefix", "/test"}, &out, io.Discard); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		if !strings.Contains(out.String(), "store: etcd at "+srv.Endpoint()) {
			t.Fatalf("not on the given etcd:\n%s", out.String())
		}
		wantDemo(t, out.String())
	}
}
