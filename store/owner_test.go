package store_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/governor-io/governor/store"
)

func owned(ns, name, uid string) *Widget {
	w := widget(ns, name, 1)
	w.Kind, w.APIVersion, w.UID = "Widget", "example.io/v1", uid
	return w
}

func TestSetControllerReferenceFromStoredOwner(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	created, err := e.s.Create(ctx, widget("ns", "owner", 1))
	if err != nil {
		t.Fatal(err)
	}
	// The owner as the store returns it carries its Resource's kind and
	// apiVersion, so the reference needs no strings from the caller.
	owner, err := e.s.Get(ctx, "ns", "owner")
	if err != nil {
		t.Fatal(err)
	}
	child := widget("ns", "child", 1)
	if err := store.SetControllerReference(owner, child); err != nil {
		t.Fatal(err)
	}
	got := child.OwnerReferences
	if len(got) != 1 {
		t.Fatalf("owner references = %+v, want one", got)
	}
	r := got[0]
	if r.APIVersion != "example.io/v1" || r.Kind != "Widget" || r.Name != "owner" || r.UID != created.UID || r.UID == "" {
		t.Errorf("reference = %+v, want Widget example.io/v1 owner uid %q", r, created.UID)
	}
	if r.Controller == nil || !*r.Controller || r.BlockOwnerDeletion == nil || !*r.BlockOwnerDeletion {
		t.Errorf("reference flags = controller %v blockOwnerDeletion %v, want both true", r.Controller, r.BlockOwnerDeletion)
	}
	if !store.IsControlledBy(child, owner) || !store.HasControllerReference(child) {
		t.Error("child is not controlled by owner")
	}
	child, err = e.s.Create(ctx, child)
	if err != nil {
		t.Fatal(err)
	}
	if c := store.ControllerOf(child); c == nil || c.UID != created.UID {
		t.Errorf("stored child's controller = %+v", c)
	}
}

func TestSetControllerReferenceRefusesSecondController(t *testing.T) {
	a, b := owned("ns", "a", "uid-a"), owned("ns", "b", "uid-b")
	child := widget("ns", "child", 1)
	if err := store.SetControllerReference(a, child); err != nil {
		t.Fatal(err)
	}
	// Setting the same controller again refreshes, never duplicates.
	if err := store.SetControllerReference(a, child); err != nil {
		t.Fatalf("same controller again: %v", err)
	}
	err := store.SetControllerReference(b, child)
	var owned *store.AlreadyOwnedError
	if !errors.As(err, &owned) {
		t.Fatalf("second controller: err = %v, want *AlreadyOwnedError", err)
	}
	if owned.Owner.UID != "uid-a" || owned.Object.Name != "child" {
		t.Errorf("AlreadyOwnedError = %+v", owned)
	}
	if len(child.OwnerReferences) != 1 || !store.IsControlledBy(child, a) || store.IsControlledBy(child, b) {
		t.Errorf("owner references after refusal = %+v", child.OwnerReferences)
	}
	// b may still be a plain owner.
	if err := store.SetOwnerReference(b, child); err != nil {
		t.Fatal(err)
	}
	if len(child.OwnerReferences) != 2 || child.OwnerReferences[1].Controller != nil {
		t.Errorf("owner references = %+v, want a and a non-controller b", child.OwnerReferences)
	}
}

func TestSetOwnerReferenceUpserts(t *testing.T) {
	a := owned("ns", "a", "uid-a")
	child := widget("ns", "child", 1)
	if err := store.SetControllerReference(a, child); err != nil {
		t.Fatal(err)
	}
	// A new version of the same group and kind names the same owner: the
	// reference is refreshed, its controller flag kept.
	a.APIVersion = "example.io/v2"
	if err := store.SetOwnerReference(a, child); err != nil {
		t.Fatal(err)
	}
	if len(child.OwnerReferences) != 1 {
		t.Fatalf("owner references = %+v, want one", child.OwnerReferences)
	}
	r := child.OwnerReferences[0]
	if r.APIVersion != "example.io/v2" || r.Controller == nil || !*r.Controller {
		t.Errorf("reference = %+v, want apiVersion v2 still controller", r)
	}
	// A same-named owner of another group is another owner.
	other := owned("ns", "a", "uid-o")
	other.APIVersion = "other.io/v1"
	if err := store.SetOwnerReference(other, child); err != nil {
		t.Fatal(err)
	}
	if len(child.OwnerReferences) != 2 {
		t.Errorf("owner references = %+v, want two", child.OwnerReferences)
	}
}

func TestSetControllerReferenceDoesNotWriteSharedArrays(t *testing.T) {
	a, b := owned("ns", "a", "uid-a"), owned("ns", "b", "uid-b")
	cached := widget("ns", "child", 1)
	cached.OwnerReferences = make([]store.OwnerReference, 1, 4)
	cached.OwnerReferences[0] = store.OwnerReference{APIVersion: "example.io/v1", Kind: "Widget", Name: "a", UID: "uid-a"}
	cached.Finalizers = make([]string, 1, 4)
	cached.Finalizers[0] = "x"

	shallow := *cached
	if err := store.SetControllerReference(a, &shallow); err != nil {
		t.Fatal(err)
	}
	if err := store.SetOwnerReference(b, &shallow); err != nil {
		t.Fatal(err)
	}
	store.AddFinalizer(&shallow, "y")
	store.RemoveFinalizer(&shallow, "x")
	if c := cached.OwnerReferences[0].Controller; c != nil {
		t.Errorf("the original's reference became a controller through a shallow copy")
	}
	if got := cached.OwnerReferences[:cap(cached.OwnerReferences)][1]; got.Name != "" {
		t.Errorf("the original's array was appended to: %+v", got)
	}
	if got := cached.Finalizers[:cap(cached.Finalizers)]; got[0] != "x" || got[1] != "" {
		t.Errorf("the original's finalizers were written: %q", got)
	}
}

func TestSetControllerReferenceInvalidOwner(t *testing.T) {
	for _, tc := range []struct {
		name  string
		owner *Widget
		child *Widget
	}{
		{"no uid", owned("ns", "a", ""), widget("ns", "c", 1)},
		{"no kind", func() *Widget { w := owned("ns", "a", "u"); w.Kind = ""; return w }(), widget("ns", "c", 1)},
		{"other namespace", owned("other", "a", "u"), widget("ns", "c", 1)},
		{"namespaced owner of cluster-scoped object", owned("ns", "a", "u"), widget("", "c", 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, set := range []func(owner, obj store.Object) error{store.SetControllerReference, store.SetOwnerReference} {
				if err := set(tc.owner, tc.child); !errors.Is(err, store.ErrInvalidOwner) {
					t.Errorf("err = %v, want ErrInvalidOwner", err)
				}
				if len(tc.child.OwnerReferences) != 0 {
					t.Errorf("references were set: %+v", tc.child.OwnerReferences)
				}
			}
		})
	}
	// A cluster-scoped owner may own a namespaced object.
	if err := store.SetControllerReference(owned("", "a", "u"), widget("ns", "c", 1)); err != nil {
		t.Errorf("cluster-scoped owner: %v", err)
	}
}

func TestFinalizers(t *testing.T) {
	w := widget("ns", "w", 1)
	if store.ContainsFinalizer(w, "a") {
		t.Error("empty object contains a finalizer")
	}
	steps := []struct {
		op      string
		f       string
		changed bool
		want    []string
	}{
		{"add", "a", true, []string{"a"}},
		{"add", "a", false, []string{"a"}},
		{"add", "b", true, []string{"a", "b"}},
		{"remove", "c", false, []string{"a", "b"}},
		{"remove", "a", true, []string{"b"}},
		{"remove", "b", true, nil},
		{"remove", "b", false, nil},
	}
	for _, s := range steps {
		var changed bool
		if s.op == "add" {
			changed = store.AddFinalizer(w, s.f)
		} else {
			changed = store.RemoveFinalizer(w, s.f)
		}
		if changed != s.changed || fmt.Sprint(w.Finalizers) != fmt.Sprint(s.want) {
			t.Errorf("%s %s: changed %v finalizers %q, want %v %q", s.op, s.f, changed, w.Finalizers, s.changed, s.want)
		}
		if s.want != nil && !store.ContainsFinalizer(w, s.want[0]) {
			t.Errorf("ContainsFinalizer(%s) = false after %s %s", s.want[0], s.op, s.f)
		}
	}
	if w.Finalizers != nil {
		t.Errorf("finalizers = %#v, want nil once empty", w.Finalizers)
	}
}
