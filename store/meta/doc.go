// Package meta holds what every object and every client of a store share:
// the object types, list and watch options, selectors, errors and the
// metadata helpers. It is a leaf: it imports nothing but the standard
// library, so a package that only reads objects (an informer, a
// reconciler, an API client) need not link a store or a KV engine.
//
// # Objects
//
// A type is an [Object] when it embeds [TypeMeta] and [ObjectMeta] (with
// the tag `json:"metadata"`); their fields and JSON follow Kubernetes', and
// [Time] and [MicroTime] encode as Kubernetes' timestamps do. [DeepCopy]
// makes a private copy of a shared object (from an informer's cache, say).
// [PartialObjectMetadata] is any object reduced to its kind and metadata.
//
// # Lists and watches
//
// [ListOptions] shape a List or a Watch; a [List] is one page of objects
// and a [WatchEvent] one change, bookmark or error. Selectors use
// Kubernetes' string syntax: [ParseLabelSelector] and [ParseFieldSelector].
// A resourceVersion is a KV revision as a decimal string
// ([ParseResourceVersion], [FormatResourceVersion]).
//
// # Errors
//
// Errors are [*StatusError] values that errors.Is matches against
// sentinels such as [ErrNotFound] and [ErrConflict]. Each [Reason] maps to
// one Kubernetes Status reason and HTTP code; [ToStatus] and [FromStatus]
// convert to and from the wire form. Bad selectors are Invalid, with a
// [Cause] naming the field.
//
// # Metadata helpers
//
// [SetControllerReference] makes one object the controller of another,
// with the owner's apiVersion, kind, name and uid, and refuses a second
// controller with an [*AlreadyOwnedError]; [SetOwnerReference],
// [ControllerOf] and [IsControlledBy] go with it. [AddFinalizer] and
// [RemoveFinalizer] report whether they changed the object, so that a
// caller writes only when they did.
//
// For status and spec fields: [Condition] is Kubernetes' metav1.Condition,
// which [SetStatusCondition] sets (moving lastTransitionTime only when the
// status changes) and [FindStatusCondition], [IsStatusConditionTrue] and
// [IsStatusConditionCurrent] (observedGeneration against the object's
// generation) read; [Duration] encodes as metav1.Duration ("1m30s").
package meta
