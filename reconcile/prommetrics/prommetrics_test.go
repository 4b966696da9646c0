package prommetrics_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/reconcile/prommetrics"
)

var _ reconcile.MetricsProvider = (*prommetrics.Provider)(nil)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The metrics keep controller-runtime's and client-go's names and labels.
func TestNamesAndLabels(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	p, err := prommetrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prommetrics.New(reg); err == nil {
		t.Error("registering the metrics twice succeeded")
	}
	p.NewReconcileTotalMetric("pods", "success").Inc()
	p.NewReconcileErrorsMetric("pods").Inc()
	p.NewActiveWorkersMetric("pods").Inc()
	p.SetMaxConcurrentReconciles("pods", 4)
	p.NewStaleCacheWaitsMetric("pods", "timeout").Inc()
	leading := true
	p.NewLeaderElectionMetric("my-operator", func() bool { return leading })
	want := `
# HELP controller_runtime_active_workers Number of workers reconciling right now, per controller.
# TYPE controller_runtime_active_workers gauge
controller_runtime_active_workers{controller="pods"} 1
# HELP controller_runtime_max_concurrent_reconciles Maximum number of concurrent reconciles per controller.
# TYPE controller_runtime_max_concurrent_reconciles gauge
controller_runtime_max_concurrent_reconciles{controller="pods"} 4
# HELP controller_runtime_reconcile_errors_total Total number of reconciliation errors per controller.
# TYPE controller_runtime_reconcile_errors_total counter
controller_runtime_reconcile_errors_total{controller="pods"} 1
# HELP controller_runtime_reconcile_total Total number of reconciliations per controller.
# TYPE controller_runtime_reconcile_total counter
controller_runtime_reconcile_total{controller="pods",result="success"} 1
# HELP governor_reconcile_stale_cache_waits_total Reconciles that waited for the cache to catch up with their own writes, by outcome (caught_up, timeout).
# TYPE governor_reconcile_stale_cache_waits_total counter
governor_reconcile_stale_cache_waits_total{controller="pods",outcome="timeout"} 1
# HELP leader_election_master_status Whether this candidate leads the lease name: 1 while leading, 0 otherwise.
# TYPE leader_election_master_status gauge
leader_election_master_status{name="my-operator"} 1
`
	names := []string{prommetrics.ActiveWorkersName, prommetrics.MaxConcurrentReconcilesName, prommetrics.ReconcileErrorsName,
		prommetrics.ReconcileTotalName, prommetrics.StaleCacheWaitsName, prommetrics.LeaderElectionName}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	leading = false
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP leader_election_master_status Whether this candidate leads the lease name: 1 while leading, 0 otherwise.
# TYPE leader_election_master_status gauge
leader_election_master_status{name="my-operator"} 0
`), prommetrics.LeaderElectionName); err != nil {
		t.Error(err)
	}
}
