package reconciletest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/reconcile/reconciletest"
	"github.com/governor-io/governor/store"
)

// Parent owns one Child.
type Parent struct {
	store.TypeMeta
	store.ObjectMeta `json:"metadata"`
}

// Child is owned by a Parent.
type Child struct {
	store.TypeMeta
	store.ObjectMeta `json:"metadata"`
}

// A controller that owns children, wired by NewController and tested by
// creating its object, settling and asserting on the store.
func ExampleNewController() {
	t := &testing.T{} // in a real test, the *testing.T of the test
	env := reconciletest.New(t)
	parents := reconciletest.AddInformer(env, store.Resource[*Parent]{Name: "parents", Kind: "Parent", APIVersion: "example.io/v1", Namespaced: true})
	children := reconciletest.AddInformer(env, store.Resource[*Child]{Name: "children", Kind: "Child", APIVersion: "example.io/v1", Namespaced: true})
	pc, cc := parents.Client(env), children.Client(env)
	r := reconcile.Func[reconcile.Request](func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		p, err := pc.Get(req.Namespace, req.Name)
		if errors.Is(err, store.ErrNotFound) {
			return reconcile.Done(), nil
		}
		if _, err := cc.Get(p.Namespace, p.Name+"-child"); err == nil {
			return reconcile.Done(), nil
		}
		yes := true
		_, err = cc.Create(ctx, &Child{ObjectMeta: store.ObjectMeta{Namespace: p.Namespace, Name: p.Name + "-child",
			OwnerReferences: []store.OwnerReference{{APIVersion: p.APIVersion, Kind: p.Kind, Name: p.Name, UID: p.UID, Controller: &yes}}}})
		return reconcile.Done(), err
	})
	reconciletest.NewController(env, "parent", r, reconcile.Options[reconcile.Request]{},
		reconcile.For(parents.Store), reconcile.Owns(children.Store))
	env.Start()
	defer env.KV.Close() // a real test's cleanup does both
	defer env.Stop()

	ctx := context.Background()
	childNames := func() []string {
		l, _ := children.Store.List(ctx, store.ListOptions{})
		var names []string
		for _, c := range l.Items {
			names = append(names, c.Name)
		}
		return names
	}
	_, _ = parents.Store.Create(ctx, &Parent{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "p"}})
	env.Settle()
	fmt.Println("children:", childNames())
	_, _ = children.Store.Delete(ctx, "ns", "p-child", store.DeleteOptions{})
	env.Settle()
	fmt.Println("after deleting the child:", childNames())
	// Output:
	// children: [p-child]
	// after deleting the child: [p-child]
}
