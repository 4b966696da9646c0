package reconcile_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// A reconcile changes objects it read from the cache with Mutate and
// MutateStatus: they work on a private copy, write only when something
// changed, and retry on Conflict against the latest version.
func ExampleClient_MutateStatus() {
	ctx, cancel := context.WithCancel(context.Background())
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	st := store.New[*sprocket](engine, store.Resource[*sprocket]{Name: "sprockets", Kind: "Sprocket", APIVersion: "example.io/v1", Namespaced: true})
	_, _ = st.Create(ctx, &sprocket{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "g"}})

	inf := informer.New[*sprocket](st, informer.Options[*sprocket]{Logger: slog.New(slog.DiscardHandler)})
	client, _ := reconcile.NewClient(st, inf, reconcile.NewFreshness())
	done := make(chan struct{})
	go func() { _ = inf.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	informer.WaitForCacheSync(ctx, inf)

	g, _ := client.Get("ns", "g") // shared with the cache: never modify it
	for range 2 {
		var err error
		g, err = client.Mutate(ctx, g, func(g *sprocket) error {
			meta.AddFinalizer(g, "example.io/cleanup")
			return nil
		})
		fmt.Println("finalizers", g.Finalizers, "resourceVersion", g.ResourceVersion, err)
	}
	g, _ = client.MutateStatus(ctx, g, func(g *sprocket) error {
		meta.SetStatusCondition(&g.Status.Conditions, meta.Condition{Type: "Ready", Status: meta.ConditionTrue,
			Reason: "Reconciled", ObservedGeneration: g.Generation}, epoch)
		return nil
	})
	fmt.Println("ready:", meta.IsStatusConditionCurrent(g.Status.Conditions, "Ready", g.Generation))
	// Output:
	// finalizers [example.io/cleanup] resourceVersion 2 <nil>
	// finalizers [example.io/cleanup] resourceVersion 2 <nil>
	// ready: true
}
