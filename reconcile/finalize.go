package reconcile

import (
	"context"
	"errors"

	"github.com/governor-io/governor/store/meta"
)

// Finalize runs the finalizer protocol on obj, an object of c, so that a
// reconciler does not write it by hand:
//
//   - obj is not being deleted: Finalize adds finalizer to it, writing only
//     if it was missing, and returns the object as stored and false.
//   - obj is being deleted and has finalizer: Finalize calls cleanup, and
//     once cleanup succeeds it removes finalizer (the store deletes obj
//     when no finalizer is left), and returns true.
//   - obj is being deleted without finalizer: there is nothing left to do
//     and it returns obj and true.
//
// A reconciler stops when deleting is true or err is not nil:
//
//	b, deleting, err := reconcile.Finalize(ctx, r.backups, b, "example.io/cleanup", r.cleanup)
//	if deleting || err != nil {
//		return reconcile.Done(), err
//	}
//
// The writes are [Client.Mutate]s: they retry on Conflict and are recorded
// for read-your-own-writes. On an error the object returned is obj.
func Finalize[T meta.Object](ctx context.Context, c *Client[T], obj T, finalizer string, cleanup func(context.Context, T) error) (out T, deleting bool, err error) {
	if obj.GetObjectMeta().DeletionTimestamp == nil {
		out, err := c.Mutate(ctx, obj, func(o T) error { meta.AddFinalizer(o, finalizer); return nil })
		if err != nil {
			return obj, false, err
		}
		return out, false, nil
	}
	if !meta.ContainsFinalizer(obj, finalizer) {
		return obj, true, nil
	}
	if err := cleanup(ctx, obj); err != nil {
		return obj, true, err
	}
	out, err = c.Mutate(ctx, obj, func(o T) error { meta.RemoveFinalizer(o, finalizer); return nil })
	if err != nil {
		return obj, true, err
	}
	return out, true, nil
}

// IgnoreNotFound returns nil for an error matching [meta.ErrNotFound] and
// err otherwise: a reconcile whose object is gone has nothing to do.
//
//	b, err := r.backups.Get(req.Namespace, req.Name)
//	if err != nil {
//		return reconcile.Done(), reconcile.IgnoreNotFound(err)
//	}
func IgnoreNotFound(err error) error {
	if errors.Is(err, meta.ErrNotFound) {
		return nil
	}
	return err
}
