package gc

import (
	"context"

	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
)

// ForStore returns the [Resource] of an in-process store. Its Info comes
// from the store's [store.Resource], which must name a Kind and an
// APIVersion for owner references to match it.
//
// The collector made by [New] does not watch the store through
// ListerWatcher: it shares the manager's informer of the store's type
// ([reconcile.InformerFor]), the one the manager's controllers and clients
// use, so that in-process collection adds no cache of its own.
func ForStore[T meta.Object](st *store.Store[T]) Resource { return &storeResource[T]{st: st} }

type storeResource[T meta.Object] struct{ st *store.Store[T] }

func (r *storeResource[T]) Info() Info {
	res := r.st.Resource()
	return Info{Resource: res.Name, APIVersion: res.APIVersion, Kind: res.Kind, Namespaced: res.Namespaced}
}

func (r *storeResource[T]) ListerWatcher() informer.ListerWatcher[*meta.PartialObjectMetadata] {
	// The store hands out fresh objects: no copy is needed.
	return informer.Project(informer.ListerWatcher[T](r.st), func(obj T) *meta.PartialObjectMetadata {
		return &meta.PartialObjectMetadata{TypeMeta: *obj.GetTypeMeta(), ObjectMeta: *obj.GetObjectMeta()}
	})
}

func (r *storeResource[T]) Get(ctx context.Context, namespace, name string) (*meta.PartialObjectMetadata, error) {
	obj, err := r.st.Get(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	return &meta.PartialObjectMetadata{TypeMeta: *obj.GetTypeMeta(), ObjectMeta: *obj.GetObjectMeta()}, nil
}

func (r *storeResource[T]) Delete(ctx context.Context, namespace, name string, opts meta.DeleteOptions) error {
	_, err := r.st.Delete(ctx, namespace, name, opts)
	return err
}

func (r *storeResource[T]) UpdateMetadata(ctx context.Context, namespace, name, uid string, mutate func(*meta.ObjectMeta) bool) error {
	_, err := r.st.GuaranteedUpdate(ctx, namespace, name, func(obj T) (T, error) {
		m := obj.GetObjectMeta()
		if m.UID != uid {
			var zero T
			return zero, meta.NewNotFound(r.st.Resource().Name, meta.NameOf(obj).String()+" with uid "+uid)
		}
		// GuaranteedUpdate writes nothing when nothing changed.
		mutate(m)
		return obj, nil
	})
	return err
}

// source returns the source of the graph's events about the store's
// objects: a handler on the manager's shared informer of T.
func (r *storeResource[T]) source(mgr *reconcile.Manager, g *graph, res int) (reconcile.Source[Request], error) {
	inf, err := reconcile.InformerFor(mgr, r.st)
	if err != nil {
		return nil, err
	}
	return newSource(inf, g, res), nil
}
