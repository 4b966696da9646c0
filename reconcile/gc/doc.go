// Package gc is Governor's garbage collector: it deletes the objects whose
// owners are gone, following ownerReferences, and carries out the
// propagation policy that a Delete recorded on an owner, as Kubernetes'
// garbage collector does.
//
// # Usage
//
// The collector is a controller like any other, run by a
// [reconcile.Manager] (on the leader, with the manager's clock, logger and
// metrics). Give it every resource whose objects may own or be owned:
//
//	mgr, _ := reconcile.NewManager(reconcile.ManagerOptions{})
//	gc.New(mgr, gc.Options{}, gc.ForStore(backups), gc.ForStore(jobs))
//	mgr.Start(ctx)
//
// A controller sets the references with [meta.SetControllerReference]
// (which sets blockOwnerDeletion), and deleting an owner then deletes its
// dependents:
//
//	backups.Delete(ctx, "ns", "nightly", meta.DeleteOptions{}) // Background
//	backups.Delete(ctx, "ns", "nightly", meta.DeleteOptions{
//		PropagationPolicy: meta.DeletePropagationForeground}) // or Orphan
//
// In a [github.com/governor-io/governor/reconcile/reconciletest] Env, make
// the stores with AddInformer and give the collector ForStore of each:
// Env.Settle then waits for the collector, a controller of the Env's
// manager, and for the informers it shares with the Env.
//
// # Semantics
//
// The policies are Kubernetes'. The store records Foreground and Orphan as
// finalizers on the owner ([store.Store.Delete]); the collector does the
// rest:
//
//   - Background: the owner goes at once. Each of its dependents then has
//     an owner reference that names nothing, and an object whose owner
//     references all name nothing is garbage: the collector deletes it,
//     with the Background policy (or the policy its own orphan or
//     foregroundDeletion finalizer asks for), so that deletion runs down a
//     chain.
//   - Foreground: the owner stays, with a deletionTimestamp and the
//     foregroundDeletion finalizer, while the collector deletes its
//     dependents (those that have dependents of their own, in the
//     foreground too). Once no dependent whose reference sets
//     blockOwnerDeletion is left, the collector removes the finalizer and
//     the owner goes. Dependents without blockOwnerDeletion are deleted,
//     but never hold the owner up.
//   - Orphan: the owner stays, with the orphan finalizer, until the
//     collector has removed its references from every dependent; then it
//     removes the finalizer and the owner goes, the dependents stay.
//
// An object with several owners is garbage only when none of them exists
// (or the remaining ones wait for it in foreground deletion); until then the
// collector only removes its references to the owners that are gone.
//
// References name objects by uid. An owner that was deleted and created
// again under the same name is another object, and does not keep the
// dependents of the first alive. A reference resolves where Kubernetes
// resolves it: a namespaced owner in the dependent's own namespace, so a
// reference to a namespaced owner in another namespace names nothing (that
// owner's deletion and propagation never reach the dependent, and the
// reference counts as absent), and a cluster-scoped object that names a
// namespaced kind is never collected on its account; both get an
// OwnerRefInvalidNamespace Warning event. A reference to a kind the
// collector was not given never makes its object garbage.
//
// # How it works
//
// An informer per resource feeds a graph of owners and dependents, keyed
// by uid, from which each event enqueues the objects it may concern: the
// dependents of a deleted owner, an owner entering foreground deletion and
// its dependents, an owner a blocking dependent stopped blocking, an object
// whose owners the graph has not seen. The controller's workers then look
// at one object at a time, and decide on live reads (Get): an owner is
// gone once its deletion event was seen or a live read finds nothing (or
// another uid) where the reference points, never merely because the cache
// lacks it. A delete carries the uid and resourceVersion it was decided
// on, so that neither a namesake nor an object adopted since is deleted
// (the object is then looked at again), and metadata updates (removing a
// reference or a finalizer) retry on Conflict against the latest version
// and never touch a namesake. Owners known gone are
// remembered (by uid and where the reference points), so that the
// thousand dependents of a deleted owner cost no read of it.
//
// # Over the network
//
// The collector knows its resources only through the [Resource] interface:
// metadata list and watch, a live Get, Delete with options, and a metadata
// update with conflict retry. [ForStore] implements it over an in-process
// [store.Store], sharing the manager's informer of the type. The control
// plane implements the same interface over its API client, one Resource per
// resource the API server serves (package
// github.com/governor-io/governor/examples/cluster/client/gcresource):
// ListerWatcher as the client's list and watch decoded to metadata, Get as
// a GET, Delete as a DELETE whose body is the [meta.DeleteOptions] (they
// encode as Kubernetes' DeleteOptions), and UpdateMetadata as a GET (which
// checks the uid) followed by a JSON merge patch of
// metadata.ownerReferences or metadata.finalizers that carries the read's
// resourceVersion as a precondition. New then runs the very same collector
// over them, as an informer per Resource in the manager's caches.
package gc
