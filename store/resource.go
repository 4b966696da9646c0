package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/governor-io/governor/store/meta"
	"reflect"
)

// Resource describes one type of object to a [Store]: its names, where its
// keys live, how it is encoded, validated and selected. Only Name is
// required; the zero value of every other field is a sensible default.
type Resource[T meta.Object] struct {
	// Name is the lowercase plural resource name, such as "pods". It is the
	// second segment of every key.
	Name string
	// Kind and APIVersion are set on every object the Store returns, such
	// as "Pod" and "v1".
	Kind       string
	APIVersion string
	// Namespaced reports whether objects live in namespaces. Keys of a
	// namespaced resource are <Prefix>/<Name>/<namespace>/<name>; others
	// are <Prefix>/<Name>/<name>.
	Namespaced bool
	// Prefix is the first segment of every key. "" means "/registry".
	Prefix string
	// New returns a new, empty object to decode into. nil means a new zero
	// value of the type T points to (T must then be a pointer to a struct).
	New func() T
	// Codec encodes objects for the KV. nil means [JSONCodec].
	Codec Codec[T]
	// Validate checks an object before Create and every kind of update. It
	// returns the offending fields; any cause makes the call fail with an
	// Invalid error naming them.
	Validate func(obj T) []meta.Cause
	// ValidateUpdate, if set, also checks an update against the stored
	// object (immutable fields, say).
	ValidateUpdate func(oldObj, newObj T) []meta.Cause
	// Fields are the fields, beyond metadata.name and metadata.namespace,
	// that field selectors may name, with a function that extracts each
	// value (e.g. "spec.nodeName").
	Fields map[string]func(obj T) string
	// AllowUnconditionalUpdate lets Update and UpdateStatus take an object
	// without a resourceVersion and write it over whatever is stored. By
	// default (false), as for Kubernetes types that need optimistic
	// concurrency, such an update is Invalid.
	AllowUnconditionalUpdate bool
	// DefaultPropagationPolicy is the policy of a Delete that names none,
	// of an object that carries no propagation finalizer from an earlier
	// Delete. "" means [meta.DeletePropagationBackground], the default of most
	// Kubernetes types; a few legacy types default to
	// [meta.DeletePropagationOrphan].
	DefaultPropagationPolicy meta.DeletionPropagation
}

// Codec turns objects into bytes for the KV and back. Implementations must
// be safe for concurrent use and deterministic: equal objects encode to
// equal bytes, which is how the Store notices an update that changes
// nothing.
type Codec[T any] interface {
	// Encode returns the bytes of obj.
	Encode(obj T) ([]byte, error)
	// Decode fills into, a new empty object, from data.
	Decode(data []byte, into T) error
}

// JSONCodec is the default [Codec]: encoding/json, which gives Kubernetes'
// wire format for types with Kubernetes' JSON tags.
type JSONCodec[T any] struct{}

// Encode returns the JSON encoding of obj.
func (JSONCodec[T]) Encode(obj T) ([]byte, error) { return json.Marshal(obj) }

// Decode decodes the JSON in data into into.
func (JSONCodec[T]) Decode(data []byte, into T) error { return json.Unmarshal(data, into) }

func (r Resource[T]) codec() Codec[T] {
	if r.Codec == nil {
		return JSONCodec[T]{}
	}
	return r.Codec
}

func (r Resource[T]) newObject() T {
	if r.New != nil {
		return r.New()
	}
	return newOf[T]()
}

// newOf returns a new zero object when T is a pointer type, else T's zero.
func newOf[T any]() T {
	var zero T
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Pointer {
		return zero
	}
	return reflect.New(t.Elem()).Interface().(T)
}

// Encode encodes obj with the Resource's codec. A codec failure is an
// InternalError.
func (r Resource[T]) Encode(obj T) ([]byte, error) {
	data, err := r.codec().Encode(obj)
	if err != nil {
		return nil, &meta.StatusError{Reason: meta.ReasonInternalError, Resource: r.Name, Err: err,
			Message: fmt.Sprintf("encoding %s: %v", r.Name, err)}
	}
	return data, nil
}

// Decode decodes data into a new object with the Resource's codec and sets
// its Kind and APIVersion. Bytes that do not decode get an Invalid
// [*meta.StatusError], with a Cause naming the field when the codec says which.
func (r Resource[T]) Decode(data []byte) (T, error) {
	obj := r.newObject()
	if isNil(obj) {
		var zero T
		return zero, meta.NewInternalError(fmt.Errorf("store: %s: New returned nil", r.Name))
	}
	if err := r.codec().Decode(data, obj); err != nil {
		var zero T
		return zero, decodeError(r.Name, err)
	}
	r.setTypeMeta(obj)
	return obj, nil
}

func (r Resource[T]) setTypeMeta(obj T) {
	if r.Kind == "" && r.APIVersion == "" {
		return
	}
	tm := obj.GetTypeMeta()
	tm.Kind, tm.APIVersion = r.Kind, r.APIVersion
}

func decodeError(resource string, err error) *meta.StatusError {
	cause := meta.Cause{Type: meta.CauseTypeFieldValueInvalid, Message: err.Error()}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		cause.Field = te.Field
	}
	return &meta.StatusError{Reason: meta.ReasonInvalid, Resource: resource, Err: err,
		Message: fmt.Sprintf("cannot decode %s: %v", resource, err), Causes: []meta.Cause{cause}}
}

func isNil(obj any) bool {
	if obj == nil {
		return true
	}
	v := reflect.ValueOf(obj)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Func, reflect.Chan:
		return v.IsNil()
	}
	return false
}

// shape locates, by reflection on a pointer-to-struct T, the top-level
// fields that are neither metadata nor status (the "spec" whose changes
// bump the generation) and the status field.
type shape struct {
	ok        bool  // T is a pointer to a struct
	status    int   // index of the field named "status" in JSON, or -1
	specParts []int // indexes of the other serialised fields
}

var (
	typeMetaType   = reflect.TypeFor[meta.TypeMeta]()
	objectMetaType = reflect.TypeFor[meta.ObjectMeta]()
)

func shapeOf[T any]() shape {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return shape{status: -1}
	}
	st := t.Elem()
	sh := shape{ok: true, status: -1}
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		if f.Type == typeMetaType || f.Type == objectMetaType || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, _, _ := bytesCut(f.Tag.Get("json"), ',')
		if name == "-" {
			continue
		}
		if name == "" && !f.Anonymous {
			name = f.Name
		}
		if name == "status" {
			sh.status = i
			continue
		}
		sh.specParts = append(sh.specParts, i)
	}
	return sh
}

func bytesCut(s string, sep byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// specEqual reports whether a and b agree on everything but metadata and
// status, comparing JSON encodings when the values differ in Go but may
// not on the wire (a nil slice against an empty one, say).
func (sh shape) specEqual(a, b any) bool {
	if !sh.ok {
		return jsonSpecEqual(a, b)
	}
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for _, i := range sh.specParts {
		if !wireEqual(va.Field(i), vb.Field(i)) {
			return false
		}
	}
	return true
}

var jsonMarshalerType = reflect.TypeFor[json.Marshaler]()

// wireEqual reports whether two values of one type are equal as JSON sees
// them: nil and empty slices and maps are equal, fields tagged "-" and
// unexported fields do not count, and types with their own MarshalJSON
// are compared by their encodings.
func wireEqual(a, b reflect.Value) bool {
	t := a.Type()
	if t.Implements(jsonMarshalerType) || a.CanAddr() && b.CanAddr() && reflect.PointerTo(t).Implements(jsonMarshalerType) {
		if t.Kind() == reflect.Pointer && (a.IsNil() || b.IsNil()) {
			return a.IsNil() == b.IsNil()
		}
		ja, err1 := json.Marshal(addrIfPossible(a))
		jb, err2 := json.Marshal(addrIfPossible(b))
		return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		ea, eb := a.Elem(), b.Elem()
		if ea.Type() != eb.Type() {
			return false
		}
		return wireEqual(ea, eb)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() && !f.Anonymous || f.Tag.Get("json") == "-" {
				continue
			}
			if !wireEqual(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !wireEqual(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() {
			return false
		}
		iter := a.MapRange()
		for iter.Next() {
			vb := b.MapIndex(iter.Key())
			if !vb.IsValid() || !wireEqual(iter.Value(), vb) {
				return false
			}
		}
		return true
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return true // not encoded
	default:
		return a.Equal(b)
	}
}

func addrIfPossible(v reflect.Value) any {
	if v.CanAddr() {
		return v.Addr().Interface()
	}
	return v.Interface()
}

// jsonSpecEqual compares two objects' JSON without metadata, status, kind
// and apiVersion; it serves types that are not pointers to structs.
func jsonSpecEqual(a, b any) bool {
	strip := func(o any) (map[string]json.RawMessage, bool) {
		data, err := json.Marshal(o)
		if err != nil {
			return nil, false
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(data, &m) != nil {
			return nil, false
		}
		for _, k := range []string{"metadata", "status", "kind", "apiVersion"} {
			delete(m, k)
		}
		return m, true
	}
	ma, ok1 := strip(a)
	mb, ok2 := strip(b)
	if !ok1 || !ok2 || len(ma) != len(mb) {
		return false
	}
	for k, va := range ma {
		vb, ok := mb[k]
		if !ok || !bytes.Equal(va, vb) {
			return false
		}
	}
	return true
}

// hasStatus reports whether the type has a status field.
func (sh shape) hasStatus() bool { return sh.ok && sh.status >= 0 }

// moveStatus sets dst's status to src's. Both must be private objects;
// src gives up its status to dst.
func (sh shape) moveStatus(dst, src any) {
	if !sh.hasStatus() {
		return
	}
	reflect.ValueOf(dst).Elem().Field(sh.status).Set(reflect.ValueOf(src).Elem().Field(sh.status))
}
