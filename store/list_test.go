package store_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/governor-io/governor/store/meta"
)

func names(items []*Widget) []string {
	var out []string
	for _, w := range items {
		out = append(out, w.Namespace+"/"+w.Name)
	}
	return out
}

func seed(t *testing.T, e *env) {
	t.Helper()
	ctx := ctxT(t)
	for i, spec := range []struct{ ns, name, app, node string }{
		{"a", "w1", "web", "n1"}, {"a", "w2", "db", "n2"}, {"a", "w3", "web", ""},
		{"b", "w1", "web", "n1"}, {"b", "w2", "cache", "n1"}, {"ab", "w1", "web", "n3"},
	} {
		w := widget(spec.ns, spec.name, i)
		w.Labels = map[string]string{"app": spec.app}
		w.Spec.Node = spec.node
		must[*Widget](t)(e.s.Create(ctx, w))
	}
}

func TestListSelectors(t *testing.T) {
	e := newEnv(t)
	seed(t, e)
	ctx := ctxT(t)
	tests := []struct {
		opts meta.ListOptions
		want string
	}{
		{meta.ListOptions{}, "[a/w1 a/w2 a/w3 ab/w1 b/w1 b/w2]"},
		{meta.ListOptions{Namespace: "a"}, "[a/w1 a/w2 a/w3]"},
		{meta.ListOptions{LabelSelector: "app=web"}, "[a/w1 a/w3 ab/w1 b/w1]"},
		{meta.ListOptions{LabelSelector: "app in (db,cache)"}, "[a/w2 b/w2]"},
		{meta.ListOptions{LabelSelector: "app notin (web),app"}, "[a/w2 b/w2]"},
		{meta.ListOptions{FieldSelector: "spec.node=n1"}, "[a/w1 b/w1 b/w2]"},
		{meta.ListOptions{FieldSelector: "spec.node="}, "[a/w3]"},
		{meta.ListOptions{FieldSelector: "metadata.name=w1,metadata.namespace!=a"}, "[ab/w1 b/w1]"},
		{meta.ListOptions{Namespace: "b", LabelSelector: "app=web", FieldSelector: "spec.node=n1"}, "[b/w1]"},
	}
	for _, tt := range tests {
		l := must[*meta.List[*Widget]](t)(e.s.List(ctx, tt.opts))
		if got := fmt.Sprint(names(l.Items)); got != tt.want {
			t.Errorf("List(%+v) = %s, want %s", tt.opts, got, tt.want)
		}
		if l.ResourceVersion != meta.FormatResourceVersion(e.kv.Revision()) {
			t.Errorf("List resourceVersion %s, engine at %d", l.ResourceVersion, e.kv.Revision())
		}
	}
	for _, bad := range []meta.ListOptions{
		{LabelSelector: "app in"}, {FieldSelector: "spec.unknown=x"}, {FieldSelector: "=x"},
	} {
		_, err := e.s.List(ctx, bad)
		wantReason(t, err, meta.ErrInvalid)
	}
	for _, bad := range []meta.ListOptions{{ResourceVersion: "x"}, {Limit: -1}, {Continue: "garbage"}, {Namespace: "Bad!"}} {
		_, err := e.s.List(ctx, bad)
		wantReason(t, err, meta.ErrBadRequest)
	}
}

func TestListAtOldRevision(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	w := must[*Widget](t)(e.s.Create(ctx, widget("ns", "a", 1)))
	w.Spec.Size = 2
	must[*Widget](t)(e.s.Update(ctx, w))
	must[*Widget](t)(e.s.Create(ctx, widget("ns", "b", 1)))
	old := must[*meta.List[*Widget]](t)(e.s.List(ctx, meta.ListOptions{ResourceVersion: w.ResourceVersion}))
	if len(old.Items) != 1 || old.Items[0].Spec.Size != 1 || old.ResourceVersion != w.ResourceVersion {
		t.Fatalf("List at %s = %+v", w.ResourceVersion, old)
	}
	_, err := e.s.List(ctx, meta.ListOptions{ResourceVersion: "1000"})
	wantReason(t, err, meta.ErrTimeout)
	if err := e.kv.Compact(ctx, e.kv.Revision()); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.List(ctx, meta.ListOptions{ResourceVersion: w.ResourceVersion})
	wantReason(t, err, meta.ErrExpired)
}

func TestListPagination(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	for i := range 25 {
		w := widget("ns", fmt.Sprintf("w%02d", i), i)
		w.Labels = map[string]string{"even": fmt.Sprint(i%2 == 0)}
		must[*Widget](t)(e.s.Create(ctx, w))
	}
	for _, tt := range []struct {
		limit int64
		sel   string
		want  int
	}{{1, "", 25}, {7, "", 25}, {25, "", 25}, {100, "", 25}, {4, "even=true", 13}, {13, "even=true", 13}} {
		opts := meta.ListOptions{Limit: tt.limit, LabelSelector: tt.sel}
		var all []*Widget
		var rv string
		pages := 0
		for {
			l := must[*meta.List[*Widget]](t)(e.s.List(ctx, opts))
			pages++
			if int64(len(l.Items)) > tt.limit {
				t.Fatalf("page of %d items with limit %d", len(l.Items), tt.limit)
			}
			if rv == "" {
				rv = l.ResourceVersion
				// Writes between pages do not show up: pages read the
				// first page's revision.
				must[*Widget](t)(e.s.Create(ctx, widget("ns", fmt.Sprintf("late-%d-%s", tt.limit, tt.sel[:min(len(tt.sel), 4)]), 0)))
			} else if l.ResourceVersion != rv {
				t.Fatalf("page read at %s, first page at %s", l.ResourceVersion, rv)
			}
			all = append(all, l.Items...)
			if l.Continue == "" {
				break
			}
			opts.Continue = l.Continue
			if pages > 100 {
				t.Fatal("pagination does not end")
			}
		}
		if len(all) != tt.want {
			t.Fatalf("limit %d sel %q: %d items, want %d: %v", tt.limit, tt.sel, len(all), tt.want, names(all))
		}
		for i := 1; i < len(all); i++ {
			if all[i-1].Name >= all[i].Name {
				t.Fatalf("items out of order or repeated: %v", names(all))
			}
		}
		// Clean the late writes for the next case.
		l := must[*meta.List[*Widget]](t)(e.s.List(ctx, meta.ListOptions{}))
		for _, w := range l.Items {
			if len(w.Name) > 4 && w.Name[:4] == "late" {
				must[*Widget](t)(e.s.Delete(ctx, w.Namespace, w.Name, meta.DeleteOptions{}))
			}
		}
	}
	// A continue token outlives its revision: Expired.
	first := must[*meta.List[*Widget]](t)(e.s.List(ctx, meta.ListOptions{Limit: 5}))
	must[*Widget](t)(e.s.Create(ctx, widget("ns", "zz", 0)))
	if err := e.kv.Compact(ctx, e.kv.Revision()); err != nil {
		t.Fatal(err)
	}
	_, err := e.s.List(ctx, meta.ListOptions{Limit: 5, Continue: first.Continue})
	wantReason(t, err, meta.ErrExpired)
	_, err = e.s.List(ctx, meta.ListOptions{Continue: first.Continue, ResourceVersion: "3"})
	if !errors.Is(err, meta.ErrBadRequest) {
		t.Fatalf("continue with resourceVersion: %v", err)
	}
}
