package interop_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/governor-io/governor/examples/cluster/interop"
)

// TestDeepCopySharesNothing fills each of our types completely, opaque
// JSON included, and checks that its generated DeepCopy is equal to it
// and shares no pointer, slice or map with it.
func TestDeepCopySharesNothing(t *testing.T) {
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			for seed := range uint64(4) {
				obj := p.ours()
				f := oursFiller(seed)
				f.Skip = nil
				inner := f.Special
				f.Special = func(f *interop.Filler, t reflect.Type) (reflect.Value, bool) {
					if t == reflect.TypeFor[json.RawMessage]() {
						return reflect.ValueOf(f.JSON()), true
					}
					return inner(f, t)
				}
				f.Fill(obj)
				m := reflect.ValueOf(obj).MethodByName("DeepCopy")
				if !m.IsValid() {
					t.Fatalf("%T has no DeepCopy method", obj)
				}
				cp := m.Call(nil)[0].Interface()
				if !reflect.DeepEqual(obj, cp) {
					t.Fatalf("seed %d: DeepCopy of %T differs", seed, obj)
				}
				if path := shared(reflect.ValueOf(obj), reflect.ValueOf(cp), ""); path != "" {
					t.Fatalf("seed %d: DeepCopy of %T shares %s", seed, obj, path)
				}
			}
		})
	}
}

// shared returns the path of the first pointer, slice or map that a and
// b share, or "".
func shared(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer:
		// Zero-size values may all live at one address.
		if a.IsNil() || b.IsNil() || a.Type().Elem().Size() == 0 {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		return shared(a.Elem(), b.Elem(), path)
	case reflect.Slice:
		if a.Len() == 0 || b.Len() == 0 {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		for i := 0; i < a.Len(); i++ {
			if p := shared(a.Index(i), b.Index(i), path+"[]"); p != "" {
				return p
			}
		}
	case reflect.Map:
		if a.IsNil() || b.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		for _, k := range a.MapKeys() {
			if p := shared(a.MapIndex(k), b.MapIndex(k), path+"[key]"); p != "" {
				return p
			}
		}
	case reflect.Struct:
		if a.Type().PkgPath() == "time" {
			return ""
		}
		for i := 0; i < a.NumField(); i++ {
			if !a.Type().Field(i).IsExported() {
				continue
			}
			if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
				return p
			}
		}
	}
	return ""
}
