// Package informer keeps a local, indexed cache of a remote collection in
// step through list and watch, and tells handlers what changed.
//
// # The pieces
//
//   - A [ListerWatcher] is the source: the in-process *store.Store, an HTTP
//     API server client, or any pair of functions ([FuncListerWatcher]).
//     [Project] turns a source of big objects into a source of compact ones.
//   - A [Reflector] lists the source, replaces a [Sink] with the result,
//     then watches from the list's resourceVersion. A watch that ends is
//     resumed from the last resourceVersion seen (bookmarks included); an
//     Expired resourceVersion means a new list. Watches time out at random
//     so that clients do not reconnect in step, and errors back off
//     exponentially with jitter ([Backoff]).
//   - A [Cache] holds the objects, keyed by namespace/name, with named
//     indexes. A [Lister] reads it by name, namespace, label selector and
//     index.
//   - An [Informer] ties them together and fans every change out to its
//     handlers. A [Factory] shares one informer per type and selector.
//
// # Usage
//
// Create an informer over a source, add handlers, run it, and wait for the
// initial list:
//
//	inf := informer.New[*Widget](widgets, informer.Options[*Widget]{Name: "widgets"})
//	reg, _ := inf.AddHandlerWithOptions(informer.HandlerFuncs[*Widget]{
//		AddFunc:    func(w *Widget, _ bool) { queue.Add(w.Key()) },
//		UpdateFunc: func(_, w *Widget) { queue.Add(w.Key()) },
//		DeleteFunc: func(w *Widget, _ bool) { queue.Add(w.Key()) },
//	}, informer.HandlerOptions{LatestPerKey: true})
//	go inf.Run(ctx)
//	if !informer.WaitForCacheSync(ctx, reg) { return ctx.Err() }
//	w, ok := inf.Lister().Get("default", "web")
//
// # Shared, read-only objects
//
// The cache does not copy. The object a handler receives and the object a
// Lister returns are the cached object itself, shared with every other
// reader. NEVER MODIFY ONE. Take a private copy with [meta.DeepCopy] and
// change that, then write it back through the store.
// In tests, [Options].DetectMutations keeps a private copy of every cached
// object and reports one that was modified, naming it with the change
// (reconciletest turns it on).
//
// # Handlers
//
// Each handler has its own buffer and goroutine. Its methods run one at a
// time and in event order; a slow handler delays neither the cache nor the
// other handlers. A handler added after the initial list first gets an
// OnAdd for every cached object. By default a handler's buffer holds every
// event until it is handled; with [HandlerOptions].LatestPerKey it holds at most one merged
// entry per key, so that its memory stays bounded however far it lags.
// [Registration.Backlog] and the informer_handler_backlog metric show how
// far each handler is behind.
//
// OnDelete always gets the last known object. When the informer learnt of
// the delete by relisting (a watch gap it could not replay), finalStateKnown
// is false and the object is the last state the informer saw; there is no
// tombstone type to unwrap.
//
// [WaitForCacheSync] waits on channels, not by polling. An informer has
// synced once the first list is cached; a [Registration] once its handler
// has also handled that list.
//
// A handler is idle when nothing is buffered for it and it is not in a
// call; an informer is idle when it has synced, every handler is idle and
// no resync is due. [Registration.WaitIdle] and [Informer.WaitIdle] wait
// for that on channels too, and Activity gives the channel itself, closed
// at the next change, for a harness that waits on many components at once
// (reconciletest does).
package informer
