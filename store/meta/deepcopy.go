package meta

import (
	"reflect"
	"sync"
)

// DeepCopier is implemented by types that copy themselves, such as types
// with generated deep-copy functions. [DeepCopy] prefers it.
type DeepCopier interface {
	// DeepCopyObject returns a copy that shares no memory with the
	// original.
	DeepCopyObject() Object
}

// DeepCopy returns a private copy of obj that shares no mutable memory
// with it: the way to modify an object read from a shared cache. It uses
// obj's own DeepCopy() T or DeepCopyObject() method when it has one, and
// otherwise copies by reflection (exported fields deeply; unexported
// fields, such as those of time.Time, by value). A nil obj is returned
// as it is.
func DeepCopy[T Object](obj T) T {
	if isNil(obj) {
		return obj
	}
	if c, ok := any(obj).(interface{ DeepCopy() T }); ok {
		return c.DeepCopy()
	}
	if c, ok := any(obj).(DeepCopier); ok {
		if out, ok := c.DeepCopyObject().(T); ok {
			return out
		}
	}
	v := reflect.ValueOf(obj)
	return deepCopyValue(v).Interface().(T)
}

// copyInfo caches, per type, what a deep copy must follow.
type copyInfo struct {
	deep   bool  // values of the type can reference mutable memory
	fields []int // for a struct: the exported fields that are deep
}

var copyInfos sync.Map // reflect.Type -> *copyInfo

func copyInfoOf(t reflect.Type) *copyInfo {
	if ci, ok := copyInfos.Load(t); ok {
		return ci.(*copyInfo)
	}
	ci := &copyInfo{deep: needsCopy(t)}
	if t.Kind() == reflect.Struct {
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() && needsCopy(t.Field(i).Type) {
				ci.fields = append(ci.fields, i)
			}
		}
	}
	copyInfos.Store(t, ci)
	return ci
}

// deepCopyValue copies v, following pointers, slices, maps and interfaces.
func deepCopyValue(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		copyInto(out.Elem(), v.Elem())
		return out
	case reflect.Struct, reflect.Array:
		out := reflect.New(v.Type()).Elem()
		copyInto(out, v)
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		if !copyInfoOf(v.Type().Elem()).deep {
			reflect.Copy(out, v)
			return out
		}
		for i := 0; i < v.Len(); i++ {
			copyInto(out.Index(i), v.Index(i))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		deepVals := copyInfoOf(v.Type().Elem()).deep
		iter := v.MapRange()
		for iter.Next() {
			val := iter.Value()
			if deepVals {
				val = deepCopyValue(val)
			}
			out.SetMapIndex(iter.Key(), val)
		}
		return out
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(deepCopyValue(v.Elem()))
		return out
	default:
		return v
	}
}

// copyInto deep-copies src into dst, a settable value of the same type.
func copyInto(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Struct:
		dst.Set(src) // every field by value, unexported ones included
		for _, i := range copyInfoOf(src.Type()).fields {
			copyInto(dst.Field(i), src.Field(i))
		}
	case reflect.Array:
		dst.Set(src)
		if copyInfoOf(src.Type().Elem()).deep {
			for i := 0; i < src.Len(); i++ {
				copyInto(dst.Index(i), src.Index(i))
			}
		}
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		dst.Set(deepCopyValue(src))
	default:
		dst.Set(src)
	}
}

// needsCopy reports whether values of t can hold references to mutable
// memory, so that a plain assignment would alias. Recursive types end at
// the pointer, slice or map that makes them recursive.
func needsCopy(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return true
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() && needsCopy(t.Field(i).Type) {
				return true
			}
		}
		return false
	case reflect.Array:
		return needsCopy(t.Elem())
	default:
		return false
	}
}

// isNil reports whether obj is nil or a nil pointer, map, slice,
// interface, function or channel.
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
