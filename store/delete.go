package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
)

// validPropagation reports whether p is "" or one of the policies.
func validPropagation(p meta.DeletionPropagation) bool {
	switch p {
	case "", meta.DeletePropagationBackground, meta.DeletePropagationForeground, meta.DeletePropagationOrphan:
		return true
	}
	return false
}

// gcFinalizers returns the finalizers an object with finalizers fs gets
// from a Delete with policy p (def when p is ""), as Kubernetes' API server
// chooses them: an explicit policy replaces whichever of the orphan and
// foregroundDeletion finalizers the object has; without one, a finalizer an
// earlier Delete recorded stands, and only an object with neither gets the
// default's. changed reports whether the set of finalizers differs from fs;
// when it does not, fs is returned as it is.
func gcFinalizers(fs []string, p, def meta.DeletionPropagation) (out []string, changed bool) {
	if p == "" {
		if slices.Contains(fs, meta.FinalizerOrphanDependents) || slices.Contains(fs, meta.FinalizerDeleteDependents) {
			return fs, false
		}
		p = def
	}
	out = make([]string, 0, len(fs)+1)
	for _, f := range fs {
		if f != meta.FinalizerOrphanDependents && f != meta.FinalizerDeleteDependents {
			out = append(out, f)
		}
	}
	switch p {
	case meta.DeletePropagationOrphan:
		out = append(out, meta.FinalizerOrphanDependents)
	case meta.DeletePropagationForeground:
		out = append(out, meta.FinalizerDeleteDependents)
	}
	if sameSet(fs, out) {
		return fs, false
	}
	return out, true
}

// sameSet reports whether a and b hold the same strings, ignoring order
// and repeats.
func sameSet(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}

// Delete removes the named object and returns it as it was last stored,
// following opts.PropagationPolicy as Kubernetes' API server does:
//
//   - Background (the default): an object without finalizers is removed at
//     once; its dependents are left to a garbage collector.
//   - Foreground: the object gets the foregroundDeletion finalizer.
//   - Orphan: the object gets the orphan finalizer.
//
// An object with finalizers after that is not removed: Delete sets its
// deletionTimestamp (once) and returns it as updated, and it goes away when
// an update removes its last finalizer. Deleting an object that is already
// being deleted changes only its propagation finalizer, when the policy
// asks for another one (a Background Delete of an object waiting only on
// the orphan finalizer removes it at once). An unknown policy is Invalid;
// preconditions that do not hold give Conflict; a missing object gives
// NotFound.
func (s *Store[T]) Delete(ctx context.Context, namespace, name string, opts meta.DeleteOptions) (T, error) {
	var zero T
	if err := s.checkName(namespace, name); err != nil {
		return zero, err
	}
	if !validPropagation(opts.PropagationPolicy) {
		return zero, meta.NewInvalid("DeleteOptions", "", meta.Cause{Field: "propagationPolicy", Type: meta.CauseTypeFieldValueNotSupported,
			Message: fmt.Sprintf("unsupported value %q: supported values are %q, %q and %q", opts.PropagationPolicy,
				meta.DeletePropagationForeground, meta.DeletePropagationBackground, meta.DeletePropagationOrphan)})
	}
	def := s.res.DefaultPropagationPolicy
	if def == "" {
		def = meta.DeletePropagationBackground
	} else if !validPropagation(def) {
		return zero, meta.NewInternalError(fmt.Errorf("store: %s: unknown DefaultPropagationPolicy %q", s.res.Name, def))
	}
	for {
		cur, obj, err := s.read(ctx, namespace, name)
		if err != nil {
			return zero, err
		}
		m := obj.GetObjectMeta()
		if p := opts.Preconditions; p != nil {
			if p.UID != nil && *p.UID != m.UID {
				return zero, meta.NewConflict(s.res.Name, s.display(namespace, name),
					fmt.Sprintf("precondition failed: uid in precondition %s does not match stored uid %s", *p.UID, m.UID))
			}
			if p.ResourceVersion != nil && *p.ResourceVersion != m.ResourceVersion {
				return zero, meta.NewConflict(s.res.Name, s.display(namespace, name),
					fmt.Sprintf("precondition failed: resourceVersion in precondition %s does not match stored resourceVersion %s", *p.ResourceVersion, m.ResourceVersion))
			}
		}
		finalizers, changed := gcFinalizers(m.Finalizers, opts.PropagationPolicy, def)
		compare := []kv.Compare{{Key: cur.Key, Target: kv.CompareModRevision, Result: kv.Equal, Int: cur.ModRevision}}
		if len(finalizers) > 0 {
			if m.DeletionTimestamp != nil && !changed {
				return obj, nil // already being deleted, as asked
			}
			m.Finalizers = finalizers
			if m.DeletionTimestamp == nil {
				m.DeletionTimestamp = s.now()
				zeroGrace := int64(0)
				m.DeletionGracePeriodSeconds = &zeroGrace
			}
			data, err := s.encode(obj)
			if err != nil {
				return zero, err
			}
			resp, err := s.kv.Txn(ctx, kv.TxnRequest{Compare: compare, Success: []kv.Op{kv.OpPutKV(cur.Key, data)}})
			if err != nil {
				return zero, s.kvErr(err, namespace, name)
			}
			if !resp.Succeeded {
				continue
			}
			m.ResourceVersion = meta.FormatResourceVersion(resp.Revision)
			return obj, nil
		}
		resp, err := s.kv.Txn(ctx, kv.TxnRequest{Compare: compare, Success: []kv.Op{kv.OpDeleteKey(cur.Key)}})
		if err != nil {
			return zero, s.kvErr(err, namespace, name)
		}
		if !resp.Succeeded {
			continue
		}
		return obj, nil
	}
}
