package apiserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/apiserver"
	"github.com/governor-io/governor/store/mvcc"
)

// FuzzRequests sends arbitrary requests and checks the rule for bad
// input: the answer is a Kubernetes Status with a 4xx code (or 504 for a
// resourceVersion the server has not reached), never a 5xx or a panic.
func FuzzRequests(f *testing.F) {
	seeds := []struct {
		method      uint8
		path, ctype string
		body        string
	}{
		{1, "/api/v1/namespaces/ns/widgets", "application/json", `{"metadata":{"name":"a"},"spec":{"size":1}}`},
		{2, "/api/v1/namespaces/ns/widgets/a", "application/json", `{"metadata":{"name":"a","resourceVersion":"1"}}`},
		{3, "/api/v1/namespaces/ns/widgets/a", "application/json-patch+json", `[{"op":"move","from":"/spec","path":"/spec/x"}]`},
		{3, "/api/v1/namespaces/ns/widgets/a", "application/strategic-merge-patch+json", `{"spec":{"$setElementOrder/parts":[{"name":1}],"parts":[{"name":"p","$patch":"delete"}]}}`},
		{3, "/api/v1/namespaces/ns/widgets/a/status", "application/merge-patch+json", `{"status":null}`},
		{4, "/api/v1/namespaces/ns/widgets?labelSelector=a!%3D&limit=-1", "", ""},
		{0, "/api/v1/namespaces/ns/widgets?resourceVersion=5&resourceVersionMatch=Exact&continue=x", "", ""},
		{0, "/apis/example.dev/v1/gadgets/g", "", ""},
		{4, "/api/v1/namespaces/ns/widgets/a", "application/json", `{"propagationPolicy":"Foreground","preconditions":{"uid":""}}`},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.ctype, []byte(s.body))
	}
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	srv, err := apiserver.New(apiserver.Config{KV: engine, FreshnessTimeout: time.Millisecond, MaxRequestBodyBytes: 1 << 16})
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Close()
	if err := apiserver.Register(srv, widgets); err != nil {
		f.Fatal(err)
	}
	if err := apiserver.Register(srv, gadgets); err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.WaitReady(ctx); err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()
	methods := []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
	f.Fuzz(func(t *testing.T, method uint8, path, ctype string, body []byte) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(methods[int(method)%len(methods)], "http://server"+path, strings.NewReader(string(body)))
		if err != nil {
			return
		}
		q := req.URL.Query()
		if q.Has("watch") {
			return // a watch streams until it times out
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req.WithContext(rctx))
		if rec.Code < 400 {
			return
		}
		var st map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || st["kind"] != "Status" {
			t.Fatalf("%s %s: %d is not a Status: %q", req.Method, path, rec.Code, rec.Body.String())
		}
		if rec.Code >= 500 && !(rec.Code == http.StatusGatewayTimeout && st["reason"] == "Timeout") {
			t.Fatalf("%s %s (%s) %q: %d %s", req.Method, path, ctype, body, rec.Code, rec.Body.String())
		}
	})
}
