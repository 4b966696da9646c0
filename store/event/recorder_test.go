package event_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/event"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type backup struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
}

func newBackup(ns, name, uid string) *backup {
	return &backup{TypeMeta: meta.TypeMeta{Kind: "Backup", APIVersion: "example.io/v1"},
		ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: name, UID: uid, ResourceVersion: "7"}}
}

type env struct {
	clock  *clocktest.Fake
	events *store.Store[*event.Event]
}

func newEnv(t *testing.T) *env {
	t.Helper()
	fake := clocktest.New(epoch)
	engine := mvcc.New(mvcc.Options{Clock: fake, ProgressInterval: -1})
	t.Cleanup(func() { _ = engine.Close() })
	return &env{clock: fake, events: store.NewWithOptions(engine, event.Resource, store.Options{Clock: fake, BookmarkInterval: -1})}
}

func (e *env) list(t *testing.T, ctx context.Context) []*event.Event {
	t.Helper()
	l, err := e.events.List(ctx, meta.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l.Items
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRecorderAggregatesRepeats(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	rec := event.NewRecorder(e.events, event.Options{Component: "backup-controller", Host: "node-1", Clock: e.clock})
	b := newBackup("ns", "nightly", "uid-1")
	for i := range 3 {
		if _, err := rec.Event(ctx, b, event.TypeWarning, "Failed", "disk full"); err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			e.clock.Step(time.Minute)
		}
	}
	evs := e.list(t, ctx)
	if len(evs) != 1 {
		t.Fatalf("events = %d, want the repeats in one", len(evs))
	}
	ev := evs[0]
	if ev.Count != 3 || !ev.FirstTimestamp.Equal(epoch) || !ev.LastTimestamp.Equal(epoch.Add(2*time.Minute)) {
		t.Errorf("count %d first %v last %v, want 3, %v, %v", ev.Count, ev.FirstTimestamp, ev.LastTimestamp, epoch, epoch.Add(2*time.Minute))
	}
	want := event.ObjectReference{Kind: "Backup", APIVersion: "example.io/v1", Namespace: "ns", Name: "nightly", UID: "uid-1", ResourceVersion: "7"}
	if ev.InvolvedObject != want || ev.Namespace != "ns" || ev.Type != event.TypeWarning || ev.Reason != "Failed" ||
		ev.Message != "disk full" || ev.Source != (event.Source{Component: "backup-controller", Host: "node-1"}) ||
		ev.ReportingController != "backup-controller" || ev.ReportingInstance != "node-1" {
		t.Errorf("event = %+v", ev)
	}
	if want := fmt.Sprintf("nightly.%x", epoch.UnixNano()); ev.Name != want {
		t.Errorf("name = %s, want %s", ev.Name, want)
	}

	// Anything that differs makes another event: the message, the
	// reason, the type, the object (a new uid is a new object).
	for _, r := range []struct {
		obj                  *backup
		typ, reason, message string
	}{
		{b, event.TypeWarning, "Failed", "disk on fire"},
		{b, event.TypeWarning, "Stalled", "disk full"},
		{b, event.TypeNormal, "Failed", "disk full"},
		{newBackup("ns", "nightly", "uid-2"), event.TypeWarning, "Failed", "disk full"},
	} {
		e.clock.Step(time.Second) // a new name
		if _, err := rec.Event(ctx, r.obj, r.typ, r.reason, r.message); err != nil {
			t.Fatal(err)
		}
	}
	if evs := e.list(t, ctx); len(evs) != 5 {
		t.Errorf("events = %d, want 5", len(evs))
	}
	// Another version of the same object is the same object.
	b2 := newBackup("ns", "nightly", "uid-1")
	b2.ResourceVersion = "9"
	ev, err := rec.Event(ctx, b2, event.TypeWarning, "Failed", "disk full")
	if err != nil {
		t.Fatal(err)
	}
	if ev.Count != 4 || ev.InvolvedObject.ResourceVersion != "9" {
		t.Errorf("count %d involved rv %s, want 4 and 9", ev.Count, ev.InvolvedObject.ResourceVersion)
	}
}

func TestRecorderStartsAgainWhenEventIsDeleted(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	rec := event.NewRecorder(e.events, event.Options{Clock: e.clock})
	b := newBackup("ns", "b", "u")
	first, err := rec.Event(ctx, b, event.TypeNormal, "Started", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.events.Delete(ctx, first.Namespace, first.Name, meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.clock.Step(time.Second)
	ev, err := rec.Event(ctx, b, event.TypeNormal, "Started", "")
	if err != nil {
		t.Fatal(err)
	}
	if ev.Count != 1 || ev.Name == first.Name {
		t.Errorf("after deletion: %s count %d, want a new event", ev.Name, ev.Count)
	}
	if ev, _ = rec.Event(ctx, b, event.TypeNormal, "Started", ""); ev.Count != 2 {
		t.Errorf("count = %d, want the new event to aggregate", ev.Count)
	}
}

func TestRecorderForgetsLeastRecentBeyondCacheSize(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	rec := event.NewRecorder(e.events, event.Options{Clock: e.clock, CacheSize: 2})
	b := newBackup("ns", "b", "u")
	for _, reason := range []string{"A", "B", "A", "C", "B"} { // C forgets A... B was least recent
		e.clock.Step(time.Second)
		if _, err := rec.Event(ctx, b, event.TypeNormal, reason, ""); err != nil {
			t.Fatal(err)
		}
	}
	counts := map[string][]int32{}
	for _, ev := range e.list(t, ctx) {
		counts[ev.Reason] = append(counts[ev.Reason], ev.Count)
	}
	// A is aggregated (B was least recent when C came), B is forgotten.
	if fmt.Sprint(counts["A"]) != "[2]" || fmt.Sprint(counts["B"]) != "[1 1]" || fmt.Sprint(counts["C"]) != "[1]" {
		t.Errorf("counts by reason = %v, want A [2], B [1 1], C [1]", counts)
	}
}

func TestRecorderConcurrentRepeatsMakeOneEvent(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	rec := event.NewRecorder(e.events, event.Options{Clock: e.clock})
	b := newBackup("ns", "b", "u")
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := rec.Event(ctx, b, event.TypeWarning, "Retry", "again")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	evs := e.list(t, ctx)
	if len(evs) != 1 || evs[0].Count != n {
		t.Fatalf("events = %d (first count %d), want one with count %d", len(evs), evs[0].Count, n)
	}
}

func TestRecorderPlacesClusterScopedAndRefusesBadType(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	rec := event.NewRecorder(e.events, event.Options{Clock: e.clock})
	ev, err := rec.Eventf(ctx, newBackup("", "global", "u"), event.TypeNormal, "Synced", "%d items", 3)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Namespace != "default" || ev.InvolvedObject.Namespace != "" || ev.Message != "3 items" {
		t.Errorf("event = %+v, want it in default about the cluster-scoped object", ev)
	}
	_, err = rec.Event(ctx, newBackup("ns", "b", "u"), "Error", "Bad", "")
	if !errors.Is(err, meta.ErrInvalid) {
		t.Errorf("type Error: err = %v, want Invalid", err)
	}
}

func TestEventJSONIsKubernetesShaped(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	rec := event.NewRecorder(e.events, event.Options{Component: "c", Clock: e.clock})
	ev, err := rec.Event(ctx, newBackup("ns", "b", "u"), event.TypeNormal, "Done", "ok")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]any{
		"kind": "Event", "apiVersion": "v1", "reason": "Done", "message": "ok", "type": "Normal", "count": 1.0,
		"firstTimestamp": "2026-01-02T03:04:05Z", "lastTimestamp": "2026-01-02T03:04:05Z",
		"eventTime": "2026-01-02T03:04:05.000000Z", "reportingComponent": "c",
	} {
		if m[field] != want {
			t.Errorf("%s = %v, want %v", field, m[field], want)
		}
	}
	io, _ := m["involvedObject"].(map[string]any)
	src, _ := m["source"].(map[string]any)
	if io["kind"] != "Backup" || io["apiVersion"] != "example.io/v1" || io["uid"] != "u" || src["component"] != "c" {
		t.Errorf("involvedObject %v source %v", io, src)
	}
}

func TestRecorderCombinesSimilarEvents(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	rec := event.NewRecorder(e.events, event.Options{Clock: e.clock})
	b := newBackup("ns", "b", "u")
	record := func(i int) *event.Event {
		t.Helper()
		e.clock.Step(time.Second)
		ev, err := rec.Eventf(ctx, b, event.TypeWarning, "Failed", "attempt %d failed", i)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	for i := 1; i < event.DefaultMaxSimilar; i++ {
		if ev := record(i); ev.Count != 1 || ev.Message != fmt.Sprintf("attempt %d failed", i) {
			t.Fatalf("event %d = count %d %q, want its own", i, ev.Count, ev.Message)
		}
	}
	// The tenth different message, and every one after, go into one
	// combined event that carries the latest message.
	for i := event.DefaultMaxSimilar; i < event.DefaultMaxSimilar+3; i++ {
		ev := record(i)
		if want := fmt.Sprintf("(combined from similar events): attempt %d failed", i); ev.Message != want || ev.Count != int32(i-event.DefaultMaxSimilar+1) {
			t.Errorf("event %d = count %d %q, want %q", i, ev.Count, ev.Message, want)
		}
	}
	if n := len(e.list(t, ctx)); n != event.DefaultMaxSimilar {
		t.Errorf("events = %d, want %d", n, event.DefaultMaxSimilar)
	}
	// After a quiet interval, messages stand on their own again.
	e.clock.Step(event.DefaultSimilarInterval)
	if ev := record(100); ev.Message != "attempt 100 failed" || ev.Count != 1 {
		t.Errorf("after a quiet interval: count %d %q", ev.Count, ev.Message)
	}
	// Another reason is not similar.
	if ev, _ := rec.Event(ctx, b, event.TypeWarning, "Slow", "x"); ev.Message != "x" {
		t.Errorf("another reason was combined: %q", ev.Message)
	}
}

func TestRecorderMaxSimilarNegativeNeverCombines(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	rec := event.NewRecorder(e.events, event.Options{Clock: e.clock, MaxSimilar: -1})
	for i := range 2 * event.DefaultMaxSimilar {
		e.clock.Step(time.Second)
		if _, err := rec.Eventf(ctx, newBackup("ns", "b", "u"), event.TypeWarning, "Failed", "attempt %d", i); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.list(t, ctx)); n != 2*event.DefaultMaxSimilar {
		t.Errorf("events = %d, want %d", n, 2*event.DefaultMaxSimilar)
	}
}

func TestRecorderLogsEveryEvent(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
	rec := event.NewRecorder(e.events, event.Options{Component: "backup-controller", Clock: e.clock, Logger: log})
	b := newBackup("ns", "nightly", "uid-1")
	if _, err := rec.Event(ctx, b, event.TypeNormal, "Started", "job started"); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Event(ctx, b, event.TypeWarning, "Failed", "disk full"); err != nil {
		t.Fatal(err)
	}
	want := `level=INFO msg=event type=Normal reason=Started message="job started" object="Backup ns/nightly" component=backup-controller
level=WARN msg=event type=Warning reason=Failed message="disk full" object="Backup ns/nightly" component=backup-controller
`
	if buf.String() != want {
		t.Errorf("logged\n%s\nwant\n%s", buf.String(), want)
	}
	if n := len(e.list(t, ctx)); n != 2 {
		t.Errorf("stored events = %d, want 2: logging does not replace storing", n)
	}
}

func TestRecorderWithoutStoreOnlyLogs(t *testing.T) {
	var buf bytes.Buffer
	clk := clocktest.New(epoch)
	rec := event.NewRecorder(nil, event.Options{Component: "c", Clock: clk, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	b := newBackup("ns", "nightly", "uid-1")
	for range 2 {
		ev, err := rec.Event(context.Background(), b, event.TypeWarning, "Failed", "disk full")
		if err != nil {
			t.Fatal(err)
		}
		if ev.Count != 1 || ev.Reason != "Failed" || ev.Namespace != "ns" || !ev.FirstTimestamp.Equal(epoch) {
			t.Errorf("event = %+v, want the unstored event with count 1", ev)
		}
	}
	if n := strings.Count(buf.String(), "reason=Failed"); n != 2 {
		t.Errorf("logged %d events, want 2:\n%s", n, buf.String())
	}
}
