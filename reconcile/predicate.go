package reconcile

import (
	"fmt"
	"maps"

	"github.com/governor-io/governor/store/meta"
)

// Predicate decides which informer events reach a controller's queue. Each
// method returns true to let the event through. Build them from [Funcs], the
// ready-made predicates below, and [And], [Or] and [Not].
type Predicate[T meta.Object] interface {
	// Create filters an added object. initial reports that the object
	// came with the informer's initial list.
	Create(obj T, initial bool) bool
	// Update filters a change from oldObj to newObj.
	Update(oldObj, newObj T) bool
	// Delete filters a deleted object (its last known state).
	Delete(obj T) bool
	// Generic filters an event that came from a channel or a resync.
	Generic(obj T) bool
}

// Funcs is a [Predicate] made of functions. A nil function lets every event
// of its kind through.
type Funcs[T meta.Object] struct {
	CreateFunc  func(obj T, initial bool) bool
	UpdateFunc  func(oldObj, newObj T) bool
	DeleteFunc  func(obj T) bool
	GenericFunc func(obj T) bool
}

// Create calls CreateFunc, or returns true.
func (f Funcs[T]) Create(obj T, initial bool) bool {
	return f.CreateFunc == nil || f.CreateFunc(obj, initial)
}

// Update calls UpdateFunc, or returns true.
func (f Funcs[T]) Update(oldObj, newObj T) bool {
	return f.UpdateFunc == nil || f.UpdateFunc(oldObj, newObj)
}

// Delete calls DeleteFunc, or returns true.
func (f Funcs[T]) Delete(obj T) bool { return f.DeleteFunc == nil || f.DeleteFunc(obj) }

// Generic calls GenericFunc, or returns true.
func (f Funcs[T]) Generic(obj T) bool { return f.GenericFunc == nil || f.GenericFunc(obj) }

// GenerationChanged lets through updates that change metadata.generation,
// that is, changes to the spec; status-only and metadata-only updates are
// dropped. Creates, deletes and generic events pass.
func GenerationChanged[T meta.Object]() Predicate[T] {
	return Funcs[T]{UpdateFunc: func(o, n T) bool {
		return o.GetObjectMeta().Generation != n.GetObjectMeta().Generation
	}}
}

// ResourceVersionChanged lets through updates that change the
// resourceVersion, dropping the no-op updates of an informer resync.
func ResourceVersionChanged[T meta.Object]() Predicate[T] {
	return Funcs[T]{UpdateFunc: func(o, n T) bool {
		return o.GetObjectMeta().ResourceVersion != n.GetObjectMeta().ResourceVersion
	}}
}

// LabelsChanged lets through updates that change the labels.
func LabelsChanged[T meta.Object]() Predicate[T] {
	return Funcs[T]{UpdateFunc: func(o, n T) bool {
		return !maps.Equal(o.GetObjectMeta().Labels, n.GetObjectMeta().Labels)
	}}
}

// AnnotationsChanged lets through updates that change the annotations.
func AnnotationsChanged[T meta.Object]() Predicate[T] {
	return Funcs[T]{UpdateFunc: func(o, n T) bool {
		return !maps.Equal(o.GetObjectMeta().Annotations, n.GetObjectMeta().Annotations)
	}}
}

// LabelSelector lets through the events of objects whose labels match
// selector (Kubernetes syntax, such as "app=web,tier in (a,b)"). An update
// passes when either the old or the new object matches, so that a
// controller sees an object leave the selection. A bad selector gives an
// error that matches [ErrInvalidOptions] and the store's Invalid or
// BadRequest error.
func LabelSelector[T meta.Object](selector string) (Predicate[T], error) {
	sel, err := meta.ParseLabelSelector(selector)
	if err != nil {
		return nil, fmt.Errorf("%w: label selector %q: %w", ErrInvalidOptions, selector, err)
	}
	match := func(obj T) bool { return sel.Matches(obj.GetObjectMeta().Labels) }
	return Funcs[T]{
		CreateFunc:  func(obj T, _ bool) bool { return match(obj) },
		UpdateFunc:  func(o, n T) bool { return match(o) || match(n) },
		DeleteFunc:  match,
		GenericFunc: match,
	}, nil
}

// And lets an event through when every predicate does. And() lets
// everything through.
func And[T meta.Object](preds ...Predicate[T]) Predicate[T] { return and[T](preds) }

type and[T meta.Object] []Predicate[T]

func (a and[T]) Create(obj T, initial bool) bool {
	for _, p := range a {
		if !p.Create(obj, initial) {
			return false
		}
	}
	return true
}

func (a and[T]) Update(o, n T) bool {
	for _, p := range a {
		if !p.Update(o, n) {
			return false
		}
	}
	return true
}

func (a and[T]) Delete(obj T) bool {
	for _, p := range a {
		if !p.Delete(obj) {
			return false
		}
	}
	return true
}

func (a and[T]) Generic(obj T) bool {
	for _, p := range a {
		if !p.Generic(obj) {
			return false
		}
	}
	return true
}

// Or lets an event through when any predicate does. Or() lets nothing
// through.
func Or[T meta.Object](preds ...Predicate[T]) Predicate[T] { return or[T](preds) }

type or[T meta.Object] []Predicate[T]

func (a or[T]) Create(obj T, initial bool) bool {
	for _, p := range a {
		if p.Create(obj, initial) {
			return true
		}
	}
	return false
}

func (a or[T]) Update(o, n T) bool {
	for _, p := range a {
		if p.Update(o, n) {
			return true
		}
	}
	return false
}

func (a or[T]) Delete(obj T) bool {
	for _, p := range a {
		if p.Delete(obj) {
			return true
		}
	}
	return false
}

func (a or[T]) Generic(obj T) bool {
	for _, p := range a {
		if p.Generic(obj) {
			return true
		}
	}
	return false
}

// Not inverts p.
func Not[T meta.Object](p Predicate[T]) Predicate[T] { return not[T]{p} }

type not[T meta.Object] struct{ p Predicate[T] }

func (n not[T]) Create(obj T, initial bool) bool { return !n.p.Create(obj, initial) }
func (n not[T]) Update(o, nw T) bool             { return !n.p.Update(o, nw) }
func (n not[T]) Delete(obj T) bool               { return !n.p.Delete(obj) }
func (n not[T]) Generic(obj T) bool              { return !n.p.Generic(obj) }
