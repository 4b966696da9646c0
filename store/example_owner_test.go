package store_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/mvcc"
)

// An owner read from its Store carries its kind and apiVersion, so a
// controller reference to it needs nothing but the two objects. A second
// controller is refused, and finalizer helpers say whether to write.
func ExampleSetControllerReference() {
	ctx := context.Background()
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	s := store.New(engine, gizmos)

	owner, _ := s.Create(ctx, &Gizmo{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: "web"}})
	child := &Gizmo{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: "web-1"}}
	if err := store.SetControllerReference(owner, child); err != nil {
		fmt.Println(err)
	}
	ref := store.ControllerOf(child)
	fmt.Println(ref.APIVersion, ref.Kind, ref.Name, ref.UID == owner.UID, *ref.BlockOwnerDeletion)

	other, _ := s.Create(ctx, &Gizmo{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: "other"}})
	var owned *store.AlreadyOwnedError
	fmt.Println("second controller refused:", errors.As(store.SetControllerReference(other, child), &owned))

	fmt.Println("finalizer added:", store.AddFinalizer(child, "example.io/cleanup"))
	fmt.Println("added again:", store.AddFinalizer(child, "example.io/cleanup"))
	// Output:
	// example.io/v1 Gizmo web true true
	// second controller refused: true
	// finalizer added: true
	// added again: false
}
