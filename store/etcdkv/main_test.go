package etcdkv_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/governor-io/governor/store/etcdkv"
	"github.com/governor-io/governor/store/etcdkv/embedded"
)

// The tests run against real etcd, embedded in the test process
// (go.etcd.io/etcd/server/v3/embed) rather than a system package started by
// CI: it is the exact version of the client (3.7.3), it needs nothing
// installed, and a test can stop and restart it on the same data and ports.
// Most tests share one server and keep apart by key prefix; the restart
// tests start their own.

var shared struct {
	once sync.Once
	srv  *embedded.Server
	dir  string
	err  error
}

// sharedServer returns the embedded etcd that most tests share.
func sharedServer(t testing.TB) *embedded.Server {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "etcdkv-test-")
		if shared.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		shared.srv, shared.err = embedded.Start(ctx, embedded.Config{Dir: shared.dir})
	})
	if shared.err != nil {
		t.Fatalf("start embedded etcd: %v", shared.err)
	}
	return shared.srv
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.Close()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// prefixFor returns a key prefix of the test's own.
func prefixFor(t testing.TB) string {
	return "/etcdkv-test/" + strings.ReplaceAll(t.Name(), "/", "_") + "/"
}

// newKV connects a KV to srv under the test's own prefix.
func newKV(t testing.TB, srv *embedded.Server) *etcdkv.KV {
	t.Helper()
	return newKVAt(t, srv.Endpoint())
}

// newKVAt connects a KV to the etcd at endpoint under the test's own
// prefix.
func newKVAt(t testing.TB, endpoint string) *etcdkv.KV {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k, err := etcdkv.New(ctx, etcdkv.Config{Endpoints: []string{endpoint}, Prefix: prefixFor(t)})
	if err != nil {
		t.Fatalf("etcdkv.New: %v", err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}
