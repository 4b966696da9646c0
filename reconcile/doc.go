// Package reconcile is Governor's controller runtime: it turns informer
// events into requests on a work queue and calls a level-triggered
// [Reconciler] until the world matches the desired state.
//
// # Usage
//
// A controller is a [Reconciler], the stores whose changes feed it requests,
// and a [Manager] that runs it with their informers:
//
//	mgr, _ := reconcile.NewManager(reconcile.ManagerOptions{Addr: ":8080",
//		LeaderElection: &reconcile.LeaderElectionOptions{
//			Lock: reconcile.StoreLeaseLock(leases, "system", "my-controller"), Identity: podName}})
//	sets, _ := reconcile.ClientFor(mgr, setStore)
//	pods, _ := reconcile.ClientFor(mgr, podStore)
//	reconcile.NewController(mgr, "replicaset", &Reconciler{Sets: sets, Pods: pods},
//		reconcile.Options[reconcile.Request]{Workers: 4},
//		reconcile.For(setStore), reconcile.Owns(podStore))
//	mgr.Start(ctx)
//
// [NewController] gives the controller the manager's clock, logger, metrics
// and [Freshness], and adds it to the manager. [For] enqueues a changed
// object's own request; [Owns] enqueues the request of the owner named by a
// changed object's controller reference, matching the kind and apiVersion
// of the For store's [store.Resource]; [Watches] takes a [Mapper] of one's
// own. The manager creates one informer per type for all its controllers
// and clients ([InformerFor], [ClientFor]) and runs it as one of its caches.
// The lower-level parts ([New], [FromInformer], [Manager.AddCache],
// [Manager.Add]) stay available for sources that are not stores.
//
// Inside Reconcile, [LoggerFrom](ctx) is the controller's logger with the
// controller's name and the request attached. A manager created without a
// Logger writes errors, such as a failed reconcile, to standard error.
// [Manager.EventRecorder] gives a controller a recorder of Kubernetes
// Events, written into ManagerOptions.Events with repeats aggregated.
//
// # Results
//
// Reconcile returns a [Result] and an error, and exactly one thing happens
// next:
//
//   - [Done] with a nil error: the request is forgotten until its next
//     event (controller_runtime_reconcile_total{result="success"}).
//   - [RequeueAfter](d): reconciled again after d ("requeue_after").
//   - [RequeueWithBackoff]: reconciled again after the rate limiter's
//     growing delay ("requeue").
//   - A non-nil error: retried with backoff, whatever the Result says
//     ("error"; the Result is ignored and a warning logged).
//   - A [TerminalError]: counted and never retried ("error", and
//     controller_runtime_terminal_reconcile_errors_total).
//   - A panic: recovered, counted in controller_runtime_reconcile_panics_total
//     and retried as an error ([PanicError]).
//
// One request is never reconciled by two workers at once.
//
// # Read your own writes
//
// A reconcile that writes through a [Client] records the resourceVersions
// it wrote under its request in a [Freshness]. The next reconcile of that
// request waits, driven by informer events and bounded by
// Options.FreshnessTimeout, until the caches have caught up, so that it
// never acts on a cache from before its own write.
//
// [Client.Mutate] and [Client.MutateStatus] change an object read from the
// cache: they apply a function to a private copy, write only when it
// changed something, and on Conflict re-read the latest version from the
// store and apply the function again (never to an object recreated under
// the same name). With [meta.AddFinalizer] and [meta.SetStatusCondition]
// they are how a reconcile adds finalizers and reports conditions.
// [Finalize] runs a finalizer's whole protocol (add it, and on deletion
// clean up, then remove it), [Client.ControlledBy] lists an owner's
// children from the cache, and [IgnoreNotFound] ends the reconcile of an
// object that is gone.
//
// # Leader election and shutdown
//
// An [Elector] campaigns for a lease ([StoreLeaseLock] keeps it in the
// store) with controller-runtime's timings: 15s lease, 10s renew deadline,
// 2s retry. The [Manager] warms its caches on every replica, runs
// controllers with Options.NoLeaderElection everywhere, and the others only
// on the leader. Every attempt on the lease is bounded by the retry period,
// and a renewal also by the renew deadline of the last one: once that
// passes the leader stops leading ([Elector.Lost]) even while a call to the
// store still hangs, and the manager cancels its leader-only runnables at
// once and returns [ErrLeaderLost], all before another replica may take the
// lease (the lease duration after it last saw it renewed). On shutdown the
// manager stops taking work and drains the reconciles in flight, then
// releases the lease. Past GracefulShutdownTimeout, Start returns
// [ErrShutdownTimeout] naming the runnables still running, and keeps the
// lease until they stop ([Manager.Stopped]). Caches or sources that do not
// sync in time stop it with [ErrCacheSyncTimeout].
//
// A controller created without a Clock runs on the clock of the manager it
// is added to, default rate limiter included, so one fake clock drives a
// whole manager in a test.
//
// Package [github.com/governor-io/governor/reconcile/reconciletest] runs a
// controller against an in-memory store with a fake clock for tests.
package reconcile
