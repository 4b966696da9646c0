package meta

// DeletionPropagation says what happens to the dependents of a deleted
// object (the objects whose ownerReferences name it), as Kubernetes'
// propagationPolicy does. A garbage collector carries it out
// (package [github.com/governor-io/governor/reconcile/gc]); the Store only
// records it on the object, as a finalizer.
type DeletionPropagation string

// The propagation policies, with Kubernetes' names and wire strings.
const (
	// DeletePropagationBackground deletes the object at once and leaves
	// its dependents to the garbage collector, which deletes them
	// afterwards. It is the default.
	DeletePropagationBackground DeletionPropagation = "Background"
	// DeletePropagationForeground keeps the object, with a
	// deletionTimestamp and the [FinalizerDeleteDependents] finalizer,
	// until the garbage collector has deleted every dependent whose
	// ownerReference sets blockOwnerDeletion; then the collector removes
	// the finalizer and the object goes.
	DeletePropagationForeground DeletionPropagation = "Foreground"
	// DeletePropagationOrphan keeps the object, with a deletionTimestamp
	// and the [FinalizerOrphanDependents] finalizer, until the garbage
	// collector has removed the ownerReferences naming it from its
	// dependents; then the collector removes the finalizer and the object
	// goes, leaving its dependents in place.
	DeletePropagationOrphan DeletionPropagation = "Orphan"
)

// The finalizers through which a Delete asks the garbage collector to
// propagate it, with Kubernetes' names. An object never carries both.
const (
	// FinalizerOrphanDependents marks an object whose dependents are to
	// be orphaned before it goes.
	FinalizerOrphanDependents = "orphan"
	// FinalizerDeleteDependents marks an object whose blocking dependents
	// are to be deleted before it goes (foreground deletion).
	FinalizerDeleteDependents = "foregroundDeletion"
)

// Preconditions must hold for a Delete to go ahead; nil fields are not
// checked.
type Preconditions struct {
	UID             *string `json:"uid,omitempty"`
	ResourceVersion *string `json:"resourceVersion,omitempty"`
}

// DeleteOptions shape a Delete. Their JSON form is the body of a
// Kubernetes DELETE (the fields this Store honours).
type DeleteOptions struct {
	// Preconditions, when set, make Delete fail with Conflict unless the
	// stored object has this uid and resourceVersion.
	Preconditions *Preconditions `json:"preconditions,omitempty"`
	// PropagationPolicy says what happens to the object's dependents. ""
	// keeps the choice an earlier Delete recorded on the object (its
	// orphan or foregroundDeletion finalizer), or else takes the
	// Resource's DefaultPropagationPolicy, Background unless set.
	PropagationPolicy DeletionPropagation `json:"propagationPolicy,omitempty"`
}
