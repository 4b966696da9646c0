package prommetrics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/prommetrics"
	"github.com/governor-io/governor/store/kv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// values returns the value of every unlabelled or single-series family.
func values(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			out[mf.GetName()] += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	return out
}

// A member given the provider reports under etcd's names: its own
// metrics, its WAL's and its engine's.
func TestMetricsUseEtcdNames(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reg := prometheus.NewPedanticRegistry()
	p, err := prommetrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	n, err := raft.Open(ctx, raft.Config{
		ID: 1, Dir: t.TempDir(), Metrics: p,
		InitialCluster: []raft.Member{{ID: 1, PeerAddr: "127.0.0.1:0"}},
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
	got := values(t, reg)
	if got["etcd_server_is_leader"] != 1 || got["etcd_server_has_leader"] != 1 {
		t.Errorf("etcd_server_is_leader = %v, has_leader = %v; want 1 and 1", got["etcd_server_is_leader"], got["etcd_server_has_leader"])
	}
	if got["etcd_server_proposals_applied_total"] != 3 {
		t.Errorf("etcd_server_proposals_applied_total = %v, want 3", got["etcd_server_proposals_applied_total"])
	}
	if got["etcd_mvcc_put_total"] != 3 {
		t.Errorf("etcd_mvcc_put_total = %v, want 3", got["etcd_mvcc_put_total"])
	}
	for _, name := range []string{
		"etcd_server_has_leader", "etcd_server_is_leader", "etcd_server_leader_changes_seen_total",
		"etcd_server_proposals_committed_total", "etcd_server_proposals_applied_total",
		"etcd_server_proposals_pending", "etcd_server_proposals_failed_total",
		"etcd_disk_wal_fsync_duration_seconds", "etcd_debugging_mvcc_current_revision",
	} {
		if _, ok := got[name]; !ok {
			t.Errorf("metric %s not registered", name)
		}
	}
	// A second member on the same registry is refused, clearly.
	if _, err := prommetrics.New(reg); !errors.Is(err, raft.ErrInvalidConfig) {
		t.Errorf("second provider on one registry: %v, want ErrInvalidConfig", err)
	}
}
