package meta_test

import (
	"errors"
	"fmt"

	"github.com/governor-io/governor/store/meta"
)

// Gizmo is an example type: embed TypeMeta and ObjectMeta, add spec and
// status.
type Gizmo struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            struct {
		Replicas int `json:"replicas"`
	} `json:"spec"`
}

// An owner needs its kind, apiVersion and uid (an object read from a Store
// carries all three), so a controller reference to it needs nothing but the
// two objects. A second controller is refused, and finalizer helpers say
// whether to write.
func ExampleSetControllerReference() {
	owner := &Gizmo{
		TypeMeta:   meta.TypeMeta{Kind: "Gizmo", APIVersion: "example.io/v1"},
		ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "web", UID: "uid-web"},
	}
	child := &Gizmo{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "web-1"}}
	if err := meta.SetControllerReference(owner, child); err != nil {
		fmt.Println(err)
	}
	ref := meta.ControllerOf(child)
	fmt.Println(ref.APIVersion, ref.Kind, ref.Name, ref.UID, *ref.BlockOwnerDeletion)

	other := &Gizmo{
		TypeMeta:   meta.TypeMeta{Kind: "Gizmo", APIVersion: "example.io/v1"},
		ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "other", UID: "uid-other"},
	}
	var owned *meta.AlreadyOwnedError
	fmt.Println("second controller refused:", errors.As(meta.SetControllerReference(other, child), &owned))

	fmt.Println("finalizer added:", meta.AddFinalizer(child, "example.io/cleanup"))
	fmt.Println("added again:", meta.AddFinalizer(child, "example.io/cleanup"))
	// Output:
	// example.io/v1 Gizmo web uid-web true
	// second controller refused: true
	// finalizer added: true
	// added again: false
}
