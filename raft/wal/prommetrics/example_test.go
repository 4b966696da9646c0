package prommetrics_test

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/governor-io/governor/raft/wal"
	"github.com/governor-io/governor/raft/wal/prommetrics"
	"github.com/governor-io/governor/raft/wal/waltest"
)

// A WAL given the provider times its fsyncs in etcd's histogram.
func Example() {
	reg := prometheus.NewRegistry()
	provider, err := prommetrics.New(reg)
	if err != nil {
		panic(err)
	}
	w, err := wal.Create("/wal", nil, wal.Options{FS: waltest.NewMemFS(), Metrics: provider})
	if err != nil {
		panic(err)
	}
	w.Close()
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		fmt.Println(mf.GetName(), "samples:", mf.GetMetric()[0].GetHistogram().GetSampleCount())
	}
	// Output:
	// etcd_disk_wal_fsync_duration_seconds samples: 1
}
