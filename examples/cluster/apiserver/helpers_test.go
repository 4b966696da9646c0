package apiserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/examples/cluster/apiserver"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// Widget is the test resource: namespaced, in the core group, with a
// status subresource, a field selector and a list that merges by name.
type Widget struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            WidgetSpec   `json:"spec"`
	Status          WidgetStatus `json:"status,omitzero"`
}

type WidgetSpec struct {
	Size  int32    `json:"size"`
	Node  string   `json:"node,omitempty"`
	Parts []Part   `json:"parts,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	Tags  []string `json:"tags,omitempty"`
}

type Part struct {
	Name  string `json:"name"`
	Color string `json:"color,omitempty"`
}

type WidgetStatus struct {
	Phase string `json:"phase,omitempty"`
}

var widgets = api.Type[*Widget]{
	Version: "v1", Kind: "Widget", Resource: "widgets", Singular: "widget", Namespaced: true,
	ShortNames: []string{"wd"}, Categories: []string{"all"}, Subresources: []string{"status"},
	Fields: map[string]func(*Widget) string{"spec.node": func(w *Widget) string { return w.Spec.Node }},
	Columns: []api.TableColumn{
		{Name: "Name", Type: "string", Format: "name"},
		{Name: "Size", Type: "integer"},
		{Name: "Age", Type: "string"},
		{Name: "Node", Type: "string", Priority: 1},
	},
	Cells: func(w *Widget, now time.Time) []any {
		return []any{w.Name, int64(w.Spec.Size), api.Age(w.CreationTimestamp, now), w.Spec.Node}
	},
	Validate: func(w *Widget) []meta.Cause {
		if w.Spec.Size < 0 {
			return []meta.Cause{{Field: "spec.size", Type: meta.CauseTypeFieldValueInvalid, Message: "must be non-negative"}}
		}
		return nil
	},
	New: func() *Widget { return new(Widget) },
}

// gadgets are cluster-scoped, in a group, with the NAME/AGE table.
var gadgets = api.Type[*Widget]{
	Group: "example.dev", Version: "v1", Kind: "Gadget", Resource: "gadgets", Singular: "gadget",
	New: func() *Widget { return new(Widget) },
}

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type env struct {
	t     *testing.T
	srv   *apiserver.Server
	ts    *httptest.Server
	kv    *mvcc.Engine
	clock *clocktest.Fake
}

func newEnv(t *testing.T, mutate ...func(*apiserver.Config)) *env {
	t.Helper()
	e := &env{t: t, kv: mvcc.New(mvcc.Options{}), clock: clocktest.New(epoch)}
	cfg := apiserver.Config{KV: e.kv, Clock: e.clock, MaxRequestBodyBytes: 64 << 10}
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := apiserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	if err := apiserver.Register(srv, widgets); err != nil {
		t.Fatal(err)
	}
	if err := apiserver.Register(srv, gadgets); err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		e.ts.Close()
		srv.Close()
		e.kv.Close()
	})
	e.waitReady()
	return e
}

// waitReady waits for the watch caches to load.
func (e *env) waitReady() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.WaitReady(ctx); err != nil {
		e.t.Fatal(err)
	}
}

type response struct {
	code   int
	header http.Header
	body   string
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

func (e *env) do(method, path, body string, header ...string) response {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: string(data)}
}

// create stores a widget and returns it as the server answered.
func (e *env) create(ns, name string, size int32, labels map[string]string) *Widget {
	e.t.Helper()
	w := Widget{ObjectMeta: meta.ObjectMeta{Name: name, Labels: labels}, Spec: WidgetSpec{Size: size}}
	data, _ := json.Marshal(w)
	r := e.do("POST", "/api/v1/namespaces/"+ns+"/widgets", string(data))
	if r.code != http.StatusCreated {
		e.t.Fatalf("create %s/%s: %d %s", ns, name, r.code, r.body)
	}
	out := new(Widget)
	if err := json.Unmarshal([]byte(r.body), out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func metaOf(obj map[string]any) map[string]any {
	m, _ := obj["metadata"].(map[string]any)
	return m
}

func nameOf(obj map[string]any) string {
	s, _ := metaOf(obj)["name"].(string)
	return s
}

func newTestServer(t *testing.T, srv *apiserver.Server) *httptest.Server {
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}
