package gc

import (
	"context"
	"strings"

	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/store/meta"
)

// Resource is one type of object the collector tracks, as the collector
// reaches it: whoever serves the objects implements it. [ForStore] gives
// the Resource of an in-process [store.Store]; the control plane's
// collector implements it over its API client for every resource the API
// server serves, with the same semantics:
//
//   - ListerWatcher lists and watches the objects' metadata (a
//     metadata-only list and watch over the wire, like client-go's
//     metadata informers).
//   - Get reads one object's metadata live, never from a cache: short of
//     a deletion event, the collector decides that an owner is gone only
//     on what Get says.
//   - Delete deletes with the options' preconditions (the collector always
//     sets the uid and resourceVersion) and propagation policy.
//   - UpdateMetadata changes the metadata of the object with the given uid,
//     retrying on Conflict.
//
// A Resource must be safe for concurrent use.
type Resource interface {
	// Info names the resource and its kind.
	Info() Info
	// ListerWatcher lists and watches the metadata of every object of the
	// resource, in every namespace.
	ListerWatcher() informer.ListerWatcher[*meta.PartialObjectMetadata]
	// Get returns the named object's metadata as stored now, or an error
	// matching meta.ErrNotFound.
	Get(ctx context.Context, namespace, name string) (*meta.PartialObjectMetadata, error)
	// Delete deletes the named object as [store.Store.Delete] does: an
	// error matching meta.ErrNotFound when it is gone, meta.ErrConflict
	// when a precondition fails.
	Delete(ctx context.Context, namespace, name string, opts meta.DeleteOptions) error
	// UpdateMetadata reads the named object, passes its metadata to mutate
	// and, if mutate reports a change, writes the change under the read's
	// resourceVersion, reading and mutating again after a Conflict. mutate
	// may change only ownerReferences and finalizers (removing the last
	// finalizer of an object that is being deleted deletes it). An object
	// whose uid is not uid counts as gone: the error matches
	// meta.ErrNotFound, as it does when there is no object.
	UpdateMetadata(ctx context.Context, namespace, name, uid string, mutate func(*meta.ObjectMeta) bool) error
}

// Info names a [Resource] and the kind of its objects, which owner
// references name by apiVersion and kind.
type Info struct {
	// Resource is the lowercase plural name, such as "replicasets".
	Resource string
	// APIVersion is "group/version" ("apps/v1"), or the version alone for
	// the core group ("v1").
	APIVersion string
	// Kind is the kind of the objects, such as "ReplicaSet".
	Kind string
	// Namespaced reports whether the objects live in namespaces.
	Namespaced bool
}

// Group returns the API group: "apps" for "apps/v1", "" for "v1". Owner
// references match a kind by group, whatever the version.
func (i Info) Group() string { return groupOf(i.APIVersion) }

// String returns the resource and its group as Kubernetes writes them:
// "replicasets.apps", or "pods" for the core group.
func (i Info) String() string {
	if g := i.Group(); g != "" {
		return i.Resource + "." + g
	}
	return i.Resource
}

func groupOf(apiVersion string) string {
	if i := strings.LastIndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// groupKind identifies a kind across its versions.
type groupKind struct{ group, kind string }

func (i Info) groupKind() groupKind { return groupKind{i.Group(), i.Kind} }

func refGroupKind(r meta.OwnerReference) groupKind {
	return groupKind{groupOf(r.APIVersion), r.Kind}
}
