package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// Widget is the test resource: namespaced, in group example.dev, with the
// status and scale subresources.
type Widget struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            WidgetSpec   `json:"spec"`
	Status          WidgetStatus `json:"status,omitzero"`
}

type WidgetSpec struct {
	Color    string `json:"color,omitempty"`
	Replicas int32  `json:"replicas"`
}

type WidgetStatus struct {
	Ready int32 `json:"ready,omitempty"`
}

var widgets = api.Type[*Widget]{
	Group: "example.dev", Version: "v1", Kind: "Widget", Resource: "widgets", Singular: "widget",
	Namespaced: true, Subresources: []string{"status", "scale"},
	Fields: map[string]func(*Widget) string{"spec.color": func(w *Widget) string { return w.Spec.Color }},
	New:    func() *Widget { return new(Widget) },
}

// fakeServer is a small API server for one resource, widgets, over a real
// store.Store: enough of the Kubernetes wire (CONTROLPLANE.md) for the
// client's tests, until they also run against package apiserver.
type fakeServer struct {
	t      *testing.T
	engine *mvcc.Engine
	store  *store.Store[*Widget]
	srv    *httptest.Server

	mu       sync.Mutex
	requests []recorded
	watches  map[int]context.CancelFunc
	nextW    int
	// intercept, if set, sees every request first; it returns true when
	// it answered it.
	intercept func(w http.ResponseWriter, r *http.Request) bool
}

type recorded struct {
	Method, Path, Query, ContentType, Body string
	Header                                 http.Header
}

const widgetsPath = "/apis/example.dev/v1/"

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	f := &fakeServer{t: t, engine: mvcc.New(mvcc.Options{}), watches: map[int]context.CancelFunc{}}
	f.store = store.New(f.engine, widgets.StoreResource())
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.endWatches()
		f.srv.Close()
		f.engine.Close()
	})
	return f
}

// client returns a Client of f with the given config changes.
func (f *fakeServer) client(t *testing.T, cfg Config) *Client {
	t.Helper()
	cfg.Host = f.srv.URL
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// endWatches ends every open watch, as a server that restarts does.
func (f *fakeServer) endWatches() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, cancel := range f.watches {
		cancel()
	}
}

func (f *fakeServer) recorded() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.requests...)
}

func writeStatus(w http.ResponseWriter, err error) {
	st := meta.ToStatus(err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(st.Code))
	_ = json.NewEncoder(w).Encode(st)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		ContentType: r.Header.Get("Content-Type"), Body: string(body), Header: r.Header.Clone()})
	intercept := f.intercept
	f.mu.Unlock()
	if intercept != nil && intercept(w, r) {
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, widgetsPath)
	if !ok {
		writeStatus(w, meta.NewNotFound("", r.URL.Path))
		return
	}
	seg := strings.Split(rest, "/")
	ns := ""
	if seg[0] == "namespaces" && len(seg) >= 3 {
		ns, seg = seg[1], seg[2:]
	}
	if seg[0] != "widgets" {
		writeStatus(w, meta.NewNotFound("", r.URL.Path))
		return
	}
	name, sub := "", ""
	if len(seg) > 1 {
		name = seg[1]
	}
	if len(seg) > 2 {
		sub = seg[2]
	}
	ctx := r.Context()
	q := r.URL.Query()
	switch {
	case name == "" && r.Method == http.MethodGet && q.Get("watch") == "true":
		f.watch(w, r, ns)
	case name == "" && r.Method == http.MethodGet:
		opts := listOptions(q, ns)
		if q.Get("resourceVersionMatch") == "" && opts.ResourceVersion != "0" && opts.ResourceVersion != "" {
			f.t.Errorf("list at %s without resourceVersionMatch", opts.ResourceVersion)
		}
		l, err := f.store.List(ctx, opts)
		if err != nil {
			writeStatus(w, err)
			return
		}
		items := l.Items
		if items == nil {
			items = []*Widget{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"kind": "WidgetList", "apiVersion": "example.dev/v1",
			"metadata": map[string]string{"resourceVersion": l.ResourceVersion, "continue": l.Continue}, "items": items})
	case name == "" && r.Method == http.MethodPost:
		obj, err := decodeWidget(body)
		if err != nil {
			writeStatus(w, err)
			return
		}
		if q.Get("dryRun") == "All" {
			writeJSON(w, http.StatusCreated, obj)
			return
		}
		out, err := f.store.Create(ctx, obj)
		if err != nil {
			writeStatus(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, out)
	case name == "" && r.Method == http.MethodDelete:
		l, err := f.store.List(ctx, listOptions(q, ns))
		if err != nil {
			writeStatus(w, err)
			return
		}
		for _, it := range l.Items {
			if _, err := f.store.Delete(ctx, it.Namespace, it.Name, meta.DeleteOptions{}); err != nil && !errors.Is(err, meta.ErrNotFound) {
				writeStatus(w, err)
				return
			}
		}
		writeJSON(w, http.StatusOK, meta.Status{TypeMeta: meta.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: meta.StatusSuccess})
	case r.Method == http.MethodGet && sub == "scale":
		obj, err := f.store.Get(ctx, ns, name)
		if err != nil {
			writeStatus(w, err)
			return
		}
		writeJSON(w, http.StatusOK, scale{TypeMeta: meta.TypeMeta{Kind: "Scale", APIVersion: "autoscaling/v1"},
			Metadata: meta.ObjectMeta{Name: name, Namespace: ns, ResourceVersion: obj.ResourceVersion}, Spec: scaleSpec{Replicas: obj.Spec.Replicas}})
	case r.Method == http.MethodPut && sub == "scale":
		var s scale
		if err := json.Unmarshal(body, &s); err != nil {
			writeStatus(w, meta.NewBadRequest(err.Error()))
			return
		}
		out, err := f.store.GuaranteedUpdate(ctx, ns, name, func(o *Widget) (*Widget, error) {
			o.Spec.Replicas = s.Spec.Replicas
			return o, nil
		})
		if err != nil {
			writeStatus(w, err)
			return
		}
		s.Metadata.ResourceVersion = out.ResourceVersion
		writeJSON(w, http.StatusOK, s)
	case r.Method == http.MethodGet && sub == "":
		out, err := f.store.Get(ctx, ns, name)
		if err != nil {
			writeStatus(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	case r.Method == http.MethodPut && (sub == "" || sub == "status"):
		obj, err := decodeWidget(body)
		if err != nil {
			writeStatus(w, err)
			return
		}
		update := f.store.Update
		if sub == "status" {
			update = f.store.UpdateStatus
		}
		out, err := update(ctx, obj)
		if err != nil {
			writeStatus(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	case r.Method == http.MethodPatch && (sub == "" || sub == "status"):
		ct := r.Header.Get("Content-Type")
		if ct != string(MergePatch) && ct != string(StrategicMergePatch) {
			writeJSON(w, http.StatusUnsupportedMediaType, meta.Status{TypeMeta: meta.TypeMeta{Kind: "Status", APIVersion: "v1"},
				Status: meta.StatusFailure, Reason: "UnsupportedMediaType", Code: 415, Message: "the fake takes merge patches only"})
			return
		}
		patch := f.store.Patch
		if sub == "status" {
			patch = f.store.PatchStatus
		}
		out, err := patch(ctx, ns, name, body)
		if err != nil {
			writeStatus(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	case r.Method == http.MethodDelete && sub == "":
		var do wireDeleteOptions
		if len(body) > 0 {
			if err := json.Unmarshal(body, &do); err != nil {
				writeStatus(w, meta.NewBadRequest(err.Error()))
				return
			}
		}
		out, err := f.store.Delete(ctx, ns, name, meta.DeleteOptions{Preconditions: do.Preconditions, PropagationPolicy: do.PropagationPolicy})
		if err != nil {
			writeStatus(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	default:
		writeJSON(w, http.StatusMethodNotAllowed, meta.Status{TypeMeta: meta.TypeMeta{Kind: "Status", APIVersion: "v1"},
			Status: meta.StatusFailure, Reason: "MethodNotAllowed", Code: 405, Message: r.Method + " not allowed"})
	}
}

type scale struct {
	meta.TypeMeta
	Metadata meta.ObjectMeta `json:"metadata"`
	Spec     scaleSpec       `json:"spec"`
}

type scaleSpec struct {
	Replicas int32 `json:"replicas"`
}

func decodeWidget(body []byte) (*Widget, error) {
	var w Widget
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, meta.NewBadRequest("malformed body: " + err.Error())
	}
	if w.Kind != "Widget" || w.APIVersion != "example.dev/v1" {
		return nil, meta.NewBadRequest("wrong kind or apiVersion: " + w.Kind + " " + w.APIVersion)
	}
	return &w, nil
}

func listOptions(q map[string][]string, ns string) meta.ListOptions {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	limit, _ := strconv.ParseInt(get("limit"), 10, 64)
	return meta.ListOptions{
		Namespace: ns, LabelSelector: get("labelSelector"), FieldSelector: get("fieldSelector"),
		ResourceVersion: get("resourceVersion"), Limit: limit, Continue: get("continue"),
		AllowWatchBookmarks: get("allowWatchBookmarks") == "true", SendInitialEvents: get("sendInitialEvents") == "true",
	}
}

// watch streams the store's watch as JSON lines, one flushed per event,
// with a too-old resourceVersion as an ERROR event carrying a 410 Status.
func (f *fakeServer) watch(w http.ResponseWriter, r *http.Request, ns string) {
	q := r.URL.Query()
	opts := listOptions(q, ns)
	if opts.SendInitialEvents && q.Get("resourceVersionMatch") != "NotOlderThan" {
		writeStatus(w, meta.NewInvalid("widgets", "", meta.Cause{Field: "resourceVersionMatch", Message: "sendInitialEvents needs NotOlderThan"}))
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	f.mu.Lock()
	id := f.nextW
	f.nextW++
	f.watches[id] = cancel
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.watches, id)
		f.mu.Unlock()
	}()
	ch, err := f.store.Watch(ctx, opts)
	w.Header().Set("Content-Type", "application/json")
	flusher := w.(http.Flusher)
	enc := json.NewEncoder(w)
	if err != nil {
		if !errors.Is(err, meta.ErrExpired) {
			writeStatus(w, err)
			return
		}
		w.WriteHeader(http.StatusOK)
		_ = enc.Encode(map[string]any{"type": meta.Error, "object": meta.ToStatus(err)})
		return
	}
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	for ev := range ch {
		var obj any = ev.Object
		if ev.Type == meta.Error {
			obj = meta.ToStatus(ev.Err)
		}
		if err := enc.Encode(map[string]any{"type": ev.Type, "object": obj}); err != nil {
			cancel()
			for range ch {
			}
			return
		}
		flusher.Flush()
	}
}
