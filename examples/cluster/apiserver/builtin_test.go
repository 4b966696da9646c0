package apiserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/api/builtin"
	"github.com/governor-io/governor/examples/cluster/apiserver"
	"github.com/governor-io/governor/store/mvcc"
)

// Every resource of api/builtin is served and listed in discovery.
func TestInstallBuiltinsServesEveryBuiltin(t *testing.T) {
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	srv, err := apiserver.New(apiserver.Config{KV: engine})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := apiserver.InstallBuiltins(srv); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv}
	e.ts = newTestServer(t, srv)
	for _, ty := range builtin.All() {
		path := "/api/" + ty.Version + "/" + ty.Resource
		if ty.Group != "" {
			path = "/apis/" + ty.Group + "/" + ty.Version + "/" + ty.Resource
		}
		if r := e.do("GET", path, ""); r.code != 200 || r.json(t)["kind"] != ty.Kind+"List" {
			t.Errorf("%s: %d %s", path, r.code, r.body)
		}
	}
}
