package api

import (
	"time"

	"github.com/governor-io/governor/store/meta"
)

// Erase returns t with its type parameter erased to [meta.Object], so
// that resources of different Go types can sit in one list (package
// api/builtin) and go through one instantiation of generic code such as
// an API server's Register. Every function of the result asserts its
// argument to T, so it must only be given objects that New made.
//
// New still returns T's concrete type, and the store decodes into it,
// but code that reflects on the type parameter sees only the interface:
// the store then finds spec and status changes through JSON rather than
// struct fields, and a strategic merge patch that reads struct tags
// through reflect.TypeFor[T] finds none. Register the typed value
// wherever that matters, as apiserver.InstallBuiltins does.
func (t Type[T]) Erase() Type[meta.Object] {
	if e, ok := any(t).(Type[meta.Object]); ok {
		return e
	}
	out := Type[meta.Object]{
		Group: t.Group, Version: t.Version, Kind: t.Kind, Resource: t.Resource, Singular: t.Singular,
		Namespaced: t.Namespaced, ShortNames: t.ShortNames, Categories: t.Categories,
		Subresources: t.Subresources, Columns: t.Columns,
	}
	if t.Fields != nil {
		out.Fields = make(map[string]func(meta.Object) string, len(t.Fields))
		for name, f := range t.Fields {
			out.Fields[name] = func(o meta.Object) string { return f(o.(T)) }
		}
	}
	if f := t.Cells; f != nil {
		out.Cells = func(o meta.Object, now time.Time) []any { return f(o.(T), now) }
	}
	if f := t.Default; f != nil {
		out.Default = func(o meta.Object) { f(o.(T)) }
	}
	if f := t.Validate; f != nil {
		out.Validate = func(o meta.Object) []meta.Cause { return f(o.(T)) }
	}
	if f := t.ValidateUpdate; f != nil {
		out.ValidateUpdate = func(o, n meta.Object) []meta.Cause { return f(o.(T), n.(T)) }
	}
	if s := t.Scale; s != nil {
		out.Scale = &ScaleAccess[meta.Object]{
			SpecReplicas:    func(o meta.Object) int32 { return s.SpecReplicas(o.(T)) },
			SetSpecReplicas: func(o meta.Object, n int32) { s.SetSpecReplicas(o.(T), n) },
			StatusReplicas:  func(o meta.Object) int32 { return s.StatusReplicas(o.(T)) },
			Selector:        func(o meta.Object) string { return s.Selector(o.(T)) },
		}
	}
	if f := t.New; f != nil {
		out.New = func() meta.Object { return f() }
	}
	return out
}
