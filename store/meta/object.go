package meta

import (
	"bytes"
	"encoding/json"
	"time"
)

// Object is implemented by every type the Store keeps. A type gets it by
// embedding [ObjectMeta] (with the tag `json:"metadata"`) and [TypeMeta]:
//
//	type Widget struct {
//		meta.TypeMeta
//		meta.ObjectMeta `json:"metadata"`
//		Spec   WidgetSpec   `json:"spec"`
//		Status WidgetStatus `json:"status"`
//	}
//
// Then *Widget is an Object. Stores and caches are typed on the pointer
// type (Store[*Widget]).
type Object interface {
	// GetObjectMeta returns the object's metadata, for reading and writing.
	GetObjectMeta() *ObjectMeta
	// GetTypeMeta returns the object's kind and apiVersion.
	GetTypeMeta() *TypeMeta
}

// TypeMeta carries the kind and apiVersion of an object, as in Kubernetes'
// wire format. Embed it without a tag so that its fields sit at the top
// level of the JSON.
type TypeMeta struct {
	Kind       string `json:"kind,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
}

// GetTypeMeta returns m.
func (m *TypeMeta) GetTypeMeta() *TypeMeta { return m }

// ObjectMeta is the metadata every stored object carries. Its fields and
// JSON names follow Kubernetes' ObjectMeta.
type ObjectMeta struct {
	// Name is unique within a namespace (or the cluster, for a
	// cluster-scoped type).
	Name string `json:"name,omitempty"`
	// GenerateName is a prefix from which Create makes a unique Name when
	// Name is empty.
	GenerateName string `json:"generateName,omitempty"`
	// Namespace is empty for cluster-scoped types.
	Namespace string `json:"namespace,omitempty"`
	// UID is set by Create and never changes.
	UID string `json:"uid,omitempty"`
	// ResourceVersion is the KV ModRevision of the stored object as a
	// decimal string. It is opaque to clients: compare it only for equality,
	// or parse it with [ParseResourceVersion].
	ResourceVersion string `json:"resourceVersion,omitempty"`
	// Generation grows by one whenever anything other than metadata and
	// status changes.
	Generation int64 `json:"generation,omitempty"`
	// CreationTimestamp is set by Create.
	CreationTimestamp Time `json:"creationTimestamp,omitzero"`
	// DeletionTimestamp is set when a Delete waits on finalizers.
	DeletionTimestamp *Time `json:"deletionTimestamp,omitzero"`
	// DeletionGracePeriodSeconds is carried for wire compatibility.
	DeletionGracePeriodSeconds *int64 `json:"deletionGracePeriodSeconds,omitempty"`
	// Labels are matched by label selectors.
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations hold arbitrary non-identifying data.
	Annotations map[string]string `json:"annotations,omitempty"`
	// OwnerReferences name the objects this one depends on.
	OwnerReferences []OwnerReference `json:"ownerReferences,omitempty"`
	// Finalizers must all be removed before a deleted object goes away.
	Finalizers []string `json:"finalizers,omitempty"`
}

// GetObjectMeta returns m.
func (m *ObjectMeta) GetObjectMeta() *ObjectMeta { return m }

// Key returns the object's cache key: "namespace/name", or "name" for a
// cluster-scoped object.
func (m *ObjectMeta) Key() string {
	return NamespacedName{Namespace: m.Namespace, Name: m.Name}.String()
}

// OwnerReference names an owner of an object, as in Kubernetes.
type OwnerReference struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	UID        string `json:"uid"`
	// Controller marks the managing owner; at most one reference sets it.
	Controller         *bool `json:"controller,omitempty"`
	BlockOwnerDeletion *bool `json:"blockOwnerDeletion,omitempty"`
}

// ControllerOf returns the owner reference with Controller set, or nil.
func ControllerOf(obj Object) *OwnerReference {
	refs := obj.GetObjectMeta().OwnerReferences
	for i := range refs {
		if c := refs[i].Controller; c != nil && *c {
			return &refs[i]
		}
	}
	return nil
}

// NamespacedName identifies an object within its type.
type NamespacedName struct {
	Namespace string
	Name      string
}

// String returns "namespace/name", or "name" when Namespace is empty.
func (n NamespacedName) String() string {
	if n.Namespace == "" {
		return n.Name
	}
	return n.Namespace + "/" + n.Name
}

// NameOf returns the NamespacedName of obj.
func NameOf(obj Object) NamespacedName {
	m := obj.GetObjectMeta()
	return NamespacedName{Namespace: m.Namespace, Name: m.Name}
}

// Time is a timestamp that encodes as Kubernetes does: RFC 3339 in UTC,
// to the second, and omitted when zero (with the omitzero tag option).
type Time struct {
	time.Time
}

// NewTime returns t truncated to the second, as Kubernetes stores it.
func NewTime(t time.Time) Time { return Time{t.UTC().Truncate(time.Second)} }

// MarshalJSON encodes t as an RFC 3339 string, or null when t is zero.
func (t Time) MarshalJSON() ([]byte, error) { return marshalTime(t.Time, time.RFC3339), nil }

// UnmarshalJSON decodes an RFC 3339 string or null.
func (t *Time) UnmarshalJSON(b []byte) error { return unmarshalTime(b, &t.Time) }

// MicroTime is a timestamp with microsecond precision that encodes as
// Kubernetes' MicroTime does: RFC 3339 in UTC with six fractional digits.
type MicroTime struct {
	time.Time
}

// NewMicroTime returns t in UTC truncated to the microsecond.
func NewMicroTime(t time.Time) MicroTime { return MicroTime{t.UTC().Truncate(time.Microsecond)} }

const microTimeFormat = "2006-01-02T15:04:05.000000Z07:00"

// MarshalJSON encodes t as an RFC 3339 string with microseconds, or null
// when t is zero.
func (t MicroTime) MarshalJSON() ([]byte, error) { return marshalTime(t.Time, microTimeFormat), nil }

// UnmarshalJSON decodes an RFC 3339 string (any fractional precision) or
// null.
func (t *MicroTime) UnmarshalJSON(b []byte) error { return unmarshalTime(b, &t.Time) }

// marshalTime encodes t in UTC with layout as a JSON string, or null when t
// is zero. It is shared by [Time] and [MicroTime], which differ only in
// precision.
func marshalTime(t time.Time, layout string) []byte {
	if t.IsZero() {
		return []byte("null")
	}
	b := make([]byte, 0, len(layout)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, layout)
	return append(b, '"')
}

// unmarshalTime decodes null, "" or an RFC 3339 string with any fractional
// precision into *t, in UTC.
func unmarshalTime(b []byte, t *time.Time) error {
	if string(b) == "null" {
		*t = time.Time{}
		return nil
	}
	s, err := jsonString(b)
	if err != nil {
		return err
	}
	if s == "" {
		*t = time.Time{}
		return nil
	}
	pt, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	*t = pt.UTC()
	return nil
}

// jsonString decodes a JSON string, without the general decoder when it
// holds no escapes.
func jsonString(b []byte) (string, error) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b[1:len(b)-1], '\\') < 0 && bytes.IndexByte(b[1:len(b)-1], '"') < 0 {
		return string(b[1 : len(b)-1]), nil
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}
