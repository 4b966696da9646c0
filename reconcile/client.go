package reconcile

import (
	"context"
	"fmt"

	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
)

// Client reads objects of one type from an informer's cache and writes them
// through the [store.Store], recording each write in a [Freshness] so that
// the next reconcile of the same request sees its own writes. Use it inside
// Reconcile with the context the controller passed in; writes made with any
// other context are not recorded.
//
// Objects that Get and List return are shared with the cache and are
// read-only: copy them with [meta.DeepCopy] before changing them.
type Client[T meta.Object] struct {
	st    *store.Store[T]
	inf   *informer.Informer[T]
	fresh *Freshness
	id    *cacheID
}

// NewClient returns a Client over st and inf. It registers a handler on inf
// that tells fresh what the cache has seen. A nil fresh gives a client that
// records nothing.
func NewClient[T meta.Object](st *store.Store[T], inf *informer.Informer[T], fresh *Freshness) (*Client[T], error) {
	if st == nil || inf == nil {
		return nil, fmt.Errorf("%w: client needs a store and an informer", ErrInvalidOptions)
	}
	c := &Client[T]{st: st, inf: inf, fresh: fresh, id: &cacheID{}}
	if fresh == nil {
		return c, nil
	}
	observe := func(obj T, deleted bool) {
		m := obj.GetObjectMeta()
		fresh.observe(c.id, m.Key(), rvOf(obj), deleted)
	}
	_, err := inf.AddHandler(informer.HandlerFuncs[T]{
		AddFunc:    func(obj T, _ bool) { observe(obj, false) },
		UpdateFunc: func(_, obj T) { observe(obj, false) },
		DeleteFunc: func(obj T, _ bool) { observe(obj, true) },
	})
	if err != nil {
		return nil, fmt.Errorf("reconcile: client: add informer handler: %w", err)
	}
	return c, nil
}

// Store returns the underlying store.
func (c *Client[T]) Store() *store.Store[T] { return c.st }

// Get returns the cached object namespace/name, shared and read-only, or a
// NotFound error.
func (c *Client[T]) Get(namespace, name string) (T, error) {
	obj, ok := c.inf.Lister().Get(namespace, name)
	if !ok {
		var zero T
		return zero, meta.NewNotFound("object", meta.NamespacedName{Namespace: namespace, Name: name}.String())
	}
	return obj, nil
}

// List returns the cached objects of namespace ("" for all) whose labels
// match selector ("" for all). They are shared and read-only.
func (c *Client[T]) List(namespace, selector string) ([]T, error) {
	if namespace == "" {
		return c.inf.Lister().List(selector)
	}
	return c.inf.Lister().ByNamespace(namespace).List(selector)
}

// Create creates obj in the store and records the write.
func (c *Client[T]) Create(ctx context.Context, obj T) (T, error) {
	out, err := c.st.Create(ctx, obj)
	if err == nil {
		c.recordWrite(ctx, out)
	}
	return out, err
}

// Update updates obj in the store (Conflict when its resourceVersion is
// stale) and records the write.
func (c *Client[T]) Update(ctx context.Context, obj T) (T, error) {
	out, err := c.st.Update(ctx, obj)
	if err == nil {
		c.recordWrite(ctx, out)
	}
	return out, err
}

// UpdateStatus updates obj's status in the store and records the write.
func (c *Client[T]) UpdateStatus(ctx context.Context, obj T) (T, error) {
	out, err := c.st.UpdateStatus(ctx, obj)
	if err == nil {
		c.recordWrite(ctx, out)
	}
	return out, err
}

// Patch applies a JSON merge patch in the store and records the write.
func (c *Client[T]) Patch(ctx context.Context, namespace, name string, mergePatch []byte) (T, error) {
	out, err := c.st.Patch(ctx, namespace, name, mergePatch)
	if err == nil {
		c.recordWrite(ctx, out)
	}
	return out, err
}

// GuaranteedUpdate reads, mutates and writes namespace/name in the store,
// retrying on Conflict, and records the write.
func (c *Client[T]) GuaranteedUpdate(ctx context.Context, namespace, name string, mutate func(T) (T, error)) (T, error) {
	out, err := c.st.GuaranteedUpdate(ctx, namespace, name, mutate)
	if err == nil {
		c.recordWrite(ctx, out)
	}
	return out, err
}

// Delete deletes namespace/name in the store and records the write: the
// next reconcile waits until the cache no longer holds the object (or, when
// finalizers keep it, holds it marked for deletion).
func (c *Client[T]) Delete(ctx context.Context, namespace, name string, opts meta.DeleteOptions) (T, error) {
	out, err := c.st.Delete(ctx, namespace, name, opts)
	if err != nil || c.fresh == nil {
		return out, err
	}
	m := out.GetObjectMeta()
	if m.DeletionTimestamp != nil && len(m.Finalizers) > 0 {
		c.recordWrite(ctx, out) // still stored, marked for deletion
		return out, nil
	}
	c.recordGone(ctx, namespace, name, m.UID)
	return out, nil
}

// recordGone records a write that removed namespace/name from the store.
func (c *Client[T]) recordGone(ctx context.Context, namespace, name, uid string) {
	key := meta.NamespacedName{Namespace: namespace, Name: name}
	c.fresh.record(ctx, objRef{cache: c.id, key: key.String()}, 0, true, func() bool {
		cur, ok := c.inf.Lister().Get(key.Namespace, key.Name)
		return !ok || (uid != "" && cur.GetObjectMeta().UID != uid)
	})
}

func (c *Client[T]) recordWrite(ctx context.Context, obj T) {
	if c.fresh == nil {
		return
	}
	m := obj.GetObjectMeta()
	if m.DeletionTimestamp != nil && len(m.Finalizers) == 0 {
		// The write removed the last finalizer of a deleted object: the
		// store deleted it, so wait for it to leave the cache.
		c.recordGone(ctx, m.Namespace, m.Name, m.UID)
		return
	}
	ns, name, rv := m.Namespace, m.Name, rvOf(obj)
	c.fresh.record(ctx, objRef{cache: c.id, key: m.Key()}, rv, false, func() bool {
		cur, ok := c.inf.Lister().Get(ns, name)
		return ok && rvOf(cur) >= rv
	})
}
