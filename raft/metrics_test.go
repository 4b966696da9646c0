package raft

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/store/kv"
)

func TestMetricsUseEtcdNames(t *testing.T) {
	ctx := testCtx(t)
	reg := prometheus.NewRegistry()
	n, err := Open(ctx, Config{
		ID: 1, Dir: t.TempDir(), Registerer: reg,
		InitialCluster: []Member{{ID: 1, PeerAddr: "127.0.0.1:0"}},
		Clock:          clocktest.New(time.Unix(0, 0)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	for i := range 3 {
		if _, err := kv.Put(ctx, n, "/m", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := testutil.ToFloat64(n.metrics.isLeader); got != 1 {
		t.Errorf("etcd_server_is_leader = %v", got)
	}
	if got := testutil.ToFloat64(n.metrics.proposalsApplied); got != 3 {
		t.Errorf("etcd_server_proposals_applied_total = %v, want 3", got)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, mf := range mfs {
		have[mf.GetName()] = true
	}
	for _, name := range []string{
		"etcd_server_has_leader", "etcd_server_is_leader", "etcd_server_leader_changes_seen_total",
		"etcd_server_proposals_committed_total", "etcd_server_proposals_applied_total",
		"etcd_server_proposals_pending", "etcd_server_proposals_failed_total",
		"etcd_disk_wal_fsync_duration_seconds",
	} {
		if !have[name] {
			t.Errorf("metric %s not registered", name)
		}
	}
	// A second member on the same registry is refused, clearly.
	if _, err := Open(context.Background(), Config{ID: 2, Dir: t.TempDir(), Registerer: reg, InitialCluster: []Member{{ID: 2, PeerAddr: "127.0.0.1:0"}}}); err == nil {
		t.Error("a second member registered on the same registry")
	}
}
