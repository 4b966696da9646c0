package meta

import "slices"

// AddFinalizer adds finalizer to obj's finalizers unless it is there
// already, and reports whether it changed obj: write obj only when it did.
func AddFinalizer(obj Object, finalizer string) bool {
	m := obj.GetObjectMeta()
	if slices.Contains(m.Finalizers, finalizer) {
		return false
	}
	// A new array, so that a shallow copy of a cached object never writes
	// into the cache's.
	m.Finalizers = append(slices.Clip(m.Finalizers), finalizer)
	return true
}

// RemoveFinalizer removes every occurrence of finalizer from obj's
// finalizers, and reports whether it changed obj: write obj only when it
// did. The store deletes an object marked for deletion once a write leaves
// it with no finalizers.
func RemoveFinalizer(obj Object, finalizer string) bool {
	m := obj.GetObjectMeta()
	if !slices.Contains(m.Finalizers, finalizer) {
		return false
	}
	var kept []string // a new array, never the (maybe shared) old one
	for _, f := range m.Finalizers {
		if f != finalizer {
			kept = append(kept, f)
		}
	}
	m.Finalizers = kept
	return true
}

// ContainsFinalizer reports whether obj has finalizer.
func ContainsFinalizer(obj Object, finalizer string) bool {
	return slices.Contains(obj.GetObjectMeta().Finalizers, finalizer)
}
