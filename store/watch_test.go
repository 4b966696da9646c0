package store_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/mvcc"
)

func next(t *testing.T, ch <-chan store.WatchEvent[*Widget]) store.WatchEvent[*Widget] {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event within 10s")
	}
	panic("unreachable")
}

func closed(t *testing.T, ch <-chan store.WatchEvent[*Widget]) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if ok {
			t.Fatalf("event %s after the end of the watch", describe(ev))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch channel not closed within 10s")
	}
}

func describe(ev store.WatchEvent[*Widget]) string {
	if ev.Type == store.Error {
		return fmt.Sprintf("ERROR %s", store.ReasonOf(ev.Err))
	}
	if ev.Type == store.Bookmark {
		return fmt.Sprintf("BOOKMARK @%s %v", ev.Object.ResourceVersion, ev.Object.Annotations)
	}
	return fmt.Sprintf("%s %s/%s@%s", ev.Type, ev.Object.Namespace, ev.Object.Name, ev.Object.ResourceVersion)
}

func expect(t *testing.T, ch <-chan store.WatchEvent[*Widget], want ...string) {
	t.Helper()
	for _, w := range want {
		if got := describe(next(t, ch)); got != w {
			t.Fatalf("event %q, want %q", got, w)
		}
	}
}

func rev(e *env) string { return store.FormatResourceVersion(e.kv.Revision()) }

func watch(t *testing.T, e *env, ctx context.Context, opts store.ListOptions) <-chan store.WatchEvent[*Widget] {
	t.Helper()
	return must[<-chan store.WatchEvent[*Widget]](t)(e.s.Watch(ctx, opts))
}

func TestWatchFromNowSendsCurrentStateThenChanges(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	a := must[*Widget](t)(e.s.Create(ctx, widget("ns", "a", 1)))
	b := must[*Widget](t)(e.s.Create(ctx, widget("ns", "b", 1)))
	for _, rv := range []string{"", "0"} {
		wctx, wcancel := context.WithCancel(ctx)
		ch := watch(t, e, wctx, store.ListOptions{ResourceVersion: rv})
		expect(t, ch, "ADDED ns/a@"+a.ResourceVersion, "ADDED ns/b@"+b.ResourceVersion)
		wcancel()
		for range ch { // closes once ctx is done
		}
	}
	ch := watch(t, e, ctx, store.ListOptions{})
	expect(t, ch, "ADDED ns/a@"+a.ResourceVersion, "ADDED ns/b@"+b.ResourceVersion)
	a.Spec.Size = 2
	a2 := must[*Widget](t)(e.s.Update(ctx, a))
	must[*Widget](t)(e.s.Delete(ctx, "ns", "b", store.DeleteOptions{}))
	delRV := rev(e)
	c := must[*Widget](t)(e.s.Create(ctx, widget("ns", "c", 1)))
	expect(t, ch, "MODIFIED ns/a@"+a2.ResourceVersion, "DELETED ns/b@"+delRV, "ADDED ns/c@"+c.ResourceVersion)
	// The deleted object is the last stored one.
	cancel()
	closed(t, drain(ch))
}

// drain returns ch after discarding what is buffered in it, so that closed
// can see the close.
func drain(ch <-chan store.WatchEvent[*Widget]) <-chan store.WatchEvent[*Widget] {
	out := make(chan store.WatchEvent[*Widget])
	go func() {
		for range ch {
		}
		close(out)
	}()
	return out
}

// TestWatchResumesAtEveryRetainedRevision writes a history of creates,
// updates and deletes, then opens a watch at every revision in it and checks
// that it delivers exactly the changes after that revision.
func TestWatchResumesAtEveryRetainedRevision(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	must[*Widget](t)(e.s.Create(ctx, widget("aa", "before", 0))) // so that no start is "0"
	start := e.kv.Revision()
	var history []string // the event each revision produces
	for i := range 12 {
		name := fmt.Sprintf("w%d", i%4)
		switch cur, err := e.s.Get(ctx, "ns", name); {
		case err != nil:
			w := must[*Widget](t)(e.s.Create(ctx, widget("ns", name, i)))
			history = append(history, "ADDED ns/"+name+"@"+w.ResourceVersion)
		case i%3 == 0:
			must[*Widget](t)(e.s.Delete(ctx, "ns", name, store.DeleteOptions{}))
			history = append(history, "DELETED ns/"+name+"@"+rev(e))
		default:
			cur.Spec.Size = i
			w := must[*Widget](t)(e.s.Update(ctx, cur))
			history = append(history, "MODIFIED ns/"+name+"@"+w.ResourceVersion)
		}
	}
	// A sentinel in another namespace ends each check.
	sentinel := must[*Widget](t)(e.s.Create(ctx, widget("zz", "end", 0)))
	history = append(history, "ADDED zz/end@"+sentinel.ResourceVersion)
	for i := range history {
		from := start + int64(i)
		wctx, cancel := context.WithCancel(ctx)
		ch := watch(t, e, wctx, store.ListOptions{ResourceVersion: store.FormatResourceVersion(from)})
		expect(t, ch, history[i:]...)
		cancel()
		closed(t, drain(ch))
	}
	// Below the compaction revision: an Expired error event, then the end.
	if err := e.kv.Compact(ctx, start+5); err != nil {
		t.Fatal(err)
	}
	ch := watch(t, e, ctx, store.ListOptions{ResourceVersion: store.FormatResourceVersion(start + 2)})
	expect(t, ch, "ERROR Expired")
	closed(t, ch)
	// Just above it, the watch works.
	ch2 := watch(t, e, ctx, store.ListOptions{ResourceVersion: store.FormatResourceVersion(start + 5)})
	expect(t, ch2, history[5])
}

func TestWatchSelectorTransitions(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	ch := watch(t, e, ctx, store.ListOptions{ResourceVersion: rev(e), LabelSelector: "app=web"})
	w := widget("ns", "a", 1)
	w.Labels = map[string]string{"app": "web"}
	w = must[*Widget](t)(e.s.Create(ctx, w))
	createdRV := w.ResourceVersion
	other := widget("ns", "other", 1)
	other.Labels = map[string]string{"app": "db"}
	must[*Widget](t)(e.s.Create(ctx, other))
	w.Labels["app"] = "db"
	w = must[*Widget](t)(e.s.Update(ctx, w)) // stops matching
	w.Labels["app"] = "web"
	w3 := must[*Widget](t)(e.s.Update(ctx, w)) // matches again
	w3.Spec.Size = 5
	w4 := must[*Widget](t)(e.s.Update(ctx, w3))
	must[*Widget](t)(e.s.Delete(ctx, "ns", "other", store.DeleteOptions{}))
	must[*Widget](t)(e.s.Delete(ctx, "ns", "a", store.DeleteOptions{}))
	delRV := rev(e)

	ev := next(t, ch)
	if describe(ev) != "ADDED ns/a@"+createdRV {
		t.Fatalf("first event %s", describe(ev))
	}
	ev = next(t, ch)
	if ev.Type != store.Deleted || ev.Object.ResourceVersion != w.ResourceVersion || ev.Object.Labels["app"] != "web" {
		t.Fatalf("stop matching: %s, labels %v (want the last matching state at the new revision)", describe(ev), ev.Object.Labels)
	}
	expect(t, ch, "ADDED ns/a@"+w3.ResourceVersion, "MODIFIED ns/a@"+w4.ResourceVersion, "DELETED ns/a@"+delRV)

	// Field selectors filter the same way.
	fch := watch(t, e, ctx, store.ListOptions{ResourceVersion: "0", FieldSelector: "spec.node=n1"})
	x := widget("ns", "x", 1)
	x.Spec.Node = "n1"
	x = must[*Widget](t)(e.s.Create(ctx, x))
	y := widget("ns", "y", 1)
	must[*Widget](t)(e.s.Create(ctx, y))
	x.Spec.Node = "n2"
	must[*Widget](t)(e.s.Update(ctx, x))
	expect(t, fch, "ADDED ns/x@"+x.ResourceVersion, "DELETED ns/x@"+rev(e))
}

func TestWatchNamespace(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	ch := watch(t, e, ctx, store.ListOptions{Namespace: "a", ResourceVersion: rev(e)})
	must[*Widget](t)(e.s.Create(ctx, widget("ab", "x", 1)))
	must[*Widget](t)(e.s.Create(ctx, widget("b", "x", 1)))
	w := must[*Widget](t)(e.s.Create(ctx, widget("a", "x", 1)))
	expect(t, ch, "ADDED a/x@"+w.ResourceVersion)
}

func TestWatchSendInitialEventsAndBookmarks(t *testing.T) {
	e := newEnv(t, 0) // zero: the default bookmark interval, one minute
	ctx := ctxT(t)
	a := must[*Widget](t)(e.s.Create(ctx, widget("ns", "a", 1)))
	at := rev(e)
	ch := watch(t, e, ctx, store.ListOptions{SendInitialEvents: true, AllowWatchBookmarks: true, ResourceVersion: a.ResourceVersion})
	expect(t, ch, "ADDED ns/a@"+a.ResourceVersion, "BOOKMARK @"+at+" map[k8s.io/initial-events-end:true]")
	b := must[*Widget](t)(e.s.Create(ctx, widget("ns", "b", 1)))
	expect(t, ch, "ADDED ns/b@"+b.ResourceVersion)
	// The bookmark ticker asks the engine for progress.
	if err := e.clock.BlockUntilWaiters(ctx, 1); err != nil {
		t.Fatal(err)
	}
	e.clock.Step(time.Minute)
	expect(t, ch, "BOOKMARK @"+rev(e)+" map[]")
	// Progress requested from elsewhere also becomes a bookmark.
	if err := e.kv.RequestProgress(ctx); err != nil {
		t.Fatal(err)
	}
	ev := next(t, ch)
	if ev.Type != store.Bookmark || ev.Object.ResourceVersion != rev(e) || ev.Object.Kind != "Widget" {
		t.Fatalf("bookmark %s kind %q", describe(ev), ev.Object.Kind)
	}

	// Without AllowWatchBookmarks no bookmark arrives: the next event is
	// the write after the progress request.
	plain := watch(t, e, ctx, store.ListOptions{ResourceVersion: rev(e)})
	if err := e.kv.RequestProgress(ctx); err != nil {
		t.Fatal(err)
	}
	c := must[*Widget](t)(e.s.Create(ctx, widget("ns", "c", 1)))
	expect(t, plain, "ADDED ns/c@"+c.ResourceVersion)

	// SendInitialEvents with a resourceVersion the store has not reached.
	_, err := e.s.Watch(ctx, store.ListOptions{SendInitialEvents: true, ResourceVersion: "100000"})
	wantReason(t, err, store.ErrTimeout)
}

func TestWatchBadOptions(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	for _, tt := range []struct {
		opts store.ListOptions
		want *store.StatusError
	}{
		{store.ListOptions{LabelSelector: "a in"}, store.ErrInvalid},
		{store.ListOptions{FieldSelector: "spec.nope=1"}, store.ErrInvalid},
		{store.ListOptions{ResourceVersion: "-1"}, store.ErrBadRequest},
		{store.ListOptions{Continue: "x"}, store.ErrBadRequest},
	} {
		_, err := e.s.Watch(ctx, tt.opts)
		wantReason(t, err, tt.want)
	}
}

func TestWatchEndsWhenEngineCloses(t *testing.T) {
	e := newEnv(t)
	ch := watch(t, e, ctxT(t), store.ListOptions{ResourceVersion: rev(e)})
	e.kv.Close()
	ev := next(t, ch)
	if ev.Type != store.Error {
		t.Fatalf("event %s, want an error", describe(ev))
	}
	closed(t, ch)
}

// TestWatchResumesAfterEngineLag lets a watch fall far behind an engine
// with tiny watch buffers, so that the engine cancels its watch as
// lagging; the Store resumes it and the receiver sees every change, in
// order, once.
func TestWatchResumesAfterEngineLag(t *testing.T) {
	fake := clocktest.New(epoch)
	engine := mvcc.New(mvcc.Options{Clock: fake, WatchBufferSize: 2, ProgressInterval: -1})
	defer engine.Close()
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := store.NewWithOptions(engine, widgetResource(), store.Options{Clock: fake, Logger: logger})
	ctx := ctxT(t)
	w := must[*Widget](t)(s.Create(ctx, widget("ns", "a", 0)))
	ch := must[<-chan store.WatchEvent[*Widget]](t)(s.Watch(ctx, store.ListOptions{ResourceVersion: w.ResourceVersion}))
	const writes = 300 // far more than the engine and Store buffers hold
	for i := 1; i <= writes; i++ {
		w.Spec.Size = i
		w = must[*Widget](t)(s.Update(ctx, w))
	}
	for i := 1; i <= writes; i++ {
		ev := next(t, ch)
		if ev.Type != store.Modified || ev.Object.Spec.Size != i {
			t.Fatalf("event %d: %s size %d", i, describe(ev), ev.Object.Spec.Size)
		}
	}
	if !strings.Contains(logs.String(), "resuming") {
		t.Fatal("the engine never cancelled the watch as lagging; the test did not test resumption")
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
