package prommetrics_test

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/reconcile/prommetrics"
)

// A controller that runs without a manager reports to the registry the
// caller passes. (A reconcile.Manager does this by itself.)
func Example() {
	reg := prometheus.NewRegistry()
	provider, err := prommetrics.New(reg)
	if err != nil {
		panic(err)
	}
	_, err = reconcile.New[string](reconcile.Func[string](func(context.Context, string) (reconcile.Result, error) {
		return reconcile.Done(), nil
	}), reconcile.Options[string]{Name: "pods", Workers: 3, Metrics: provider})
	if err != nil {
		panic(err)
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == prommetrics.MaxConcurrentReconcilesName {
			m := mf.GetMetric()[0]
			fmt.Printf("%s{%s=%q} %v\n", mf.GetName(), m.GetLabel()[0].GetName(), m.GetLabel()[0].GetValue(), m.GetGauge().GetValue())
		}
	}
	// Output:
	// controller_runtime_max_concurrent_reconciles{controller="pods"} 3
}
