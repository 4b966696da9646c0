package reconcile

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/governor-io/governor/store/meta"
)

// GuaranteedUpdateStatus reads namespace/name from the store, mutates it
// and writes its status, retrying on Conflict (see
// [store.Store.GuaranteedUpdateStatus]), and records the write.
func (c *Client[T]) GuaranteedUpdateStatus(ctx context.Context, namespace, name string, mutate func(T) (T, error)) (T, error) {
	out, err := c.st.GuaranteedUpdateStatus(ctx, namespace, name, mutate)
	if err == nil {
		c.recordWrite(ctx, out)
	}
	return out, err
}

// PatchStatus applies a JSON merge patch to the status of namespace/name in
// the store (see [store.Store.PatchStatus]) and records the write.
func (c *Client[T]) PatchStatus(ctx context.Context, namespace, name string, mergePatch []byte) (T, error) {
	out, err := c.st.PatchStatus(ctx, namespace, name, mergePatch)
	if err == nil {
		c.recordWrite(ctx, out)
	}
	return out, err
}

// Mutate changes obj, typically the shared copy from [Client.Get], and
// writes the change with [Client.Update]. mutate runs on a private copy
// and never on obj itself. When mutate changes nothing, nothing is written
// and the copy is returned. When the write meets a Conflict (the cache was
// behind the store, or another writer got there first), Mutate reads the
// latest version from the store and applies mutate to it again, until a
// write succeeds; mutate may therefore run several times. If the object was
// deleted and recreated under the same name meanwhile, mutate is not
// applied to the new one and Mutate returns a Conflict.
//
// The write is recorded for read-your-own-writes. Status changes are not
// written: use [Client.MutateStatus] for those. Finalizers fit here:
//
//	_, err := c.Mutate(ctx, backup, func(b *Backup) error {
//		meta.AddFinalizer(b, "example.io/cleanup")
//		return nil
//	})
func (c *Client[T]) Mutate(ctx context.Context, obj T, mutate func(T) error) (T, error) {
	return c.mutate(ctx, obj, mutate, c.Update, c.GuaranteedUpdate)
}

// MutateStatus is [Client.Mutate] for the status: it writes with
// [Client.UpdateStatus], and on Conflict with
// [Client.GuaranteedUpdateStatus]. Only the status of what mutate leaves is
// written.
func (c *Client[T]) MutateStatus(ctx context.Context, obj T, mutate func(T) error) (T, error) {
	return c.mutate(ctx, obj, mutate, c.UpdateStatus, c.GuaranteedUpdateStatus)
}

func (c *Client[T]) mutate(ctx context.Context, obj T, mutate func(T) error,
	update func(context.Context, T) (T, error),
	guaranteed func(context.Context, string, string, func(T) (T, error)) (T, error)) (T, error) {
	var zero T
	res := c.st.Resource()
	before, err := res.Encode(obj)
	if err != nil {
		return zero, err
	}
	n := meta.DeepCopy(obj)
	if err := mutate(n); err != nil {
		return zero, err
	}
	after, err := res.Encode(n)
	if err != nil {
		return zero, err
	}
	if bytes.Equal(before, after) {
		return n, nil // nothing to write
	}
	out, err := update(ctx, n)
	if !errors.Is(err, meta.ErrConflict) {
		return out, err
	}
	m := obj.GetObjectMeta()
	uid := m.UID
	return guaranteed(ctx, m.Namespace, m.Name, func(cur T) (T, error) {
		if cm := cur.GetObjectMeta(); uid != "" && cm.UID != uid {
			return zero, meta.NewConflict(res.Name, cm.Key(),
				fmt.Sprintf("the object was deleted and recreated (uid %s, was %s)", cm.UID, uid))
		}
		return cur, mutate(cur)
	})
}
