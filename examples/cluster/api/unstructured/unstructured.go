// Package unstructured holds [Object], a Kubernetes object without a Go
// type of its own: the objects of custom resources and of the resources
// an API server serves schemaless. Its metadata is a [meta.ObjectMeta], so
// that it is a [meta.Object] that the store, informers and clients keep
// like any typed object; everything else is decoded JSON.
package unstructured

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/governor-io/governor/store/meta"
)

// Object is an object whose fields beyond apiVersion, kind and metadata
// are decoded JSON: maps, slices, strings, bools, nil and numbers as
// [json.Number], so that integers round-trip exactly.
//
// An Object made by [NewWithStatus] keeps its top-level "status" in
// Status, apart from the rest: the store then treats it as the status of
// a resource with a status subresource (updates of the object keep the
// stored status; status updates change only it). Any other Object keeps
// "status" in Content like any other field.
//
// Its JSON is that of the object: Content's fields at the top level with
// apiVersion, kind, metadata and status.
type Object struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	// Status is the object's "status" when the Object splits it off (see
	// [NewWithStatus]), and nil otherwise.
	Status any `json:"status"`
	// Content holds the other top-level fields ("spec", "data", ...).
	Content map[string]any `json:"content"`

	splitStatus bool
}

// New returns an empty Object that keeps "status" in Content.
func New() *Object { return &Object{} }

// NewWithStatus returns an empty Object that keeps "status" in Status.
func NewWithStatus() *Object { return &Object{splitStatus: true} }

// SplitsStatus reports whether o keeps "status" in Status.
func (o *Object) SplitsStatus() bool { return o.splitStatus }

// MarshalJSON encodes o as the object it is, keys sorted.
func (o *Object) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(o.Content)+4)
	maps.Copy(m, o.Content)
	if o.splitStatus {
		delete(m, "status")
		if o.Status != nil {
			m["status"] = o.Status
		}
	}
	if o.APIVersion != "" {
		m["apiVersion"] = o.APIVersion
	}
	if o.Kind != "" {
		m["kind"] = o.Kind
	}
	m["metadata"] = &o.ObjectMeta
	return json.Marshal(m)
}

// UnmarshalJSON replaces o's content with the JSON object data.
func (o *Object) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if raw == nil {
		return errors.New("unstructured: the object is null")
	}
	split := o.splitStatus
	*o = Object{splitStatus: split}
	for k, v := range raw {
		var err error
		switch k {
		case "apiVersion":
			err = unmarshalString(v, &o.APIVersion)
		case "kind":
			err = unmarshalString(v, &o.Kind)
		case "metadata":
			if !bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
				err = json.Unmarshal(v, &o.ObjectMeta)
			}
		default:
			var x any
			x, err = Decode(v)
			if k == "status" && split {
				o.Status = x
			} else {
				if o.Content == nil {
					o.Content = map[string]any{}
				}
				o.Content[k] = x
			}
		}
		if err != nil {
			return fmt.Errorf("unstructured: field %q: %w", k, err)
		}
	}
	return nil
}

func unmarshalString(v json.RawMessage, into *string) error {
	if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return nil
	}
	return json.Unmarshal(v, into)
}

// Decode decodes JSON as an Object's fields hold it: numbers as
// [json.Number].
func Decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	return v, nil
}

// Fields returns o's fields beyond apiVersion, kind and metadata,
// status included, in a new map whose values are o's own (not copies).
// Give it back with [Object.SetFields] after changing it.
func (o *Object) Fields() map[string]any {
	m := make(map[string]any, len(o.Content)+1)
	maps.Copy(m, o.Content)
	if o.splitStatus {
		delete(m, "status")
		if o.Status != nil {
			m["status"] = o.Status
		}
	}
	return m
}

// SetFields replaces o's fields beyond apiVersion, kind and metadata with
// m's (apiVersion, kind and metadata in m are ignored).
func (o *Object) SetFields(m map[string]any) {
	o.Content, o.Status = nil, nil
	for k, v := range m {
		switch k {
		case "apiVersion", "kind", "metadata":
			continue
		case "status":
			if o.splitStatus {
				o.Status = v
				continue
			}
		}
		if o.Content == nil {
			o.Content = map[string]any{}
		}
		o.Content[k] = v
	}
}

// Map returns the whole object as decoded JSON, metadata included, in a
// new map that shares nothing with o.
func (o *Object) Map() map[string]any {
	data, err := json.Marshal(o)
	if err != nil {
		return map[string]any{}
	}
	v, err := Decode(data)
	if err != nil {
		return map[string]any{}
	}
	m, _ := v.(map[string]any)
	return m
}

// DeepCopy returns a copy of o that shares no memory with it.
func (o *Object) DeepCopy() *Object {
	if o == nil {
		return nil
	}
	m := meta.DeepCopy(&metaOnly{ObjectMeta: o.ObjectMeta})
	out := &Object{TypeMeta: o.TypeMeta, ObjectMeta: m.ObjectMeta, splitStatus: o.splitStatus}
	out.Status = CopyValue(o.Status)
	if o.Content != nil {
		out.Content = CopyValue(o.Content).(map[string]any)
	}
	return out
}

// metaOnly lets meta.DeepCopy copy an ObjectMeta.
type metaOnly struct {
	meta.TypeMeta
	meta.ObjectMeta
}

// CopyValue returns a deep copy of a decoded JSON value.
func CopyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = CopyValue(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = CopyValue(e)
		}
		return s
	}
	return v
}

// Lookup returns the value at path in a decoded JSON object, such as
// Lookup(m, "spec", "replicas"), and whether it is there.
func Lookup(m map[string]any, path ...string) (any, bool) {
	var cur any = m
	for _, p := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// Set sets the value at path in a decoded JSON object, making the
// objects on the way. It fails when a value on the way is not an object.
func Set(m map[string]any, value any, path ...string) error {
	if len(path) == 0 {
		return errors.New("unstructured: empty path")
	}
	cur := m
	for i, p := range path[:len(path)-1] {
		next, ok := cur[p]
		if !ok || next == nil {
			n := map[string]any{}
			cur[p] = n
			cur = n
			continue
		}
		if cur, ok = next.(map[string]any); !ok {
			return fmt.Errorf("unstructured: %v is not an object", path[:i+1])
		}
	}
	cur[path[len(path)-1]] = value
	return nil
}
