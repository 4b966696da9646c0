package api

import (
	"slices"
	"time"

	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
)

// Type describes one served resource: what discovery says about it, how
// its objects are stored, selected, printed and validated. T is the
// pointer type of the object, such as *corev1.Pod.
//
// A Type is a plain value, built once per resource (corev1.Pods,
// appsv1.Deployments, ...) and read-only afterwards.
type Type[T meta.Object] struct {
	// Group is the API group, "" for the core group ("apps",
	// "rbac.authorization.k8s.io", ...).
	Group string
	// Version is the API version within the group, such as "v1".
	Version string
	// Kind is the object's kind, such as "Pod".
	Kind string
	// Resource is the lowercase plural name in URLs, such as "pods".
	Resource string
	// Singular is the lowercase singular name, such as "pod".
	Singular string
	// Namespaced reports whether objects live in namespaces.
	Namespaced bool
	// ShortNames are the aliases kubectl accepts, such as "po".
	ShortNames []string
	// Categories are the groups of resources the type belongs to, such as
	// "all" (what `kubectl get all` lists).
	Categories []string
	// Subresources are the subresources served besides the object itself:
	// "status", "scale", "binding", "eviction".
	Subresources []string
	// Fields are the fields, beyond metadata.name and metadata.namespace,
	// that a field selector may name, each with the function that reads
	// its value from an object (such as "spec.nodeName" for pods).
	Fields map[string]func(obj T) string
	// Columns are the columns of the Table kubectl prints for `kubectl
	// get`, NAME first. Columns with Priority > 0 appear only with
	// `-o wide`.
	Columns []TableColumn
	// Cells returns one row's cells for obj, one per column, in the order
	// of Columns. now is the time relative to which ages are computed.
	// Cells holds strings, int64s, int32s, bools or float64s, as the
	// columns' types say. nil means only NAME and AGE.
	Cells func(obj T, now time.Time) []any
	// Default fills in the fields Kubernetes defaults when an object is
	// created or updated (a pod's restartPolicy, a deployment's
	// replicas and strategy, ...), before Validate runs. nil means no
	// defaults.
	Default func(obj T)
	// Validate checks an object before it is created or updated, and
	// returns the offending fields. nil means no checks beyond the
	// store's own.
	Validate func(obj T) []meta.Cause
	// ValidateUpdate, if set, also checks an update against the stored
	// object (immutable fields, say).
	ValidateUpdate func(oldObj, newObj T) []meta.Cause
	// Scale reads and writes the replica count for the "scale"
	// subresource. It is nil unless Subresources holds "scale".
	Scale *ScaleAccess[T]
	// New returns a new, empty object. It must not be nil.
	New func() T
}

// TableColumn is one column of a Table, as Kubernetes' meta.k8s.io/v1
// TableColumnDefinition encodes it.
type TableColumn struct {
	// Name is the column's header, such as "NAME" or "READY" (kubectl
	// prints it upper-cased).
	Name string `json:"name"`
	// Type is the OpenAPI type of the cells: "string", "integer",
	// "number", "boolean" or "date".
	Type string `json:"type"`
	// Format refines Type: "name" for the NAME column, "date", "int32",
	// ... or "".
	Format string `json:"format"`
	// Description says what the column shows.
	Description string `json:"description"`
	// Priority is 0 for the columns kubectl always prints, and > 0 for
	// those it prints only with `-o wide`.
	Priority int32 `json:"priority"`
}

// ScaleAccess gives the "scale" subresource of a type its view of an
// object, as an autoscaling/v1 Scale: the desired replicas (read and
// written), the observed replicas and the label selector of the pods.
type ScaleAccess[T meta.Object] struct {
	// SpecReplicas returns the desired number of replicas.
	SpecReplicas func(obj T) int32
	// SetSpecReplicas sets the desired number of replicas.
	SetSpecReplicas func(obj T, replicas int32)
	// StatusReplicas returns the observed number of replicas.
	StatusReplicas func(obj T) int32
	// Selector returns the pods' label selector in its string form
	// ("app=web,tier in (front)"), as Scale.status.selector carries it.
	Selector func(obj T) string
}

// APIVersion returns the apiVersion objects of t carry: "v1" for the core
// group, "GROUP/VERSION" otherwise (such as "apps/v1").
func (t Type[T]) APIVersion() string {
	if t.Group == "" {
		return t.Version
	}
	return t.Group + "/" + t.Version
}

// GroupResource returns the resource qualified by its group, as
// Kubernetes names it in messages: "pods", "deployments.apps".
func (t Type[T]) GroupResource() string {
	if t.Group == "" {
		return t.Resource
	}
	return t.Resource + "." + t.Group
}

// ListKind returns the kind of a list of t's objects, such as "PodList".
func (t Type[T]) ListKind() string { return t.Kind + "List" }

// HasSubresource reports whether t serves the subresource name.
func (t Type[T]) HasSubresource(name string) bool { return slices.Contains(t.Subresources, name) }

// StoreResource returns the [store.Resource] that keeps t's objects. Its
// Name is [Type.GroupResource], so that two groups' resources of the same
// name (core and events.k8s.io "events") get keys of their own, and store
// errors name the resource as Kubernetes does (`deployments.apps "web"
// not found`).
func (t Type[T]) StoreResource() store.Resource[T] {
	return store.Resource[T]{
		Name:           t.GroupResource(),
		Kind:           t.Kind,
		APIVersion:     t.APIVersion(),
		Namespaced:     t.Namespaced,
		New:            t.New,
		Validate:       t.Validate,
		ValidateUpdate: t.ValidateUpdate,
		Fields:         t.Fields,
	}
}
