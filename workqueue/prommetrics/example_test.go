package prommetrics_test

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/governor-io/governor/workqueue"
	"github.com/governor-io/governor/workqueue/prommetrics"
)

// Metrics go to the registry the caller passes, labelled by queue name.
func Example() {
	reg := prometheus.NewRegistry()
	provider, err := prommetrics.New(reg)
	if err != nil {
		panic(err)
	}
	q := workqueue.New(workqueue.Options[string]{Name: "pods", Metrics: provider})
	defer q.ShutDown()
	q.Add("default/web")
	q.Add("default/db")

	n, _ := testutil.GatherAndCount(reg, prommetrics.DepthName)
	fmt.Println("depth series:", n)
	fmt.Println("depth:", testutil.ToFloat64(provider.NewDepthMetric("pods").(prometheus.Gauge)))
	// Output:
	// depth series: 1
	// depth: 2
}
