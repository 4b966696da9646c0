// Package gcresource runs Governor's garbage collector,
// [github.com/governor-io/governor/reconcile/gc], over the network: it
// implements [gc.Resource] with the control plane's typed client, so that
// the collector that serves in-process stores through [gc.ForStore] is the
// very code that collects the API server's objects.
//
// # Usage
//
// Give the collector one Resource per resource whose objects may own or be
// owned, made from the client of each ([For]) or, for resources found by
// discovery at run time, from their [gc.Info] alone ([New]):
//
//	c, _ := client.New(cfg)
//	mgr, _ := reconcile.NewManager(reconcile.ManagerOptions{})
//	gc.New(mgr, gc.Options{},
//		gcresource.For(client.For(c, appsv1.ReplicaSets)),
//		gcresource.For(client.For(c, corev1.Pods)))
//	mgr.Start(ctx)
//
// # Over the wire
//
// Every call reads and writes objects as
// [meta.PartialObjectMetadata]: kind, apiVersion and metadata. The API
// server sends whole objects (it serves no metadata-only media type yet);
// the client decodes each into its metadata alone and drops the rest, so
// the collector's cache holds metadata only, but the list and the watch
// cost the bytes of the full objects.
//
//   - ListerWatcher is the client's list and watch (with bookmarks and
//     the informer's handling of Expired), decoded to metadata.
//   - Get is a GET, never answered from a cache.
//   - Delete is a DELETE whose body is Kubernetes' DeleteOptions: the
//     uid and resourceVersion preconditions and the propagation policy
//     the collector asks for.
//   - UpdateMetadata is a GET, then a JSON merge patch of the fields the
//     mutation changed (metadata.ownerReferences, metadata.finalizers)
//     that carries the read's metadata.resourceVersion: the server
//     applies it only to that version, and answers Conflict otherwise,
//     upon which UpdateMetadata reads and mutates again (at most
//     [UpdateAttempts] times). A resourceVersion names one write of one
//     object, so the precondition also keeps a namesake created since the
//     read safe; the uid is checked on the read.
package gcresource
