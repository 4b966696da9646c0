// Package client talks to the example control plane's API server (or any
// Kubernetes API server, for the types package api describes) over its
// JSON wire protocol, so that Governor's informers and reconcilers run in
// another process exactly as they run next to a store.
//
// # Usage
//
// Build one [Client] per process from a [Config] (by hand, from a
// kubeconfig with [LoadKubeconfig], or from flags with [Config.BindFlags]),
// then one typed [Resource] per resource with [For]:
//
//	cfg, err := client.LoadKubeconfig("", "") // $KUBECONFIG or ~/.kube/config
//	c, err := client.New(cfg)
//	pods := client.For(c, corev1.Pods)
//	pod, err := pods.Get(ctx, "default", "web")
//	if errors.Is(err, meta.ErrNotFound) { ... }
//
// A Resource offers what a [github.com/governor-io/governor/store.Store]
// offers: Get, List (and ListAll, which pages through), Watch, Create,
// Update, UpdateStatus, Patch (merge, JSON and strategic merge), Delete
// (with preconditions, a propagation policy and a grace period),
// DeleteCollection, and subresources ([Resource.Subresource]: binding,
// eviction, scale). It implements [informer.ListerWatcher], so
// informer.New(client.For(c, corev1.Pods), opts) keeps a cache of the
// server's pods, following watches, bookmarks, streaming initial lists
// and Expired resourceVersions as it does in-process.
//
// # Errors
//
// A Status the server answers with becomes the [*meta.StatusError] it
// names, wrapped with the call's context, so errors.Is(err,
// meta.ErrConflict), ErrNotFound, ErrAlreadyExists, ErrExpired,
// ErrInvalid and the others work across the wire as they do in-process. An
// ERROR event of a watch carries one too (Expired for a 410).
//
// # Rate limits, retries and deadlines
//
// Each Client has a token bucket (QPS 50, burst 100 by default: client-go's
// 5/10 are too low for a scheduler or a node agent). Every call is bounded
// by its context and by Config.Timeout (30s by default). A call is retried,
// at most Config.MaxRetries times (5), with exponential backoff and jitter
// ([Backoff]), honouring the server's Retry-After:
//   - after a 429, always: the server turned the request away unprocessed;
//   - after a 5xx or a lost connection, only idempotent calls (get, list,
//     watch, update, delete, merge patches), since the server may have
//     acted on the first attempt;
//   - a create or a JSON patch, after a connection error, only when the
//     connection could not even be made.
//
// No retry is made that would outlast the context's deadline. A retried
// call whose first attempt did go through answers as a repeat does: an
// update gets Conflict (its resourceVersion is now stale), a delete
// NotFound.
//
// # Metrics and logs
//
// With Config.Metrics set (package prommetrics has a Prometheus
// provider), the client reports client-go's rest_client_requests_total,
// rest_client_request_duration_seconds, rest_client_request_retries_total
// and rest_client_rate_limiter_duration_seconds. Retries are logged with
// log/slog.
package client
