// Package store keeps typed, versioned objects with Kubernetes-shaped
// metadata over a revisioned key-value engine
// ([github.com/governor-io/governor/store/kv.KV]).
//
// Objects embed [TypeMeta] and [ObjectMeta]. Their resourceVersion is the KV
// ModRevision of the stored object. Errors are [*StatusError] values that
// errors.Is matches against sentinels such as [ErrNotFound] and [ErrConflict],
// each of which maps to one Kubernetes Status reason and HTTP code.
package store
