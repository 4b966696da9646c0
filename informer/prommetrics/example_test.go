package prommetrics_test

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/informer/prommetrics"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/mvcc"
)

// An informer's metrics go to the registry the caller passes, labelled by
// the informer's name.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	widgets := store.New[*widget](engine, store.Resource[*widget]{Name: "widgets", Kind: "Widget", APIVersion: "v1", Namespaced: true})

	reg := prometheus.NewRegistry()
	provider, err := prommetrics.New(reg)
	if err != nil {
		panic(err)
	}
	inf := informer.New[*widget](widgets, informer.Options[*widget]{Name: "widgets", Metrics: provider})
	done := make(chan error, 1)
	go func() { done <- inf.Run(ctx) }()
	informer.WaitForCacheSync(ctx, inf)

	n, _ := testutil.GatherAndCount(reg, prommetrics.ListsName)
	fmt.Println("reflector_lists_total series:", n)
	cancel()
	<-done
	// Output:
	// reflector_lists_total series: 1
}
