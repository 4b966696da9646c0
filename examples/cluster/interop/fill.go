package interop

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"time"
)

// Filler sets every field of a value, recursively, to a pseudo-random
// non-zero value drawn from a seeded source, so that a run is
// repeatable. Special returns a value for the types that need one (a
// quantity must parse, raw JSON must be JSON); it reports false to let
// the filler recurse.
type Filler struct {
	Rand *rand.Rand
	// MaxDepth bounds recursion through self-referential types (an
	// OpenAPI schema holds schemas).
	MaxDepth int
	Special  func(f *Filler, t reflect.Type) (reflect.Value, bool)
	// Skip leaves fields of these types at their zero value.
	Skip map[reflect.Type]bool
}

// NewFiller returns a Filler seeded with seed.
func NewFiller(seed uint64) *Filler {
	return &Filler{Rand: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), MaxDepth: 4}
}

// Fill sets every field of *ptr.
func (f *Filler) Fill(ptr any) {
	v := reflect.ValueOf(ptr).Elem()
	v.Set(f.value(v.Type(), 0))
}

// String returns a short random lowercase word.
func (f *Filler) String() string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 3+f.Rand.IntN(6))
	for i := range b {
		b[i] = letters[f.Rand.IntN(len(letters))]
	}
	return string(b)
}

// Time returns a random time, to the second, in UTC.
func (f *Filler) Time() time.Time {
	return time.Unix(1_600_000_000+f.Rand.Int64N(200_000_000), 0).UTC()
}

// JSON returns a small random JSON object.
func (f *Filler) JSON() json.RawMessage {
	b, _ := json.Marshal(map[string]any{f.String(): f.String(), f.String(): []any{f.Rand.IntN(100), true}})
	return b
}

func (f *Filler) value(t reflect.Type, depth int) reflect.Value {
	if f.Special != nil {
		if v, ok := f.Special(f, t); ok {
			return v
		}
	}
	v := reflect.New(t).Elem()
	if f.Skip[t] {
		return v
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString(f.String())
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1 + f.Rand.Int64N(100))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1 + f.Rand.Uint64N(100))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(1+f.Rand.IntN(1000)) / 4)
	case reflect.Pointer:
		if depth >= f.MaxDepth && recursive(t.Elem()) {
			return v
		}
		p := reflect.New(t.Elem())
		p.Elem().Set(f.value(t.Elem(), depth+1))
		v.Set(p)
	case reflect.Slice:
		if depth >= f.MaxDepth && recursive(t.Elem()) {
			return v
		}
		n := 1 + f.Rand.IntN(2)
		s := reflect.MakeSlice(t, n, n)
		for i := range n {
			s.Index(i).Set(f.value(t.Elem(), depth+1))
		}
		v.Set(s)
	case reflect.Map:
		if depth >= f.MaxDepth && recursive(t.Elem()) {
			return v
		}
		m := reflect.MakeMap(t)
		for range 1 + f.Rand.IntN(2) {
			m.SetMapIndex(f.value(t.Key(), depth+1), f.value(t.Elem(), depth+1))
		}
		v.Set(m)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if !t.Field(i).IsExported() || t.Field(i).Tag.Get("json") == "-" {
				continue
			}
			v.Field(i).Set(f.value(t.Field(i).Type, depth+1))
		}
	case reflect.Interface:
		// Left nil: no API type has an interface-typed field on the wire.
	default:
		panic(fmt.Sprintf("interop: cannot fill %s", t))
	}
	return v
}

// recursive reports whether t can contain itself, so that filling it
// must stop at some depth.
func recursive(t reflect.Type) bool {
	return reaches(t, t, map[reflect.Type]bool{})
}

func reaches(from, target reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[from] {
		return false
	}
	seen[from] = true
	switch from.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Array:
		e := from.Elem()
		return e == target || reaches(e, target, seen)
	case reflect.Struct:
		for i := 0; i < from.NumField(); i++ {
			ft := from.Field(i).Type
			if ft == target || reaches(ft, target, seen) {
				return true
			}
		}
	}
	return false
}
