package meta

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrInvalidOwner is returned (wrapped) by [SetControllerReference] and
// [SetOwnerReference] when the owner cannot be referenced: it has no kind,
// apiVersion, name or uid (it was never read from or created in a store),
// or it lives in another namespace than the object, which Kubernetes'
// garbage collector does not allow.
var ErrInvalidOwner = errors.New("store: invalid owner")

// AlreadyOwnedError is returned by [SetControllerReference] when the object
// already has a controller other than the given owner. An object has at
// most one controller.
type AlreadyOwnedError struct {
	// Object names the object that already has a controller.
	Object NamespacedName
	// Owner is the object's existing controller reference.
	Owner OwnerReference
}

// Error describes the object and its existing controller.
func (e *AlreadyOwnedError) Error() string {
	return fmt.Sprintf("store: object %s is already controlled by %s %s (uid %s)",
		e.Object, e.Owner.Kind, e.Owner.Name, e.Owner.UID)
}

// SetControllerReference makes owner the controller of obj: it adds (or
// refreshes) an owner reference to owner with Controller and
// BlockOwnerDeletion set. The reference carries owner's apiVersion and kind
// (which a [Store] sets from its [Resource] on every object it returns),
// name and uid. It returns an [*AlreadyOwnedError] if obj already has a
// different controller, and an error wrapping [ErrInvalidOwner] if owner
// cannot be referenced; obj is unchanged on error.
func SetControllerReference(owner, obj Object) error {
	ref, err := ownerRef(owner, obj)
	if err != nil {
		return err
	}
	if c := ControllerOf(obj); c != nil && !sameOwner(*c, ref) {
		return &AlreadyOwnedError{Object: NameOf(obj), Owner: *c}
	}
	yes := true
	ref.Controller, ref.BlockOwnerDeletion = &yes, &yes
	upsertOwnerRef(obj.GetObjectMeta(), ref, true)
	return nil
}

// SetOwnerReference adds an owner reference to owner to obj, or refreshes
// the existing one (its apiVersion and uid), without making owner the
// controller. The Controller and BlockOwnerDeletion flags of an existing
// reference are kept. It returns an error wrapping [ErrInvalidOwner] if
// owner cannot be referenced.
func SetOwnerReference(owner, obj Object) error {
	ref, err := ownerRef(owner, obj)
	if err != nil {
		return err
	}
	upsertOwnerRef(obj.GetObjectMeta(), ref, false)
	return nil
}

// HasControllerReference reports whether obj has a controller.
func HasControllerReference(obj Object) bool { return ControllerOf(obj) != nil }

// IsControlledBy reports whether owner is the controller of obj, comparing
// uids.
func IsControlledBy(obj, owner Object) bool {
	c := ControllerOf(obj)
	return c != nil && c.UID != "" && c.UID == owner.GetObjectMeta().UID
}

// ownerRef builds the reference to owner without the flags, checking that
// obj may refer to it.
func ownerRef(owner, obj Object) (OwnerReference, error) {
	tm, om := owner.GetTypeMeta(), owner.GetObjectMeta()
	var missing []string
	for _, f := range []struct{ name, v string }{{"apiVersion", tm.APIVersion}, {"kind", tm.Kind}, {"name", om.Name}, {"uid", om.UID}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return OwnerReference{}, fmt.Errorf("%w: owner %s has no %s", ErrInvalidOwner, NameOf(owner), strings.Join(missing, ", "))
	}
	if ns := obj.GetObjectMeta().Namespace; om.Namespace != "" && om.Namespace != ns {
		where := "is cluster-scoped"
		if ns != "" {
			where = "is in namespace " + ns
		}
		return OwnerReference{}, fmt.Errorf("%w: owner %s %s is in namespace %s but %s %s",
			ErrInvalidOwner, tm.Kind, NameOf(owner), om.Namespace, NameOf(obj), where)
	}
	return OwnerReference{APIVersion: tm.APIVersion, Kind: tm.Kind, Name: om.Name, UID: om.UID}, nil
}

// sameOwner reports whether two references name the same object: the same
// uid, or, as Kubernetes matches them, the same API group, kind and name
// (so a reference survives a change of version).
func sameOwner(a, b OwnerReference) bool {
	if a.UID != "" && a.UID == b.UID {
		return true
	}
	return apiGroup(a.APIVersion) == apiGroup(b.APIVersion) && a.Kind == b.Kind && a.Name == b.Name
}

// apiGroup returns the group of an apiVersion: "apps" for "apps/v1", ""
// for the core group's "v1".
func apiGroup(apiVersion string) string {
	g, _, ok := strings.Cut(apiVersion, "/")
	if !ok {
		return ""
	}
	return g
}

// upsertOwnerRef replaces the reference to ref's owner in m, or appends
// ref. With setFlags, ref's flags replace the existing ones; otherwise the
// existing flags are kept.
func upsertOwnerRef(m *ObjectMeta, ref OwnerReference, setFlags bool) {
	for i := range m.OwnerReferences {
		if sameOwner(m.OwnerReferences[i], ref) {
			if !setFlags {
				ref.Controller, ref.BlockOwnerDeletion = m.OwnerReferences[i].Controller, m.OwnerReferences[i].BlockOwnerDeletion
			}
			// A new array, so that a shallow copy of a cached object
			// never writes into the cache's.
			m.OwnerReferences = slices.Clone(m.OwnerReferences)
			m.OwnerReferences[i] = ref
			return
		}
	}
	m.OwnerReferences = append(slices.Clip(m.OwnerReferences), ref)
}
