package reconcile_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/event"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

func TestManagerEventRecorderWritesAggregatedEvents(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	epoch := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	clk := clocktest.New(epoch)
	engine := mvcc.New(mvcc.Options{Clock: clk})
	defer func() { _ = engine.Close() }()
	events := store.NewWithOptions(engine, event.Resource, store.Options{Clock: clk})
	gadgets := store.NewWithOptions(engine, gadgetResource(), store.Options{Clock: clk})
	mgr, err := reconcile.NewManager(reconcile.ManagerOptions{Clock: clk, Events: events,
		LeaderElection: &reconcile.LeaderElectionOptions{Identity: "replica-1",
			Lock: reconcile.StoreLeaseLock(store.New(engine, store.LeaseResource()), "system", "gadgets")}})
	if err != nil {
		t.Fatal(err)
	}
	rec := mgr.EventRecorder("gadget")
	if again := mgr.EventRecorder("gadget"); again != rec {
		t.Error("a second EventRecorder for one component is another recorder: repeats would not aggregate")
	}
	if other := mgr.EventRecorder("other"); other == rec {
		t.Error("two components share one recorder")
	}
	g, err := gadgets.Create(ctx, &gadget{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "g"}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := rec.Event(ctx, g, event.TypeWarning, "Failed", "no room"); err != nil {
			t.Fatal(err)
		}
		clk.Step(time.Minute)
	}
	l, err := events.List(ctx, meta.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 1 {
		t.Fatalf("events = %d, want the repeat aggregated into one", len(l.Items))
	}
	ev := l.Items[0]
	wantRef := event.ObjectReference{Kind: "Gadget", APIVersion: "test/v1", Namespace: "ns", Name: "g", UID: g.UID, ResourceVersion: g.ResourceVersion}
	if ev.Count != 2 || ev.InvolvedObject != wantRef || ev.Source != (event.Source{Component: "gadget", Host: "replica-1"}) ||
		!ev.FirstTimestamp.Equal(epoch) || !ev.LastTimestamp.Equal(epoch.Add(time.Minute)) {
		t.Errorf("event = count %d about %+v from %+v, %v..%v; want count 2 about %+v from gadget on replica-1, %v..%v",
			ev.Count, ev.InvolvedObject, ev.Source, ev.FirstTimestamp, ev.LastTimestamp, wantRef, epoch, epoch.Add(time.Minute))
	}
}

func TestManagerEventRecorderWithoutStoreLogs(t *testing.T) {
	var buf bytes.Buffer
	mgr, err := reconcile.NewManager(reconcile.ManagerOptions{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	g := &gadget{TypeMeta: meta.TypeMeta{Kind: "Gadget", APIVersion: "test/v1"}, ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "g"}}
	if _, err := mgr.EventRecorder("gadget").Event(context.Background(), g, event.TypeWarning, "Failed", "no room"); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); !strings.Contains(got, `level=WARN msg=event type=Warning reason=Failed message="no room" object="Gadget ns/g" component=gadget`) {
		t.Errorf("the manager's logger got %q, want the event", got)
	}
}
