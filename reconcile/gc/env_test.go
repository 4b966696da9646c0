package gc_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/reconcile/gc"
	"github.com/governor-io/governor/reconcile/reconciletest"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
)

// The test types: two namespaced kinds and a cluster-scoped one.
type Widget struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
}

type Gadget struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
}

type Rack struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
}

var (
	widgetResource = store.Resource[*Widget]{Name: "widgets", Kind: "Widget", APIVersion: "example.io/v1", Namespaced: true}
	gadgetResource = store.Resource[*Gadget]{Name: "gadgets", Kind: "Gadget", APIVersion: "example.io/v1", Namespaced: true}
	rackResource   = store.Resource[*Rack]{Name: "racks", Kind: "Rack", APIVersion: "infra.example.io/v1"}
)

// hold is a finalizer the tests put on an object to keep it in deletion.
const hold = "example.io/hold"

// env is a reconciletest Env with three stores and a collector over them.
type env struct {
	*reconciletest.Env
	ctx     context.Context
	widgets *store.Store[*Widget]
	gadgets *store.Store[*Gadget]
	racks   *store.Store[*Rack]
	gc      *reconcile.Controller[gc.Request]
}

// wraps replace the Resources the collector is given, by resource name.
type wraps map[string]func(*env, gc.Resource) gc.Resource

// newEnv starts a collector over the three stores, through w's wrappers.
func newEnv(t *testing.T, w wraps) *env {
	t.Helper()
	re := reconciletest.New(t)
	e := &env{Env: re,
		widgets: reconciletest.AddInformer(re, widgetResource).Store,
		gadgets: reconciletest.AddInformer(re, gadgetResource).Store,
		racks:   reconciletest.AddInformer(re, rackResource).Store,
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	e.ctx = ctx
	resources := []gc.Resource{gc.ForStore(e.widgets), gc.ForStore(e.gadgets), gc.ForStore(e.racks)}
	for i, r := range resources {
		if f := w[r.Info().Resource]; f != nil {
			resources[i] = f(e, r)
		}
	}
	ctrl, err := gc.New(re.Manager, gc.Options{Workers: 4}, resources...)
	if err != nil {
		t.Fatal(err)
	}
	e.gc = ctrl
	re.Start()
	e.settle()
	return e
}

// settle waits until nothing is left to do: the Env's Settle covers the
// collector, a controller of its manager, and the informers it shares.
func (e *env) settle() {
	e.T.Helper()
	e.Settle()
}

// ref returns a reference to owner.
func ref(owner meta.Object, block bool) meta.OwnerReference {
	tm, m := owner.GetTypeMeta(), owner.GetObjectMeta()
	return meta.OwnerReference{APIVersion: tm.APIVersion, Kind: tm.Kind, Name: m.Name, UID: m.UID, BlockOwnerDeletion: &block}
}

func objectMeta(ns, name string, finalizers []string, owners []meta.OwnerReference) meta.ObjectMeta {
	return meta.ObjectMeta{Namespace: ns, Name: name, Finalizers: finalizers, OwnerReferences: owners}
}

func (e *env) widget(ns, name string, finalizers []string, owners ...meta.OwnerReference) *Widget {
	e.T.Helper()
	w, err := e.widgets.Create(e.ctx, &Widget{ObjectMeta: objectMeta(ns, name, finalizers, owners)})
	if err != nil {
		e.T.Fatalf("%v", err)
	}
	return w
}

func (e *env) gadget(ns, name string, finalizers []string, owners ...meta.OwnerReference) *Gadget {
	e.T.Helper()
	g, err := e.gadgets.Create(e.ctx, &Gadget{ObjectMeta: objectMeta(ns, name, finalizers, owners)})
	if err != nil {
		e.T.Fatalf("%v", err)
	}
	return g
}

func (e *env) rack(name string, owners ...meta.OwnerReference) *Rack {
	e.T.Helper()
	r, err := e.racks.Create(e.ctx, &Rack{ObjectMeta: objectMeta("", name, nil, owners)})
	if err != nil {
		e.T.Fatalf("%v", err)
	}
	return r
}

// get returns the stored object, or nil when it is gone.
func get[T meta.Object](e *env, st *store.Store[T], ns, name string) *meta.ObjectMeta {
	e.T.Helper()
	obj, err := st.Get(e.ctx, ns, name)
	if errors.Is(err, meta.ErrNotFound) {
		return nil
	}
	if err != nil {
		e.T.Fatalf("%v", err)
	}
	return obj.GetObjectMeta()
}

// release removes the hold finalizer from a stored object.
func release[T meta.Object](e *env, st *store.Store[T], ns, name string) {
	e.T.Helper()
	_, err := st.GuaranteedUpdate(e.ctx, ns, name, func(obj T) (T, error) {
		meta.RemoveFinalizer(obj, hold)
		return obj, nil
	})
	if err != nil {
		e.T.Fatalf("%v", err)
	}
}

// del deletes a stored object with policy p.
func del[T meta.Object](e *env, st *store.Store[T], ns, name string, p meta.DeletionPropagation) {
	e.T.Helper()
	if _, err := st.Delete(e.ctx, ns, name, meta.DeleteOptions{PropagationPolicy: p}); err != nil {
		e.T.Fatalf("%v", err)
	}
}

func ownerUIDs(m *meta.ObjectMeta) []string {
	var uids []string
	for _, r := range m.OwnerReferences {
		uids = append(uids, r.UID)
	}
	slices.Sort(uids)
	return uids
}
