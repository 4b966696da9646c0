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
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

func next(t *testing.T, ch <-chan meta.WatchEvent[*Widget]) meta.WatchEvent[*Widget] {
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

func closed(t *testing.T, ch <-chan meta.WatchEvent[*Widget]) {
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

func describe(ev meta.WatchEvent[*Widget]) string {
	if ev.Type == meta.Error {
		return fmt.Sprintf("ERROR %s", meta.ReasonOf(ev.Err))
	}
	if ev.Type == meta.Bookmark {
		return fmt.Sprintf("BOOKMARK @%s %v", ev.Object.ResourceVersion, ev.Object.Annotations)
	}
	return fmt.Sprintf("%s %s/%s@%s", ev.Type, ev.Object.Namespace, ev.Object.Name, ev.Object.ResourceVersion)
}

func expect(t *testing.T, ch <-chan meta.WatchEvent[*Widget], want ...string) {
	t.Helper()
	for _, w := range want {
		if got := describe(next(t, ch)); got != w {
			t.Fatalf("event %q, want %q", got, w)
		}
	}
}

func rev(e *env) string { return meta.FormatResourceVersion(e.kv.Revision()) }

func watch(t *testing.T, e *env, ctx context.Context, opts meta.ListOptions) <-chan meta.WatchEvent[*Widget] {
	t.Helper()
	return must[<-chan meta.WatchEvent[*Widget]](t)(e.s.Watch(ctx, opts))
}

func TestWatchFromNowSendsCurrentStateThenChanges(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	a := must[*Widget](t)(e.s.Create(ctx, widget("ns", "a", 1)))
	b := must[*Widget](t)(e.s.Create(ctx, widget("ns", "b", 1)))
	for _, rv := range []string{"", "0"} {
		wctx, wcancel := context.WithCancel(ctx)
		ch := watch(t, e, wctx, meta.ListOptions{ResourceVersion: rv})
		expect(t, ch, "ADDED ns/a@"+a.ResourceVersion, "ADDED ns/b@"+b.ResourceVersion)
		wcancel()
		for range ch { // closes once ctx is done
		}
	}
	ch := watch(t, e, ctx, meta.ListOptions{})
	expect(t, ch, "ADDED ns/a@"+a.ResourceVersion, "ADDED ns/b@"+b.ResourceVersion)
	a.Spec.Size = 2
	a2 := must[*Widget](t)(e.s.Update(ctx, a))
	must[*Widget](t)(e.s.Delete(ctx, "ns", "b", meta.DeleteOptions{}))
	delRV := rev(e)
	c := must[*Widget](t)(e.s.Create(ctx, widget("ns", "c", 1)))
	expect(t, ch, "MODIFIED ns/a@"+a2.ResourceVersion, "DELETED ns/b@"+delRV, "ADDED ns/c@"+c.ResourceVersion)
	// The deleted object is the last stored one.
	cancel()
	closed(t, drain(ch))
}

// drain returns ch after discarding what is buffered in it, so that closed
// can see the close.
func drain(ch <-chan meta.WatchEvent[*Widget]) <-chan meta.WatchEvent[*Widget] {
	out := make(chan meta.WatchEvent[*Widget])
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
			must[*Widget](t)(e.s.Delete(ctx, "ns", name, meta.DeleteOptions{}))
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
		ch := watch(t, e, wctx, meta.ListOptions{ResourceVersion: meta.FormatResourceVersion(from)})
		expect(t, ch, history[i:]...)
		cancel()
		closed(t, drain(ch))
	}
	// Below the compaction revision: an Expired error event, then the end.
	if err := e.kv.Compact(ctx, start+5); err != nil {
		t.Fatal(err)
	}
	ch := watch(t, e, ctx, meta.ListOptions{ResourceVersion: meta.FormatResourceVersion(start + 2)})
	expect(t, ch, "ERROR Expired")
	closed(t, ch)
	// Just above it, the watch works.
	ch2 := watch(t, e, ctx, meta.ListOptions{ResourceVersion: meta.FormatResourceVersion(start + 5)})
	expect(t, ch2, history[5])
}

func TestWatchSelectorTransitions(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	ch := watch(t, e, ctx, meta.ListOptions{ResourceVersion: rev(e), LabelSelector: "app=web"})
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
	must[*Widget](t)(e.s.Delete(ctx, "ns", "other", meta.DeleteOptions{}))
	must[*Widget](t)(e.s.Delete(ctx, "ns", "a", meta.DeleteOptions{}))
	delRV := rev(e)

	ev := next(t, ch)
	if describe(ev) != "ADDED ns/a@"+createdRV {
		t.Fatalf("first event %s", describe(ev))
	}
	ev = next(t, ch)
	if ev.Type != meta.Deleted || ev.Object.ResourceVersion != w.ResourceVersion || ev.Object.Labels["app"] != "web" {
		t.Fatalf("stop matching: %s, labels %v (want the last matching state at the new revision)", describe(ev), ev.Object.Labels)
	}
	expect(t, ch, "ADDED ns/a@"+w3.ResourceVersion, "MODIFIED ns/a@"+w4.ResourceVersion, "DELETED ns/a@"+delRV)

	// Field selectors filter the same way.
	fch := watch(t, e, ctx, meta.ListOptions{ResourceVersion: "0", FieldSelector: "spec.node=n1"})
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
	ch := watch(t, e, ctx, meta.ListOptions{Namespace: "a", ResourceVersion: rev(e)})
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
	ch := watch(t, e, ctx, meta.ListOptions{SendInitialEvents: true, AllowWatchBookmarks: true, ResourceVersion: a.ResourceVersion})
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
	if ev.Type != meta.Bookmark || ev.Object.ResourceVersion != rev(e) || ev.Object.Kind != "Widget" {
		t.Fatalf("bookmark %s kind %q", describe(ev), ev.Object.Kind)
	}

	// Without AllowWatchBookmarks no bookmark arrives: the next event is
	// the write after the progress request.
	plain := watch(t, e, ctx, meta.ListOptions{ResourceVersion: rev(e)})
	if err := e.kv.RequestProgress(ctx); err != nil {
		t.Fatal(err)
	}
	c := must[*Widget](t)(e.s.Create(ctx, widget("ns", "c", 1)))
	expect(t, plain, "ADDED ns/c@"+c.ResourceVersion)

	// SendInitialEvents with a resourceVersion the store has not reached.
	_, err := e.s.Watch(ctx, meta.ListOptions{SendInitialEvents: true, ResourceVersion: "100000"})
	wantReason(t, err, meta.ErrTimeout)
}

func TestWatchBadOptions(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	for _, tt := range []struct {
		opts meta.ListOptions
		want *meta.StatusError
	}{
		{meta.ListOptions{LabelSelector: "a in"}, meta.ErrInvalid},
		{meta.ListOptions{FieldSelector: "spec.nope=1"}, meta.ErrInvalid},
		{meta.ListOptions{ResourceVersion: "-1"}, meta.ErrBadRequest},
		{meta.ListOptions{Continue: "x"}, meta.ErrBadRequest},
	} {
		_, err := e.s.Watch(ctx, tt.opts)
		wantReason(t, err, tt.want)
	}
}

func TestWatchEndsWhenEngineCloses(t *testing.T) {
	e := newEnv(t)
	ch := watch(t, e, ctxT(t), meta.ListOptions{ResourceVersion: rev(e)})
	e.kv.Close()
	ev := next(t, ch)
	if ev.Type != meta.Error {
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
	ch := must[<-chan meta.WatchEvent[*Widget]](t)(s.Watch(ctx, meta.ListOptions{ResourceVersion: w.ResourceVersion}))
	// A watch of the test's own, read after every write, paces the
	// engine's dispatcher: each write is dispatched in a round of its own
	// before the next is made, so the Store's watch gets one response per
	// write and, unread, must fill its buffers and lag, however the
	// goroutines are scheduled.
	pace, err := engine.Watch(ctx, kv.WatchRequest{Key: "/", End: "\xff", StartRevision: engine.Revision() + 1})
	if err != nil {
		t.Fatal(err)
	}
	const writes = 300 // far more than the engine and Store buffers hold
	for i := 1; i <= writes; i++ {
		w.Spec.Size = i
		w = must[*Widget](t)(s.Update(ctx, w))
		rev := engine.Revision()
		for seen := int64(0); seen < rev; {
			select {
			case resp, ok := <-pace:
				if !ok || resp.Err != nil {
					t.Fatalf("pacing watch ended at write %d: %v", i, resp.Err)
				}
				for _, ev := range resp.Events {
					seen = max(seen, ev.KV.ModRevision)
				}
			case <-ctx.Done():
				t.Fatalf("write %d never dispatched: %v", i, ctx.Err())
			}
		}
	}
	for i := 1; i <= writes; i++ {
		ev := next(t, ch)
		if ev.Type != meta.Modified || ev.Object.Spec.Size != i {
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
