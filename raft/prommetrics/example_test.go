package prommetrics_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/prommetrics"
	"github.com/governor-io/governor/store/kv"
)

// A one-member cluster reports its leadership under etcd's names.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "raft-metrics")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	reg := prometheus.NewRegistry()
	provider, err := prommetrics.New(reg)
	if err != nil {
		panic(err)
	}
	n, err := raft.Open(ctx, raft.Config{ID: 1, Dir: dir, Metrics: provider,
		InitialCluster: []raft.Member{{ID: 1, PeerAddr: "127.0.0.1:0"}}})
	if err != nil {
		panic(err)
	}
	defer n.Close()
	if _, err := kv.Put(ctx, n, "/k", []byte("v")); err != nil {
		panic(err)
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "etcd_server_is_leader" {
			fmt.Println(mf.GetName(), mf.GetMetric()[0].GetGauge().GetValue())
		}
	}
	// Output:
	// etcd_server_is_leader 1
}
