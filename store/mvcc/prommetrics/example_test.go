package prommetrics_test

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
	"github.com/governor-io/governor/store/mvcc/prommetrics"
)

// The engine's metrics go to the registry the caller passes, under etcd's
// names.
func Example() {
	reg := prometheus.NewRegistry()
	e, err := mvcc.Open(mvcc.Options{Metrics: prommetrics.New(reg)})
	if err != nil {
		panic(err)
	}
	defer e.Close()
	kv.Put(context.Background(), e, "/pods/default/web", []byte("v1"))

	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "etcd_debugging_mvcc_current_revision" {
			fmt.Println(mf.GetName(), mf.GetMetric()[0].GetGauge().GetValue())
		}
	}
	// Output:
	// etcd_debugging_mvcc_current_revision 1
}
