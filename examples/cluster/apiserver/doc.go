// Package apiserver serves Kubernetes-style API resources, kept in a
// Governor store over any [kv.KV], to kubectl, client-go and the example
// control plane's components, over Kubernetes' JSON wire format.
//
// A [Server] is made with [New] over a KV; [Register] adds each resource
// an [api.Type] describes. [Server.Handler] serves them, or [Server.Run]
// listens and shuts down gracefully when its context ends:
//
//	s, _ := apiserver.New(apiserver.Config{KV: engine})
//	_ = apiserver.Register(s, corev1.Pods)
//	_ = s.Run(ctx)
//
// [InstallBuiltins] registers every built-in resource; the command
// examples/cluster/cmd/governor ("governor apiserver") runs a Server over
// an embedded Raft KV member and writes a kubeconfig for kubectl.
//
// # What is served
//
//   - Discovery: /api, /apis, /api/v1, /apis/GROUP, /apis/GROUP/VERSION
//     and /version; /openapi/v2 is a minimal protobuf document (swagger,
//     info and empty paths), enough for kubectl's client-side validation
//     to find no schema and go on. /healthz, /livez, /readyz (200 once
//     every watch cache has loaded) and /metrics.
//   - Verbs: get, list (label and field selectors, limit/continue,
//     resourceVersion and resourceVersionMatch), watch, create
//     (generateName; 201), update (PUT), patch (JSON merge patch, JSON
//     patch (RFC 6902) and strategic merge patch, whose lists merge by the
//     Go type's patchMergeKey tags), delete (uid and resourceVersion
//     preconditions, propagationPolicy recorded as the garbage collector's
//     finalizers; 200 with the object) and deletecollection. dryRun=All
//     runs a create, update or patch in a scratch store seeded with the
//     stored object, so every check runs and nothing is written.
//     gracePeriodSeconds is checked (not negative) but deletion is
//     immediate: graceful pod deletion, finished by a node agent, is for
//     the node agent's issue. The status subresource changes only status, and
//     the main resource ignores status, as Kubernetes' strategies do.
//   - Subresources: status; scale (an autoscaling/v1 Scale, for Types
//     with a ScaleAccess: get, update, patch); pods/binding (sets
//     spec.nodeName, 409 if bound, then the PodScheduled condition: two
//     writes, since the store writes spec and status apart) and
//     pods/eviction (deletes the pod with the Eviction's DeleteOptions;
//     there are no PodDisruptionBudgets yet). Both answer 201 with a
//     Success Status.
//   - Tables: `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` gets
//     a Table with the Type's columns (PartialObjectMetadata in each row,
//     or includeObject=Object|None), for get, list and watch events;
//     `as=PartialObjectMetadata(List)` gets the metadata alone.
//   - Errors are always a Status with Kubernetes' reason and code, worded
//     as kube-apiserver words them: NotFound for unknown paths, 400 for
//     malformed JSON or a body of the wrong kind, 405 for a verb a path
//     does not take, 406 for an Accept with no JSON (protobuf), 409
//     Conflict, 410 Expired, 413 for a body over
//     Config.MaxRequestBodyBytes, 415 for protobuf or YAML bodies and
//     server-side apply, 422 Invalid. Bad input never gets a 5xx.
//
// With Config.CheckNamespaces (the governor command sets it), creates
// pass Kubernetes' NamespaceLifecycle admission: 404 in a namespace that
// does not exist, 403 in one being deleted.
//
// # Reads and the watch cache
//
// Each resource has a watch cache, as kube-apiserver's cacher: one store
// watch keeps a copy of every object and a window of the latest events
// (Config.WatchCacheSize), and fans them out to every client watch, each
// with its own buffer; a watch that falls that far behind is closed and
// the client resumes from its last resourceVersion with no gap.
//
//   - resourceVersion "0": served from the cache as it is. Lists served
//     from the cache return every match: they ignore limit, as
//     Kubernetes allows.
//   - resourceVersion N (NotOlderThan, or unset match without a limit):
//     served from the cache once it reflects N; a cache that does not get
//     there within Config.FreshnessTimeout answers 504 (Timeout,
//     ResourceVersionTooLarge).
//   - resourceVersion "" (a consistent read): a list without a limit is
//     served from the cache the way kube-apiserver does since KEP-2340:
//     the server reads the KV's current revision (linearizable on Raft),
//     requests a progress notification, and waits until the cache has seen
//     that revision; if it does not within Config.FreshnessTimeout the
//     list reads the KV. A get with resourceVersion "" reads the KV.
//   - Exact N, a limit with "" or N, and continue tokens read the KV at
//     that revision; a compacted one is 410 Expired.
//
// Watches: "" and "0" start with ADDED events for the current objects;
// N sends every change after N, or, for N older than the cache's window,
// one ERROR event carrying a 410 Expired Status; sendInitialEvents=true
// (with resourceVersionMatch=NotOlderThan and allowWatchBookmarks) sends
// the objects, then a BOOKMARK annotated k8s.io/initial-events-end.
// Events are JSON lines, flushed as they come; bookmarks carry the
// cache's revision; a watch lasts timeoutSeconds, or a random time
// between Config.MinRequestTimeout and twice that.
//
// # Custom resources
//
// [InstallCustomResources] (part of [InstallBuiltins]) serves
// apiextensions.k8s.io/v1 CustomResourceDefinitions. A controller in the
// server follows them: a CRD's resource appears in discovery and is
// served as soon as the server sees the CRD, with no restart, in each
// served version (versions differ only in apiVersion, as with conversion
// strategy None; all read and write the same stored objects), with the
// status and scale subresources, the version's printer columns in Tables
// (JSONPath-lite: ".spec.x", ".status.y[0]", date columns as ages),
// short names, categories and selectable fields. Its status then gets
// NamesAccepted and Established conditions, acceptedNames and
// storedVersions; [Server.WaitCustomResource] waits for it in-process.
// Objects are [unstructured.Object]s: on create, update and patch they
// are pruned of the fields the schema does not specify (except under
// x-kubernetes-preserve-unknown-fields), defaulted, and validated against
// it (package schema), a failure being a 422 Invalid Status whose causes
// name fields such as "spec.replicas". A CRD whose names a resource of
// its group already uses is refused (422). Strategic merge patch gets
// 415, as in Kubernetes. Deleting a CRD (it carries the
// customresourcecleanup finalizer) stops serving its resource, ends its
// watches, deletes its objects and then the CRD.
//
// Config.Schemaless (the command's -schemaless-resource flag) names
// resources served with no schema: every field is kept, so that
// third-party informers can list and watch resources Governor does not
// model.
//
// # Metrics and logs
//
// kube-apiserver's names: apiserver_request_total{verb, group, version,
// resource, subresource, scope, component, code},
// apiserver_request_duration_seconds, apiserver_current_inflight_requests,
// apiserver_longrunning_requests, apiserver_watch_events_total and
// apiserver_storage_objects. Every request is logged with log/slog at
// debug level, answers with a 5xx at error level.
package apiserver
