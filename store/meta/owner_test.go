package meta_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/governor-io/governor/store/meta"
)

func owned(ns, name, uid string) *Widget {
	w := widget(ns, name, 1)
	w.Kind, w.APIVersion, w.UID = "Widget", "example.io/v1", uid
	return w
}

func TestSetControllerReferenceRefusesSecondController(t *testing.T) {
	a, b := owned("ns", "a", "uid-a"), owned("ns", "b", "uid-b")
	child := widget("ns", "child", 1)
	if err := meta.SetControllerReference(a, child); err != nil {
		t.Fatal(err)
	}
	// Setting the same controller again refreshes, never duplicates.
	if err := meta.SetControllerReference(a, child); err != nil {
		t.Fatalf("same controller again: %v", err)
	}
	err := meta.SetControllerReference(b, child)
	var owned *meta.AlreadyOwnedError
	if !errors.As(err, &owned) {
		t.Fatalf("second controller: err = %v, want *AlreadyOwnedError", err)
	}
	if owned.Owner.UID != "uid-a" || owned.Object.Name != "child" {
		t.Errorf("AlreadyOwnedError = %+v", owned)
	}
	if len(child.OwnerReferences) != 1 || !meta.IsControlledBy(child, a) || meta.IsControlledBy(child, b) {
		t.Errorf("owner references after refusal = %+v", child.OwnerReferences)
	}
	// b may still be a plain owner.
	if err := meta.SetOwnerReference(b, child); err != nil {
		t.Fatal(err)
	}
	if len(child.OwnerReferences) != 2 || child.OwnerReferences[1].Controller != nil {
		t.Errorf("owner references = %+v, want a and a non-controller b", child.OwnerReferences)
	}
}

func TestSetOwnerReferenceUpserts(t *testing.T) {
	a := owned("ns", "a", "uid-a")
	child := widget("ns", "child", 1)
	if err := meta.SetControllerReference(a, child); err != nil {
		t.Fatal(err)
	}
	// A new version of the same group and kind names the same owner: the
	// reference is refreshed, its controller flag kept.
	a.APIVersion = "example.io/v2"
	if err := meta.SetOwnerReference(a, child); err != nil {
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
	if err := meta.SetOwnerReference(other, child); err != nil {
		t.Fatal(err)
	}
	if len(child.OwnerReferences) != 2 {
		t.Errorf("owner references = %+v, want two", child.OwnerReferences)
	}
}

func TestSetControllerReferenceDoesNotWriteSharedArrays(t *testing.T) {
	a, b := owned("ns", "a", "uid-a"), owned("ns", "b", "uid-b")
	cached := widget("ns", "child", 1)
	cached.OwnerReferences = make([]meta.OwnerReference, 1, 4)
	cached.OwnerReferences[0] = meta.OwnerReference{APIVersion: "example.io/v1", Kind: "Widget", Name: "a", UID: "uid-a"}
	cached.Finalizers = make([]string, 1, 4)
	cached.Finalizers[0] = "x"

	shallow := *cached
	if err := meta.SetControllerReference(a, &shallow); err != nil {
		t.Fatal(err)
	}
	if err := meta.SetOwnerReference(b, &shallow); err != nil {
		t.Fatal(err)
	}
	meta.AddFinalizer(&shallow, "y")
	meta.RemoveFinalizer(&shallow, "x")
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
			for _, set := range []func(owner, obj meta.Object) error{meta.SetControllerReference, meta.SetOwnerReference} {
				if err := set(tc.owner, tc.child); !errors.Is(err, meta.ErrInvalidOwner) {
					t.Errorf("err = %v, want ErrInvalidOwner", err)
				}
				if len(tc.child.OwnerReferences) != 0 {
					t.Errorf("references were set: %+v", tc.child.OwnerReferences)
				}
			}
		})
	}
	// A cluster-scoped owner may own a namespaced object.
	if err := meta.SetControllerReference(owned("", "a", "u"), widget("ns", "c", 1)); err != nil {
		t.Errorf("cluster-scoped owner: %v", err)
	}
}

func TestFinalizers(t *testing.T) {
	w := widget("ns", "w", 1)
	if meta.ContainsFinalizer(w, "a") {
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
			changed = meta.AddFinalizer(w, s.f)
		} else {
			changed = meta.RemoveFinalizer(w, s.f)
		}
		if changed != s.changed || fmt.Sprint(w.Finalizers) != fmt.Sprint(s.want) {
			t.Errorf("%s %s: changed %v finalizers %q, want %v %q", s.op, s.f, changed, w.Finalizers, s.changed, s.want)
		}
		if s.want != nil && !meta.ContainsFinalizer(w, s.want[0]) {
			t.Errorf("ContainsFinalizer(%s) = false after %s %s", s.want[0], s.op, s.f)
		}
	}
	if w.Finalizers != nil {
		t.Errorf("finalizers = %#v, want nil once empty", w.Finalizers)
	}
}
