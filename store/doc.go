// Package store keeps typed, versioned objects with Kubernetes-shaped
// metadata over a revisioned key-value engine
// ([github.com/governor-io/governor/store/kv.KV]).
//
// Objects embed [meta.TypeMeta] and [meta.ObjectMeta]; a [Resource]
// describes a type (its names, whether it is namespaced, its codec,
// validation and selectable fields) and [New] makes a [Store] of it. There
// is no scheme: the Go type parameter is the type.
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
//   - List and Watch take label selectors ([meta.ParseLabelSelector]) and
//     field selectors ([meta.ParseFieldSelector]) on metadata.name,
//     metadata.namespace and the fields a Resource registers. List pages
//     with Limit and Continue; every page reads the first page's revision.
//   - Watch from "" sends the current state as ADDED events, then changes;
//     from "N" every change after N; below the compacted revision an
//     Error event with an Expired error. BOOKMARK events and
//     SendInitialEvents work as in Kubernetes.
//   - Every object returned is fresh and owned by the caller; the Store
//     never keeps or modifies the caller's object.
//
// # Objects, selectors and errors
//
// The object types, list and watch options, selectors, errors and metadata
// helpers live in [github.com/governor-io/governor/store/meta], a leaf
// package that readers of objects import without the Store. What the Store
// adds is [FromKVError], which maps engine errors (a compacted revision is
// Expired, a deadline is Timeout), and [ToStatus], which applies it before
// building the wire form. Undecodable objects are Invalid, with a
// [meta.Cause] naming the field.
//
// # Leases
//
// [Lease] is coordination.k8s.io/v1's Lease, the object that leader
// election keeps in the store. The election itself is
// [github.com/governor-io/governor/reconcile.Elector]'s.
package store
