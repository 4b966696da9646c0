package reconcile_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/reconcile/reconciletest"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// scrape returns the body of the manager's /metrics.
func scrape(t *testing.T, mgr *reconcile.Manager) string {
	t.Helper()
	rec := httptest.NewRecorder()
	mgr.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics = %d %s", rec.Code, body)
	}
	return string(body)
}

// A manager given nothing but leader election serves, on /metrics, the
// families of everything it runs: its controllers', their queues', its
// informers' and reflectors', its elector's, and the Go and process
// collectors.
func TestManagerMetricsHaveEveryFamily(t *testing.T) {
	engine := mvcc.New(mvcc.Options{})
	t.Cleanup(func() { _ = engine.Close() })
	mgr, err := reconcile.NewManager(reconcile.ManagerOptions{
		Logger: slog.New(slog.DiscardHandler),
		LeaderElection: &reconcile.LeaderElectionOptions{
			Lock: &reconciletest.MemoryLeaseLock{Name: "widgets-lease"}, Identity: "a", Name: "widgets-lease"},
	})
	if err != nil {
		t.Fatal(err)
	}
	widgets := store.New(engine, widgetResource())
	reconciled := make(chan struct{}, 1)
	c, err := reconcile.NewController(mgr, "widgets", reconcile.Func[reconcile.Request](
		func(context.Context, reconcile.Request) (reconcile.Result, error) {
			reconciled <- struct{}{}
			return reconcile.Done(), nil
		}), reconcile.Options[reconcile.Request]{}, reconcile.For(widgets))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := waitChan(t, done, "manager to stop"); err != nil {
			t.Errorf("manager stopped with %v", err)
		}
	}
	defer stop()
	waitChan(t, mgr.Elected(), "manager elected")
	if _, err := widgets.Create(ctx, &widget{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "a"}}); err != nil {
		t.Fatal(err)
	}
	waitChan(t, reconciled, "reconcile")
	waitIdle(t, c)

	body := scrape(t, mgr)
	for _, family := range []string{
		"workqueue_depth", "workqueue_adds_total", "workqueue_queue_duration_seconds",
		"workqueue_work_duration_seconds", "workqueue_unfinished_work_seconds",
		"workqueue_longest_running_processor_seconds", "workqueue_retries_total",
		"reflector_lists_total", "reflector_list_duration_seconds", "reflector_items_per_list",
		"reflector_watches_total", "reflector_watch_duration_seconds", "reflector_items_per_watch",
		"reflector_last_resource_version",
		"informer_events_received_total", "informer_events_processed_total", "informer_handler_backlog",
		"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes",
		"controller_runtime_reconcile_total", "controller_runtime_reconcile_errors_total",
		"controller_runtime_terminal_reconcile_errors_total", "controller_runtime_reconcile_panics_total",
		"controller_runtime_reconcile_timeouts_total", "controller_runtime_reconcile_time_seconds",
		"controller_runtime_max_concurrent_reconciles", "controller_runtime_active_workers",
		"leader_election_master_status",
	} {
		if !strings.Contains(body, "\n# TYPE "+family+" ") {
			t.Errorf("/metrics lacks the family %s", family)
		}
	}
	for _, sample := range []string{
		`controller_runtime_reconcile_total{controller="widgets",result="success"} 1`,
		`workqueue_adds_total{name="widgets"} 1`,
		`reflector_lists_total{name="widgets"} 1`,
		`informer_events_received_total{name="widgets",type="ADDED"} 1`,
		`leader_election_master_status{name="widgets-lease"} 1`,
	} {
		if !strings.Contains(body, "\n"+sample+"\n") {
			t.Errorf("/metrics lacks %s", sample)
		}
	}

	// Once the manager has stopped, and released the lease, it no longer
	// leads.
	stop()
	if body := scrape(t, mgr); !strings.Contains(body, "\n"+`leader_election_master_status{name="widgets-lease"} 0`+"\n") {
		t.Errorf("/metrics after stop lacks leader_election_master_status 0:\n%s", grepLines(body, "leader_election"))
	}
}

// The lease name defaults to the lock's description.
func TestLeaderElectionMetricNamesTheLock(t *testing.T) {
	mgr, err := reconcile.NewManager(reconcile.ManagerOptions{
		Logger: slog.New(slog.DiscardHandler),
		LeaderElection: &reconcile.LeaderElectionOptions{
			Lock: &reconciletest.MemoryLeaseLock{Name: "l"}, Identity: "a"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if body := scrape(t, mgr); !strings.Contains(body, "\n"+`leader_election_master_status{name="leases/l"} 0`+"\n") {
		t.Errorf("/metrics of a manager not started:\n%s", grepLines(body, "leader_election"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
