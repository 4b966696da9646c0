package store_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
)

func TestCreateSetsServerFields(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	in := widget("ns", "a", 1)
	in.Labels = map[string]string{"app": "web"}
	got := must[*Widget](t)(e.s.Create(ctx, in))
	if got == in {
		t.Fatal("Create returned the caller's object")
	}
	if in.UID != "" || in.ResourceVersion != "" {
		t.Fatal("Create modified the caller's object")
	}
	m := got.ObjectMeta
	if len(m.UID) != 36 || m.Generation != 1 || m.ResourceVersion == "" || !m.CreationTimestamp.Equal(epoch) {
		t.Fatalf("server fields not set: %+v", m)
	}
	if got.Kind != "Widget" || got.APIVersion != "example.io/v1" {
		t.Fatalf("type meta = %+v", got.TypeMeta)
	}
	rv, _ := meta.ParseResourceVersion(m.ResourceVersion)
	if rv != e.kv.Revision() {
		t.Fatalf("resourceVersion %d, engine at %d", rv, e.kv.Revision())
	}
	// The key layout is <prefix>/<resource>/<namespace>/<name>.
	item, _, err := kv.Get(ctx, e.kv, "/registry/widgets/ns/a")
	if err != nil || item == nil {
		t.Fatalf("object not at its key: %v", err)
	}
	if strings.Contains(string(item.Value), "resourceVersion") {
		t.Fatalf("stored bytes carry a resourceVersion: %s", item.Value)
	}
	// Mutating the returned object does not touch the store.
	got.Labels["app"] = "changed"
	again := must[*Widget](t)(e.s.Get(ctx, "ns", "a"))
	if again.Labels["app"] != "web" || again.UID != m.UID {
		t.Fatalf("Get = %+v", again.ObjectMeta)
	}
}

func TestCreateRules(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	must[*Widget](t)(e.s.Create(ctx, widget("ns", "a", 1)))
	withRV := widget("ns", "b", 1)
	withRV.ResourceVersion = "5"
	badLabel := widget("ns", "c", 1)
	badLabel.Labels = map[string]string{"app": "not valid"}
	twoControllers := widget("ns", "d", 1)
	yes := true
	twoControllers.OwnerReferences = []meta.OwnerReference{
		{APIVersion: "v1", Kind: "A", Name: "x", UID: "1", Controller: &yes},
		{APIVersion: "v1", Kind: "A", Name: "y", UID: "2", Controller: &yes},
	}
	tests := []struct {
		name  string
		obj   *Widget
		want  *meta.StatusError
		field string
	}{
		{"name taken", widget("ns", "a", 2), meta.ErrAlreadyExists, ""},
		{"resourceVersion set", withRV, meta.ErrBadRequest, ""},
		{"no name", widget("ns", "", 1), meta.ErrInvalid, "metadata.name"},
		{"no namespace", widget("", "x", 1), meta.ErrBadRequest, ""},
		{"bad namespace", widget("Bad_NS", "x", 1), meta.ErrBadRequest, ""},
		{"slash in name", widget("ns", "a/b", 1), meta.ErrBadRequest, ""},
		{"dot-dot name", widget("ns", "..", 1), meta.ErrBadRequest, ""},
		{"validation hook", widget("ns", "neg", -1), meta.ErrInvalid, "spec.size"},
		{"bad label", badLabel, meta.ErrInvalid, "metadata.labels"},
		{"two controllers", twoControllers, meta.ErrInvalid, "metadata.ownerReferences"},
		{"nil object", nil, meta.ErrBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.s.Create(ctx, tt.obj)
			wantReason(t, err, tt.want)
			if tt.field != "" {
				var se *meta.StatusError
				errors.As(err, &se)
				if len(se.Causes) == 0 || se.Causes[0].Field != tt.field {
					t.Fatalf("causes %+v, want field %s", se.Causes, tt.field)
				}
			}
		})
	}
}

func TestCreateGenerateName(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	seen := map[string]bool{}
	for range 20 {
		w := widget("ns", "", 1)
		w.GenerateName = "web-"
		got := must[*Widget](t)(e.s.Create(ctx, w))
		if !strings.HasPrefix(got.Name, "web-") || len(got.Name) != len("web-")+5 || seen[got.Name] {
			t.Fatalf("generated name %q", got.Name)
		}
		seen[got.Name] = true
	}
}

func TestClusterScoped(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	r := widgetResource()
	r.Name, r.Namespaced = "gadgets", false
	s := store.New(e.kv, r)
	got := must[*Widget](t)(s.Create(ctx, widget("ignored", "g", 1)))
	if got.Namespace != "" {
		t.Fatalf("cluster-scoped object kept namespace %q", got.Namespace)
	}
	if item, _, _ := kv.Get(ctx, e.kv, "/registry/gadgets/g"); item == nil {
		t.Fatal("cluster-scoped key has a namespace segment")
	}
	must[*Widget](t)(s.Get(ctx, "", "g"))
	_, err := s.Get(ctx, "ns", "g")
	wantReason(t, err, meta.ErrBadRequest)
	_, err = s.List(ctx, meta.ListOptions{Namespace: "ns"})
	wantReason(t, err, meta.ErrBadRequest)
}

func TestGetNotFound(t *testing.T) {
	e := newEnv(t)
	_, err := e.s.Get(ctxT(t), "ns", "missing")
	wantReason(t, err, meta.ErrNotFound)
	var se *meta.StatusError
	if !errors.As(err, &se) || se.Resource != "widgets" || se.Name != "ns/missing" || se.Code() != 404 {
		t.Fatalf("NotFound error = %+v", se)
	}
}

func TestUpdateRules(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	w := must[*Widget](t)(e.s.Create(ctx, widget("ns", "a", 1)))

	t.Run("spec change bumps generation", func(t *testing.T) {
		w.Spec.Size = 2
		got := must[*Widget](t)(e.s.Update(ctx, w))
		if got.Generation != 2 || got.ResourceVersion == w.ResourceVersion || got.UID != w.UID {
			t.Fatalf("after spec update: %+v", got.ObjectMeta)
		}
		w = got
	})
	t.Run("metadata change keeps generation", func(t *testing.T) {
		w.Labels = map[string]string{"x": "y"}
		got := must[*Widget](t)(e.s.Update(ctx, w))
		if got.Generation != 2 || got.Labels["x"] != "y" {
			t.Fatalf("after label update: %+v", got.ObjectMeta)
		}
		w = got
	})
	t.Run("nil and empty slices are the same spec", func(t *testing.T) {
		w.Spec.Tags = []string{}
		got := must[*Widget](t)(e.s.Update(ctx, w))
		if got.Generation != 2 || got.ResourceVersion != w.ResourceVersion {
			t.Fatalf("empty slice changed the object: %+v", got.ObjectMeta)
		}
	})
	t.Run("status change is ignored by Update", func(t *testing.T) {
		w.Status.Count = 9
		got := must[*Widget](t)(e.s.Update(ctx, w))
		if got.Status.Count != 0 || got.ResourceVersion != w.ResourceVersion {
			t.Fatalf("Update wrote status: %+v", got)
		}
		w.Status.Count = 0
	})
	t.Run("stale resourceVersion conflicts", func(t *testing.T) {
		stale := *w
		stale.ResourceVersion = "1"
		stale.Spec.Size = 5
		_, err := e.s.Update(ctx, &stale)
		wantReason(t, err, meta.ErrConflict)
	})
	t.Run("missing resourceVersion is invalid", func(t *testing.T) {
		c := *w
		c.ResourceVersion = ""
		_, err := e.s.Update(ctx, &c)
		wantReason(t, err, meta.ErrInvalid)
	})
	t.Run("bad resourceVersion is a bad request", func(t *testing.T) {
		c := *w
		c.ResourceVersion = "abc"
		_, err := e.s.Update(ctx, &c)
		wantReason(t, err, meta.ErrBadRequest)
	})
	t.Run("uid mismatch conflicts", func(t *testing.T) {
		c := *w
		c.UID = "other"
		_, err := e.s.Update(ctx, &c)
		wantReason(t, err, meta.ErrConflict)
	})
	t.Run("server fields are kept", func(t *testing.T) {
		c := *w
		c.UID = ""
		c.CreationTimestamp = meta.NewTime(epoch.Add(time.Hour))
		c.Generation = 100
		got := must[*Widget](t)(e.s.Update(ctx, &c))
		if got.UID != w.UID || !got.CreationTimestamp.Equal(epoch) || got.Generation != w.Generation {
			t.Fatalf("server fields overwritten: %+v", got.ObjectMeta)
		}
	})
	t.Run("validation", func(t *testing.T) {
		c := *w
		c.Spec.Size = -3
		_, err := e.s.Update(ctx, &c)
		wantReason(t, err, meta.ErrInvalid)
	})
	t.Run("missing object", func(t *testing.T) {
		c := *widget("ns", "nope", 1)
		c.ResourceVersion = "1"
		_, err := e.s.Update(ctx, &c)
		wantReason(t, err, meta.ErrNotFound)
	})
}

func TestUpdateUnconditionalWhenAllowed(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	r := widgetResource()
	r.AllowUnconditionalUpdate = true
	s := store.New(e.kv, r)
	must[*Widget](t)(s.Create(ctx, widget("ns", "a", 1)))
	got := must[*Widget](t)(s.Update(ctx, widget("ns", "a", 7)))
	if got.Spec.Size != 7 || got.Generation != 2 {
		t.Fatalf("unconditional update: %+v", got)
	}
}

func TestUpdateStatus(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	w := must[*Widget](t)(e.s.Create(ctx, widget("ns", "a", 1)))
	w.Status = WidgetStatus{Ready: true, Count: 3}
	w.Spec.Size = 99
	w.Labels = map[string]string{"ignored": "yes"}
	got := must[*Widget](t)(e.s.UpdateStatus(ctx, w))
	if got.Status != (WidgetStatus{Ready: true, Count: 3}) || got.Spec.Size != 1 || got.Labels != nil || got.Generation != 1 {
		t.Fatalf("UpdateStatus took more than status: %+v", got)
	}
	_, err := e.s.UpdateStatus(ctx, w) // w carries the old resourceVersion
	wantReason(t, err, meta.ErrConflict)

	r := store.LeaseResource()
	ls := store.New(e.kv, r)
	_, err = ls.UpdateStatus(ctx, &store.Lease{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "x", ResourceVersion: "1"}})
	wantReason(t, err, meta.ErrBadRequest)
}

func TestPatch(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	w := widget("ns", "a", 1)
	w.Labels = map[string]string{"a": "1", "b": "2"}
	w = must[*Widget](t)(e.s.Create(ctx, w))

	got := must[*Widget](t)(e.s.Patch(ctx, "ns", "a", []byte(`{"metadata":{"labels":{"a":null,"c":"3"}},"spec":{"node":"n1"},"status":{"count":5}}`)))
	if got.Labels["a"] != "" || got.Labels["b"] != "2" || got.Labels["c"] != "3" || got.Spec.Node != "n1" || got.Spec.Size != 1 {
		t.Fatalf("patched object: %+v", got)
	}
	if got.Generation != 2 || got.Status.Count != 0 {
		t.Fatalf("patch generation %d, status %+v", got.Generation, got.Status)
	}
	got = must[*Widget](t)(e.s.PatchStatus(ctx, "ns", "a", []byte(`{"status":{"count":5},"spec":{"size":50}}`)))
	if got.Status.Count != 5 || got.Spec.Size != 1 {
		t.Fatalf("PatchStatus: %+v", got)
	}
	tests := []struct {
		name  string
		patch string
		want  *meta.StatusError
	}{
		{"stale resourceVersion precondition", `{"metadata":{"resourceVersion":"` + w.ResourceVersion + `"}}`, meta.ErrConflict},
		{"rename", `{"metadata":{"name":"b"}}`, meta.ErrInvalid},
		{"not JSON", `{`, meta.ErrBadRequest},
		{"wrong type", `{"spec":{"size":"big"}}`, meta.ErrInvalid},
		{"fails validation", `{"spec":{"size":-1}}`, meta.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.s.Patch(ctx, "ns", "a", []byte(tt.patch))
			wantReason(t, err, tt.want)
		})
	}
	_, err := e.s.Patch(ctx, "ns", "missing", []byte(`{}`))
	wantReason(t, err, meta.ErrNotFound)
	cur := must[*Widget](t)(e.s.Get(ctx, "ns", "a"))
	got = must[*Widget](t)(e.s.Patch(ctx, "ns", "a", []byte(`{"metadata":{"resourceVersion":"`+cur.ResourceVersion+`"},"spec":{"size":4}}`)))
	if got.Spec.Size != 4 {
		t.Fatalf("patch with current resourceVersion: %+v", got)
	}
}

func TestDeleteRules(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	w := must[*Widget](t)(e.s.Create(ctx, widget("ns", "a", 1)))
	other := "other"
	_, err := e.s.Delete(ctx, "ns", "a", meta.DeleteOptions{Preconditions: &meta.Preconditions{UID: &other}})
	wantReason(t, err, meta.ErrConflict)
	stale := "999"
	_, err = e.s.Delete(ctx, "ns", "a", meta.DeleteOptions{Preconditions: &meta.Preconditions{ResourceVersion: &stale}})
	wantReason(t, err, meta.ErrConflict)
	got := must[*Widget](t)(e.s.Delete(ctx, "ns", "a", meta.DeleteOptions{Preconditions: &meta.Preconditions{UID: &w.UID, ResourceVersion: &w.ResourceVersion}}))
	if got.UID != w.UID || got.ResourceVersion != w.ResourceVersion {
		t.Fatalf("Delete returned %+v, want the last stored object", got.ObjectMeta)
	}
	_, err = e.s.Get(ctx, "ns", "a")
	wantReason(t, err, meta.ErrNotFound)
	_, err = e.s.Delete(ctx, "ns", "a", meta.DeleteOptions{})
	wantReason(t, err, meta.ErrNotFound)
}

func TestDeleteWithFinalizers(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	w := widget("ns", "a", 1)
	w.Finalizers = []string{"example.io/one", "example.io/two"}
	must[*Widget](t)(e.s.Create(ctx, w))
	e.clock.Step(time.Minute)

	got := must[*Widget](t)(e.s.Delete(ctx, "ns", "a", meta.DeleteOptions{}))
	if got.DeletionTimestamp == nil || !got.DeletionTimestamp.Equal(epoch.Add(time.Minute)) {
		t.Fatalf("deletionTimestamp = %v", got.DeletionTimestamp)
	}
	e.clock.Step(time.Minute)
	again := must[*Widget](t)(e.s.Delete(ctx, "ns", "a", meta.DeleteOptions{}))
	if !again.DeletionTimestamp.Equal(got.DeletionTimestamp.Time) || again.ResourceVersion != got.ResourceVersion {
		t.Fatal("a second Delete changed the object")
	}
	// Finalizers cannot be added while deleting.
	c := DeepCopyWidget(got)
	c.Finalizers = append(c.Finalizers, "example.io/three")
	_, err := e.s.Update(ctx, c)
	wantReason(t, err, meta.ErrInvalid)
	// The deletionTimestamp cannot be cleared by an update.
	c = DeepCopyWidget(got)
	c.DeletionTimestamp = nil
	c.Finalizers = []string{"example.io/two"}
	got = must[*Widget](t)(e.s.Update(ctx, c))
	if got.DeletionTimestamp == nil {
		t.Fatal("Update cleared deletionTimestamp")
	}
	// Removing the last finalizer deletes the object.
	got.Finalizers = nil
	final := must[*Widget](t)(e.s.Update(ctx, got))
	rv, _ := meta.ParseResourceVersion(final.ResourceVersion)
	if rv != e.kv.Revision() {
		t.Fatalf("final resourceVersion %d, want the deleting revision %d", rv, e.kv.Revision())
	}
	_, err = e.s.Get(ctx, "ns", "a")
	wantReason(t, err, meta.ErrNotFound)
}

func DeepCopyWidget(w *Widget) *Widget { return meta.DeepCopy(w) }

func TestGuaranteedUpdate(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	must[*Widget](t)(e.s.Create(ctx, widget("ns", "a", 1)))
	calls := 0
	got := must[*Widget](t)(e.s.GuaranteedUpdate(ctx, "ns", "a", func(w *Widget) (*Widget, error) {
		calls++
		if calls == 1 {
			// Another writer gets in between the read and the write.
			must[*Widget](t)(e.s.GuaranteedUpdate(ctx, "ns", "a", func(w *Widget) (*Widget, error) {
				w.Spec.Tags = append(w.Spec.Tags, "other")
				return w, nil
			}))
		}
		w.Spec.Size++
		return w, nil
	}))
	if calls != 2 || got.Spec.Size != 2 || len(got.Spec.Tags) != 1 {
		t.Fatalf("calls %d, object %+v", calls, got.Spec)
	}
	rev := e.kv.Revision()
	same := must[*Widget](t)(e.s.GuaranteedUpdate(ctx, "ns", "a", func(w *Widget) (*Widget, error) { return w, nil }))
	if e.kv.Revision() != rev || same.ResourceVersion != got.ResourceVersion {
		t.Fatal("a no-op GuaranteedUpdate wrote")
	}
	boom := errors.New("boom")
	if _, err := e.s.GuaranteedUpdate(ctx, "ns", "a", func(w *Widget) (*Widget, error) { return nil, boom }); err != boom {
		t.Fatalf("mutate error = %v", err)
	}
	st := must[*Widget](t)(e.s.GuaranteedUpdateStatus(ctx, "ns", "a", func(w *Widget) (*Widget, error) {
		w.Status.Ready = true
		return w, nil
	}))
	if !st.Status.Ready {
		t.Fatal("GuaranteedUpdateStatus did not write status")
	}
	_, err := e.s.GuaranteedUpdate(ctx, "ns", "missing", func(w *Widget) (*Widget, error) { return w, nil })
	wantReason(t, err, meta.ErrNotFound)
}

func TestWireFormatMatchesKubernetes(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	w := must[*Widget](t)(e.s.Create(ctx, widget("ns", "a", 1)))
	data, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"Widget","apiVersion":"example.io/v1","metadata":{"name":"a","namespace":"ns","uid":"` + w.UID +
		`","resourceVersion":"` + w.ResourceVersion + `","generation":1,"creationTimestamp":"2026-01-02T03:04:05Z"},"spec":{"size":1}}`
	if string(data) != want {
		t.Fatalf("JSON\n got %s\nwant %s", data, want)
	}
}

func FuzzDecodeObject(f *testing.F) {
	f.Add([]byte(`{"kind":"Widget","metadata":{"name":"a","labels":{"x":"y"},"creationTimestamp":"2026-01-02T03:04:05Z"},"spec":{"size":1}}`))
	f.Add([]byte(`{"metadata":{"deletionTimestamp":"bad"}}`))
	f.Add([]byte(`[]`))
	r := widgetResource()
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := r.Decode(data)
		if err != nil {
			if !errors.Is(err, meta.ErrInvalid) {
				t.Fatalf("decode error %v is not Invalid", err)
			}
			return
		}
		out, err := r.Encode(obj)
		if err != nil {
			t.Fatalf("a decoded object does not encode: %v", err)
		}
		back, err := r.Decode(out)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", out, err)
		}
		out2, _ := r.Encode(back)
		if string(out) != string(out2) {
			t.Fatalf("encoding not stable:\n%s\n%s", out, out2)
		}
		_ = meta.DeepCopy(obj)
	})
}

func TestValidateUpdateSeesOldAndNew(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	r := widgetResource()
	r.ValidateUpdate = func(old, new *Widget) []meta.Cause {
		var causes []meta.Cause
		if new.Status.Count < old.Status.Count {
			causes = append(causes, meta.Cause{Field: "status.count", Message: "may not decrease"})
		}
		if new.Spec.Node != old.Spec.Node && old.Spec.Node != "" {
			causes = append(causes, meta.Cause{Field: "spec.node", Message: "is immutable once set"})
		}
		return causes
	}
	s := store.NewWithOptions(e.kv, r, store.Options{Clock: e.clock})
	w := widget("ns", "a", 1)
	w.Spec.Node = "n1"
	w = must[*Widget](t)(s.Create(ctx, w))
	w.Status.Count = 5
	w = must[*Widget](t)(s.UpdateStatus(ctx, w))
	w.Status.Count = 4
	_, err := s.UpdateStatus(ctx, w)
	wantReason(t, err, meta.ErrInvalid)
	w.Spec.Node = "n2"
	_, err = s.Update(ctx, w)
	wantReason(t, err, meta.ErrInvalid)
	var se *meta.StatusError
	if !errors.As(err, &se) || se.Causes[0].Field != "spec.node" {
		t.Fatalf("causes = %+v", se)
	}
}

// TestGenerationFollowsTheWire checks the spec comparison on types with
// their own JSON encoding, pointers and maps.
func TestGenerationFollowsTheWire(t *testing.T) {
	type spec struct {
		When   meta.Time         `json:"when,omitzero"`
		Ptr    *meta.Time        `json:"ptr,omitempty"`
		Map    map[string]string `json:"map,omitempty"`
		Hidden string            `json:"-"`
	}
	type thing struct {
		meta.TypeMeta
		meta.ObjectMeta `json:"metadata"`
		Spec            spec `json:"spec"`
	}
	e := newEnv(t)
	ctx := ctxT(t)
	s := store.New(e.kv, store.Resource[*thing]{Name: "things"})
	obj := must[*thing](t)(s.Create(ctx, &thing{ObjectMeta: meta.ObjectMeta{Name: "a"}, Spec: spec{When: meta.NewTime(epoch)}}))
	steps := []struct {
		change func(*thing)
		bump   bool
	}{
		{func(o *thing) { o.Spec.When = meta.NewTime(epoch.In(time.FixedZone("x", 7200))) }, false},
		{func(o *thing) { o.Spec.Map = map[string]string{} }, false},
		{func(o *thing) { o.Spec.Hidden = "not stored" }, false},
		{func(o *thing) { o.Spec.When = meta.NewTime(epoch.Add(time.Hour)) }, true},
		{func(o *thing) { tm := meta.NewTime(epoch); o.Spec.Ptr = &tm }, true},
		{func(o *thing) { o.Spec.Map = map[string]string{"k": "v"} }, true},
		{func(o *thing) { o.Spec.Map["k"] = "w" }, true},
		{func(o *thing) { o.Spec.Ptr = nil }, true},
	}
	for i, step := range steps {
		gen := obj.Generation
		step.change(obj)
		obj = must[*thing](t)(s.Update(ctx, obj))
		if got := obj.Generation != gen; got != step.bump {
			t.Fatalf("step %d: generation %d -> %d, want bump %v", i, gen, obj.Generation, step.bump)
		}
	}
}
