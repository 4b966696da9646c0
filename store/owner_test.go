package store_test

import (
	"testing"

	"github.com/governor-io/governor/store/meta"
)

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
	if err := meta.SetControllerReference(owner, child); err != nil {
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
	if !meta.IsControlledBy(child, owner) || !meta.HasControllerReference(child) {
		t.Error("child is not controlled by owner")
	}
	child, err = e.s.Create(ctx, child)
	if err != nil {
		t.Fatal(err)
	}
	if c := meta.ControllerOf(child); c == nil || c.UID != created.UID {
		t.Errorf("stored child's controller = %+v", c)
	}
}
