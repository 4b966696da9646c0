// Package store keeps typed, versioned objects with Kubernetes-shaped
// metadata over a revisioned key-value engine
// ([github.com/governor-io/governor/store/kv.KV]).
//
// Objects embed [TypeMeta] and [ObjectMeta]; a [Resource] describes a type
// (its names, whether it is namespaced, its codec, validation and
// selectable fields) and [New] makes a [Store] of it. There is no scheme:
// the Go type parameter is the type.
//
// # Rules
//
// The Store follows the Kubernetes API server's storage:
//
//   - Keys are <prefix>/<resource>/<namespace>/<name> ("/registry" is the
//     default prefix); cluster-scoped objects have no namespace segment.
//   - resourceVersion is the KV ModRevision of the stored object, as a
//     decimal string. It is not stored in the value. The resourceVersion
//     of a List is the revision it read.
//   - Create sets uid, creationTimestamp, generation 1 and
//     resourceVersion, and makes a name from generateName. It fails with
//     AlreadyExists on a taken name.
//   - Update needs the stored resourceVersion (optimistic concurrency):
//     a stale one gets Conflict, a missing one Invalid (unless
//     [Resource.AllowUnconditionalUpdate]). [Store.GuaranteedUpdate]
//     retries a mutate function until it applies to the latest version.
//     Update never changes status and [Store.UpdateStatus] changes only
//     status. generation grows when anything but metadata and status
//     changes. An update that changes nothing writes nothing.
//   - [Store.Patch] applies a JSON merge patch (RFC 7386, see [MergePatch]).
//   - Delete honours preconditions on uid and resourceVersion. An object
//     with finalizers gets a deletionTimestamp instead, and goes away when
//     an update removes its last finalizer. DeleteOptions.PropagationPolicy
//     is Kubernetes': Background (the default) deletes at once, Foreground
//     and Orphan record themselves as the foregroundDeletion and orphan
//     finalizers, which a garbage collector
//     ([github.com/governor-io/governor/reconcile/gc]) removes once it has
//     deleted or orphaned the object's dependents.
//   - List and Watch take label selectors ([ParseLabelSelector]) and field
//     selectors ([ParseFieldSelector]) on metadata.name, metadata.namespace
//     and the fields a Resource registers. List pages with Limit and
//     Continue; every page reads the first page's revision.
//   - Watch from "" sends the current state as ADDED events, then changes;
//     from "N" every change after N; below the compacted revision an
//     Error event with an Expired error. BOOKMARK events and
//     SendInitialEvents work as in Kubernetes.
//   - Every object returned is fresh and owned by the caller; the Store
//     never keeps or modifies the caller's object. [DeepCopy] makes a
//     private copy of a shared one (from an informer's cache, say).
//
// # Metadata helpers
//
// [SetControllerReference] makes one object the controller of another,
// with the owner's apiVersion, kind, name and uid (an object read from a
// Store carries its Resource's kind and apiVersion), and refuses a second
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
//
// # Errors
//
// Errors are [*StatusError] values that errors.Is matches against sentinels
// such as [ErrNotFound] and [ErrConflict]. Each [Reason] maps to one
// Kubernetes Status reason and HTTP code; [ToStatus] and [FromStatus]
// convert to and from the wire form, and [FromKVError] maps engine errors
// (a compacted revision is Expired, a deadline is Timeout). Bad selectors
// and undecodable objects are Invalid, with a [Cause] naming the field.
//
// # Leases
//
// [Lease] is coordination.k8s.io/v1's Lease. [TryAcquireLease] acquires or
// renews one and [ReleaseLease] gives it up, each with one conditional
// write, which is what leader election needs.
package store
