package reconcile

import (
	"strings"

	"github.com/governor-io/governor/store/meta"
)

// Mapper turns one object of an event into the requests to reconcile,
// passing each to emit. It must not keep obj, which is shared with the
// informer's cache.
type Mapper[T meta.Object, Req comparable] func(obj T, emit func(Req))

// OwnKey maps an object to its own [Request], the mapping of a controller
// that reconciles the objects it watches.
func OwnKey[T meta.Object]() Mapper[T, Request] {
	return func(obj T, emit func(Request)) { emit(meta.NameOf(obj)) }
}

// ControllerOwner maps an object to the [Request] of its controlling owner:
// the owner reference with controller=true, when its kind is kind (and its
// API group is group's, when apiVersion is not ""). The owner is taken to
// live in the object's namespace, as Kubernetes requires. Objects without
// such an owner map to nothing. A ReplicaSet controller watches its Pods
// with ControllerOwner[*Pod]("apps/v1", "ReplicaSet").
func ControllerOwner[T meta.Object](apiVersion, kind string) Mapper[T, Request] {
	group := groupOf(apiVersion)
	return func(obj T, emit func(Request)) {
		ref := meta.ControllerOf(obj)
		if ref == nil || ref.Kind != kind || (apiVersion != "" && groupOf(ref.APIVersion) != group) {
			return
		}
		emit(Request{Namespace: obj.GetObjectMeta().Namespace, Name: ref.Name})
	}
}

// groupOf returns the group of an apiVersion: "apps" for "apps/v1", "" for
// "v1". Versions of one group are the same kind to an owner lookup.
func groupOf(apiVersion string) string {
	if i := strings.LastIndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// MapFunc adapts a function that returns a slice of requests to a [Mapper],
// for a user's own mapping (all the objects that reference a ConfigMap,
// say).
func MapFunc[T meta.Object, Req comparable](f func(obj T) []Req) Mapper[T, Req] {
	return func(obj T, emit func(Req)) {
		for _, r := range f(obj) {
			emit(r)
		}
	}
}
