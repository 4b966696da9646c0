package apiserver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/examples/cluster/apiserver"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// Note is a small resource for the example.
type Note struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Text            string `json:"text"`
}

// Serving a resource and talking to it as kubectl would.
func Example() {
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	srv, _ := apiserver.New(apiserver.Config{KV: engine})
	defer srv.Close()
	_ = apiserver.Register(srv, api.Type[*Note]{
		Group: "example.dev", Version: "v1", Kind: "Note", Resource: "notes", Singular: "note",
		Namespaced: true, New: func() *Note { return new(Note) },
	})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.WaitReady(ctx)

	call := func(method, path, body string) {
		req, _ := http.NewRequestWithContext(ctx, method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		text := strings.TrimSpace(string(data))
		fmt.Println(resp.StatusCode, text[:min(len(text), 60)])
	}
	call("POST", "/apis/example.dev/v1/namespaces/default/notes", `{"metadata":{"name":"hello"},"text":"hi"}`)
	call("GET", "/apis/example.dev/v1/namespaces/default/notes/nope", "")
	call("GET", "/apis/example.dev/v1", "")
	// Output:
	// 201 {"kind":"Note","apiVersion":"example.dev/v1","metadata":{"na
	// 404 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"F
	// 200 {"kind":"APIResourceList","apiVersion":"v1","groupVersion":"
}
