package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/store/meta"
)

func widget(ns, name string, labels map[string]string, color string) *Widget {
	return &Widget{ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: name, Labels: labels}, Spec: WidgetSpec{Color: color, Replicas: 1}}
}

func TestResourceCRUDOverTheWire(t *testing.T) {
	f := newFakeServer(t)
	r := For(f.client(t, Config{}), widgets)
	ctx := context.Background()

	created, err := r.Create(ctx, widget("default", "a", map[string]string{"app": "web"}, "red"), FieldManager("test"))
	if err != nil {
		t.Fatal(err)
	}
	if created.UID == "" || created.ResourceVersion == "" || created.Kind != "Widget" || created.APIVersion != "example.dev/v1" {
		t.Fatalf("created = %+v, want uid, resourceVersion, kind and apiVersion", created)
	}
	if _, err := r.Create(ctx, widget("default", "b", map[string]string{"app": "db"}, "blue")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Create(ctx, widget("other", "c", map[string]string{"app": "web"}, "red")); err != nil {
		t.Fatal(err)
	}

	got, err := r.Get(ctx, "default", "a")
	if err != nil || got.Spec.Color != "red" || got.UID != created.UID {
		t.Fatalf("Get = %+v, %v", got, err)
	}

	for _, tc := range []struct {
		opts meta.ListOptions
		want []string
	}{
		{meta.ListOptions{}, []string{"a", "b", "c"}},
		{meta.ListOptions{Namespace: "default"}, []string{"a", "b"}},
		{meta.ListOptions{LabelSelector: "app=web"}, []string{"a", "c"}},
		{meta.ListOptions{FieldSelector: "spec.color=blue"}, []string{"b"}},
		{meta.ListOptions{Namespace: "default", LabelSelector: "app in (web,db)", FieldSelector: "metadata.name!=b"}, []string{"a"}},
	} {
		l, err := r.List(ctx, tc.opts)
		if err != nil {
			t.Fatalf("List(%+v): %v", tc.opts, err)
		}
		if got := names(l.Items); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("List(%+v) = %v, want %v", tc.opts, got, tc.want)
		}
		if l.ResourceVersion == "" {
			t.Errorf("List(%+v) has no resourceVersion", tc.opts)
		}
		for _, it := range l.Items {
			if it.Kind != "Widget" || it.APIVersion != "example.dev/v1" {
				t.Errorf("list item %s has kind %q apiVersion %q", it.Name, it.Kind, it.APIVersion)
			}
		}
	}

	got.Spec.Replicas = 3
	got.Status.Ready = 9 // ignored by Update
	updated, err := r.Update(ctx, got)
	if err != nil || updated.Spec.Replicas != 3 || updated.Status.Ready != 0 || updated.Generation != 2 {
		t.Fatalf("Update = %+v, %v", updated, err)
	}
	updated.Status.Ready = 2
	st, err := r.UpdateStatus(ctx, updated)
	if err != nil || st.Status.Ready != 2 {
		t.Fatalf("UpdateStatus = %+v, %v", st, err)
	}

	patched, err := r.Patch(ctx, "default", "a", MergePatch, []byte(`{"spec":{"color":"green"}}`))
	if err != nil || patched.Spec.Color != "green" || patched.Spec.Replicas != 3 {
		t.Fatalf("Patch = %+v, %v", patched, err)
	}
	patched, err = r.PatchStatus(ctx, "default", "a", StrategicMergePatch, []byte(`{"status":{"ready":3}}`))
	if err != nil || patched.Status.Ready != 3 {
		t.Fatalf("PatchStatus = %+v, %v", patched, err)
	}

	var sc scale
	if err := r.Subresource("scale").Get(ctx, "default", "a", &sc); err != nil || sc.Spec.Replicas != 3 {
		t.Fatalf("scale get = %+v, %v", sc, err)
	}
	sc.Spec.Replicas = 5
	if err := r.Subresource("scale").Update(ctx, "default", "a", &sc, &sc); err != nil || sc.Spec.Replicas != 5 {
		t.Fatalf("scale update = %+v, %v", sc, err)
	}

	stale := "1"
	_, err = r.Delete(ctx, "default", "a", meta.DeleteOptions{Preconditions: &meta.Preconditions{ResourceVersion: &stale}})
	if !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("Delete with a stale precondition: %v, want Conflict", err)
	}
	gone, err := r.Delete(ctx, "default", "a", meta.DeleteOptions{PropagationPolicy: meta.DeletePropagationBackground}, GracePeriod(0))
	if err != nil || gone.Name != "a" {
		t.Fatalf("Delete = %+v, %v", gone, err)
	}
	if _, err := r.Get(ctx, "default", "a"); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want NotFound", err)
	}
	if err := r.DeleteCollection(ctx, meta.ListOptions{LabelSelector: "app=web"}, meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	l, err := r.List(ctx, meta.ListOptions{})
	if err != nil || fmt.Sprint(names(l.Items)) != "[b]" {
		t.Fatalf("after DeleteCollection: %v, %v", names(l.Items), err)
	}

	// The wire: what each call sent.
	reqs := f.recorded()
	find := func(method, pathSuffix string) recorded {
		for _, rq := range reqs {
			if rq.Method == method && strings.HasSuffix(rq.Path, pathSuffix) {
				return rq
			}
		}
		t.Fatalf("no %s ...%s among %d requests", method, pathSuffix, len(reqs))
		return recorded{}
	}
	post := find(http.MethodPost, "/namespaces/default/widgets")
	if post.ContentType != "application/json" || post.Query != "fieldManager=test" ||
		!strings.HasPrefix(post.Body, `{"kind":"Widget","apiVersion":"example.dev/v1",`) {
		t.Errorf("create sent %+v", post)
	}
	if ua := post.Header.Get("User-Agent"); !strings.Contains(ua, "governor-client") {
		t.Errorf("User-Agent = %q", ua)
	}
	if acc := post.Header.Get("Accept"); acc != "application/json" {
		t.Errorf("Accept = %q", acc)
	}
	if p := find(http.MethodPatch, "/namespaces/default/widgets/a/status"); p.ContentType != string(StrategicMergePatch) {
		t.Errorf("status patch content type %q", p.ContentType)
	}
	var del wireDeleteOptions
	for _, rq := range reqs {
		if rq.Method == http.MethodDelete && strings.HasSuffix(rq.Path, "/widgets/a") && strings.Contains(rq.Body, "propagation") {
			if err := json.Unmarshal([]byte(rq.Body), &del); err != nil {
				t.Fatal(err)
			}
		}
	}
	if del.Kind != "DeleteOptions" || del.PropagationPolicy != meta.DeletePropagationBackground || del.GracePeriodSeconds == nil || *del.GracePeriodSeconds != 0 {
		t.Errorf("delete body = %+v", del)
	}
	dc := find(http.MethodDelete, "/apis/example.dev/v1/widgets")
	if dc.Query != "labelSelector=app%3Dweb" {
		t.Errorf("deletecollection query %q", dc.Query)
	}
}

func names(items []*Widget) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

func TestResourceErrorsMatchStoreSentinels(t *testing.T) {
	f := newFakeServer(t)
	r := For(f.client(t, Config{}), widgets)
	ctx := context.Background()
	w, err := r.Create(ctx, widget("default", "a", nil, "red"))
	if err != nil {
		t.Fatal(err)
	}
	stale := *w
	w.Spec.Color = "blue"
	if _, err := r.Update(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := f.engine.Compact(ctx, f.engine.Revision()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		call func() error
		want error
	}{
		{"get missing", func() error { _, err := r.Get(ctx, "default", "zz"); return err }, meta.ErrNotFound},
		{"create twice", func() error { _, err := r.Create(ctx, widget("default", "a", nil, "")); return err }, meta.ErrAlreadyExists},
		{"stale update", func() error { _, err := r.Update(ctx, &stale); return err }, meta.ErrConflict},
		{"bad field selector", func() error { _, err := r.List(ctx, meta.ListOptions{FieldSelector: "spec.nope=1"}); return err }, meta.ErrInvalid},
		{"bad label selector", func() error { _, err := r.List(ctx, meta.ListOptions{LabelSelector: "a in ("}); return err }, meta.ErrInvalid},
		{"compacted list", func() error { _, err := r.List(ctx, meta.ListOptions{ResourceVersion: "1"}); return err }, meta.ErrExpired},
		{"no namespace", func() error { _, err := r.Get(ctx, "", "a"); return err }, meta.ErrBadRequest},
		{"no name", func() error { _, err := r.Get(ctx, "default", ""); return err }, meta.ErrBadRequest},
		{"wrong patch type", func() error { _, err := r.Patch(ctx, "default", "a", JSONPatch, []byte(`[]`)); return err }, meta.ErrInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var se *meta.StatusError
			if !errors.As(err, &se) || se.Message == "" {
				t.Fatalf("err = %#v, want a StatusError with a message", err)
			}
		})
	}
}

func TestStatusErrorCarriesTheServersDetails(t *testing.T) {
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, meta.NewInvalid("widgets.example.dev", "a", meta.Cause{Field: "spec.replicas", Type: meta.CauseTypeFieldValueInvalid, Message: "must be >= 0"}))
	}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("<html>denied by the proxy</html>"))
	})
	c, _ := fakeClockClient(t, srv.srv.URL, Config{})
	r := For(c, widgets)
	_, err := r.Create(context.Background(), widget("default", "a", nil, ""))
	var se *meta.StatusError
	if !errors.As(err, &se) || se.Reason != meta.ReasonInvalid || se.Name != "a" || len(se.Causes) != 1 || se.Causes[0].Field != "spec.replicas" {
		t.Fatalf("err = %#v, want Invalid naming spec.replicas", err)
	}
	// A body that is no Status gets its reason from the HTTP code.
	_, err = r.Get(context.Background(), "default", "a")
	if !errors.Is(err, meta.ErrForbidden) || !strings.Contains(err.Error(), "denied by the proxy") {
		t.Fatalf("err = %v, want Forbidden quoting the body", err)
	}
}

func TestResourcePaths(t *testing.T) {
	type obj = Widget
	core := api.Type[*obj]{Version: "v1", Kind: "Node", Resource: "nodes"}
	grouped := api.Type[*obj]{Group: "apps", Version: "v1", Kind: "Deployment", Resource: "deployments", Namespaced: true}
	c, err := New(Config{Host: "https://lb.example:6443/cluster-a/"})
	if err != nil {
		t.Fatal(err)
	}
	n, d := For(c, core), For(c, grouped)
	for _, tc := range []struct {
		got  func() (string, error)
		want string
	}{
		{func() (string, error) { return n.path("", "", "", false) }, "/api/v1/nodes"},
		{func() (string, error) { return n.objectPath("", "node-1", "status") }, "/api/v1/nodes/node-1/status"},
		{func() (string, error) { return d.path("", "", "", false) }, "/apis/apps/v1/deployments"},
		{func() (string, error) { return d.objectPath("prod", "web", "scale") }, "/apis/apps/v1/namespaces/prod/deployments/web/scale"},
		{func() (string, error) { return d.objectPath("prod", "a b/c", "") }, "/apis/apps/v1/namespaces/prod/deployments/a%20b%2Fc"},
	} {
		got, err := tc.got()
		if err != nil || got != tc.want {
			t.Errorf("path = %q, %v; want %q", got, err, tc.want)
		}
	}
	if _, err := n.objectPath("default", "node-1", ""); !errors.Is(err, meta.ErrBadRequest) {
		t.Errorf("a namespace on a cluster-scoped resource: %v, want BadRequest", err)
	}
	if c.Host() != "https://lb.example:6443/cluster-a" {
		t.Errorf("Host() = %q", c.Host())
	}
}

func TestListAllPagesThroughOneSnapshot(t *testing.T) {
	f := newFakeServer(t)
	r := For(f.client(t, Config{}), widgets)
	ctx := context.Background()
	for i := range 7 {
		if _, err := r.Create(ctx, widget("default", fmt.Sprintf("w%d", i), nil, "")); err != nil {
			t.Fatal(err)
		}
	}
	l, err := r.ListAll(ctx, meta.ListOptions{Namespace: "default", Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 7 || l.Continue != "" || l.ResourceVersion == "" {
		t.Fatalf("ListAll = %d items, continue %q, rv %q", len(l.Items), l.Continue, l.ResourceVersion)
	}
	var pages []string
	for _, rq := range f.recorded() {
		if rq.Method == http.MethodGet {
			pages = append(pages, rq.Query)
		}
	}
	if len(pages) != 3 || !strings.Contains(pages[1], "continue=") || !strings.Contains(pages[2], "limit=3") {
		t.Fatalf("pages requested: %q", pages)
	}
}

func TestListAllStartsOverWhenTheContinueTokenExpires(t *testing.T) {
	f := newFakeServer(t)
	r := For(f.client(t, Config{}), widgets)
	ctx := context.Background()
	for i := range 5 {
		if _, err := r.Create(ctx, widget("default", fmt.Sprintf("w%d", i), nil, "")); err != nil {
			t.Fatal(err)
		}
	}
	f.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Get("continue") == "" {
			return false
		}
		writeStatus(w, meta.NewExpired("the continue token is too old"))
		return true
	}
	l, err := r.ListAll(ctx, meta.ListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 5 {
		t.Fatalf("ListAll = %d items, want 5", len(l.Items))
	}
	reqs := f.recorded()
	last := reqs[len(reqs)-1]
	if strings.Contains(last.Query, "limit") || strings.Contains(last.Query, "continue") {
		t.Errorf("restart sent %q, want one unpaged list", last.Query)
	}
}

func TestDryRunCreateStoresNothing(t *testing.T) {
	f := newFakeServer(t)
	r := For(f.client(t, Config{}), widgets)
	ctx := context.Background()
	if _, err := r.Create(ctx, widget("default", "a", nil, ""), DryRun()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx, "default", "a"); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("Get after a dry run: %v, want NotFound", err)
	}
	if q := f.recorded()[0].Query; q != "dryRun=All" {
		t.Errorf("query %q, want dryRun=All", q)
	}
}

func TestEncodeKeepsTheCallersObjectAndFillsTypeMeta(t *testing.T) {
	r := For(&Client{}, widgets)
	w := widget("default", "a", nil, "")
	b, err := r.encode(w)
	if err != nil {
		t.Fatal(err)
	}
	if w.Kind != "" || w.APIVersion != "" {
		t.Error("encode changed the caller's object")
	}
	var back Widget
	if err := json.Unmarshal(b, &back); err != nil || back.Kind != "Widget" || back.APIVersion != "example.dev/v1" || back.Name != "a" {
		t.Fatalf("encoded %s: %+v, %v", b, back, err)
	}
	w.Kind = "Widget"
	b, _ = r.encode(w)
	if strings.Count(string(b), `"kind"`) != 1 {
		t.Errorf("encoded %s has kind twice", b)
	}
}

func TestSubresourceCreateTakesASuccessStatus(t *testing.T) {
	f := newFakeServer(t)
	r := For(f.client(t, Config{}), widgets)
	f.intercept = func(w http.ResponseWriter, req *http.Request) bool {
		if !strings.HasSuffix(req.URL.Path, "/binding") {
			return false
		}
		writeJSON(w, http.StatusCreated, meta.Status{TypeMeta: meta.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: meta.StatusSuccess, Code: 201})
		return true
	}
	type binding struct {
		meta.TypeMeta
		Metadata meta.ObjectMeta `json:"metadata"`
		Target   struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"target"`
	}
	b := binding{TypeMeta: meta.TypeMeta{Kind: "Binding", APIVersion: "v1"}, Metadata: meta.ObjectMeta{Name: "a", Namespace: "default"}}
	b.Target.Kind, b.Target.Name = "Node", "node-1"
	out := binding{}
	if err := r.Subresource("binding").Create(context.Background(), "default", "a", &b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Target.Name != "" {
		t.Errorf("a Success Status filled the answer: %+v", out)
	}
	req := f.recorded()[0]
	if req.Method != http.MethodPost || req.Path != "/apis/example.dev/v1/namespaces/default/widgets/a/binding" ||
		!strings.Contains(req.Body, `"target":{"kind":"Node","name":"node-1"}`) || req.ContentType != "application/json" {
		t.Errorf("binding sent %+v", req)
	}
	// Errors of a subresource are Store errors too.
	err := r.Subresource("scale").Get(context.Background(), "default", "missing", &scale{})
	if !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("scale of a missing widget: %v, want NotFound", err)
	}
}
