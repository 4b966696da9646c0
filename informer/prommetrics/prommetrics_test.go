package prommetrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/informer/prommetrics"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The figures of every registered Stats function are reported under
// client-go's reflector names and ours, until it is removed.
func TestStatsExposition(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	p, err := prommetrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prommetrics.New(reg); err == nil {
		t.Error("registering the metrics twice succeeded")
	}
	remove := p.AddStats(func() informer.Stats {
		return informer.Stats{
			Name: "widgets", LastResourceVersion: "42",
			EventsReceived: []informer.EventCount{{Type: meta.Added, Count: 2}, {Type: meta.Modified, Count: 1}},
			Handlers:       []informer.HandlerStats{{Name: "slow", Processed: 3, Backlog: 4}},
		}
	})
	p.NewListsMetric("widgets").Inc()
	want := `
# HELP informer_events_processed_total Notifications a handler has handled.
# TYPE informer_events_processed_total counter
informer_events_processed_total{handler="slow",name="widgets"} 3
# HELP informer_events_received_total Watch events received, by type.
# TYPE informer_events_received_total counter
informer_events_received_total{name="widgets",type="ADDED"} 2
informer_events_received_total{name="widgets",type="MODIFIED"} 1
# HELP informer_handler_backlog Notifications buffered for a handler and not yet handled.
# TYPE informer_handler_backlog gauge
informer_handler_backlog{handler="slow",name="widgets"} 4
# HELP reflector_last_resource_version The last resourceVersion the reflector saw.
# TYPE reflector_last_resource_version gauge
reflector_last_resource_version{name="widgets"} 42
# HELP reflector_lists_total Total number of lists done by the reflector.
# TYPE reflector_lists_total counter
reflector_lists_total{name="widgets"} 1
`
	names := []string{prommetrics.EventsProcessedName, prommetrics.EventsReceivedName, prommetrics.HandlerBacklogName,
		prommetrics.LastResourceVersionName, prommetrics.ListsName}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	remove()
	if n, err := testutil.GatherAndCount(reg, prommetrics.EventsReceivedName, prommetrics.LastResourceVersionName); err != nil || n != 0 {
		t.Errorf("after remove: %d series, %v; want none", n, err)
	}
}

type widget struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
}

// An informer given the provider reports its list and its handler, and
// stops reporting its figures when it stops.
func TestInformerReports(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	widgets := store.New[*widget](engine, store.Resource[*widget]{Name: "widgets", Kind: "Widget", APIVersion: "v1", Namespaced: true})
	if _, err := widgets.Create(ctx, &widget{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "a"}}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	p, err := prommetrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	inf := informer.New[*widget](widgets, informer.Options[*widget]{Name: "widgets", Metrics: p})
	added := make(chan struct{}, 1)
	hreg, _ := inf.AddHandlerWithOptions(informer.HandlerFuncs[*widget]{AddFunc: func(*widget, bool) { added <- struct{}{} }}, informer.HandlerOptions{Name: "h"})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- inf.Run(runCtx) }()
	if !informer.WaitForCacheSync(ctx, hreg) {
		t.Fatal("not synced")
	}
	<-added
	for name, want := range map[string]int{
		prommetrics.ListsName: 1, prommetrics.ListDurationName: 1, prommetrics.ItemsPerListName: 1,
		prommetrics.LastResourceVersionName: 1, prommetrics.EventsReceivedName: len(informer.EventTypes),
		prommetrics.EventsProcessedName: 1, prommetrics.HandlerBacklogName: 1,
	} {
		if n, err := testutil.GatherAndCount(reg, name); err != nil || n != want {
			t.Errorf("%s: %d series, %v; want %d", name, n, err, want)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg, prommetrics.LastResourceVersionName); err != nil || n != 0 {
		t.Errorf("after Run returned: %d series of %s, %v; want none", n, prommetrics.LastResourceVersionName, err)
	}
}
