package informer

import (
	"github.com/governor-io/governor/store/meta"
)

// Lister reads an informer's [Cache] by namespace/name, by namespace, by
// label selector and by index.
//
// Every object a Lister returns is SHARED AND READ-ONLY: it is the cached
// object itself. Take a private copy with [meta.DeepCopy] before changing
// anything.
type Lister[T meta.Object] struct {
	c *Cache[T]
}

// NewLister returns a Lister over c.
func NewLister[T meta.Object](c *Cache[T]) *Lister[T] { return &Lister[T]{c: c} }

// Get returns the object namespace/name (name alone for a cluster-scoped
// type), whatever the cache's [KeyFunc].
func (l *Lister[T]) Get(namespace, name string) (T, bool) { return l.c.getByName(namespace, name) }

// GetByKey returns the object stored under key.
func (l *Lister[T]) GetByKey(key string) (T, bool) { return l.c.Get(key) }

// List returns the objects whose labels match selector, in Kubernetes'
// label selector syntax ("app=web,tier in (front,back),!legacy"). The empty
// selector matches everything. A bad selector gives the error of
// [meta.ParseLabelSelector].
func (l *Lister[T]) List(selector string) ([]T, error) { return l.list("", selector) }

// ByNamespace returns a view of the objects in one namespace.
func (l *Lister[T]) ByNamespace(namespace string) NamespaceLister[T] {
	return NamespaceLister[T]{l: l, namespace: namespace}
}

// ByIndex returns the objects under value in the named index.
func (l *Lister[T]) ByIndex(index, value string) ([]T, error) { return l.c.ByIndex(index, value) }

// IndexKeys returns the keys of the objects under value in the named index.
func (l *Lister[T]) IndexKeys(index, value string) ([]string, error) {
	return l.c.IndexKeys(index, value)
}

// Len returns the number of cached objects.
func (l *Lister[T]) Len() int { return l.c.Len() }

func (l *Lister[T]) list(namespace, selector string) ([]T, error) {
	sel, err := meta.ParseLabelSelector(selector)
	if err != nil {
		return nil, err
	}
	if sel.Empty() {
		return l.c.listNamespace(namespace, func(T) bool { return true }), nil
	}
	return l.c.listNamespace(namespace, func(obj T) bool {
		return sel.Matches(obj.GetObjectMeta().Labels)
	}), nil
}

// NamespaceLister reads the objects of one namespace. Like [Lister], it
// returns shared, read-only objects.
type NamespaceLister[T meta.Object] struct {
	l         *Lister[T]
	namespace string
}

// Get returns the named object of the namespace.
func (n NamespaceLister[T]) Get(name string) (T, bool) { return n.l.Get(n.namespace, name) }

// List returns the objects of the namespace whose labels match selector.
func (n NamespaceLister[T]) List(selector string) ([]T, error) {
	return n.l.list(n.namespace, selector)
}
