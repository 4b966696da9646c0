package client

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/governor-io/governor/store/meta"
)

// next returns the next event of ch, failing the test if none comes.
func next(t *testing.T, ch <-chan meta.WatchEvent[*Widget]) (meta.WatchEvent[*Widget], bool) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		return ev, ok
	case <-time.After(20 * time.Second):
		t.Fatal("no watch event")
		return meta.WatchEvent[*Widget]{}, false
	}
}

func TestWatchDeliversChangesFromAResourceVersion(t *testing.T) {
	f := newFakeServer(t)
	r := For(f.client(t, Config{}), widgets)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := r.Create(ctx, widget("default", "a", nil, "red"))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := r.Watch(ctx, meta.ListOptions{Namespace: "default", ResourceVersion: a.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	a.Spec.Color = "blue"
	if _, err := r.Update(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Create(ctx, widget("default", "b", nil, "")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Delete(ctx, "default", "a", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		typ  meta.EventType
		name string
	}{{meta.Modified, "a"}, {meta.Added, "b"}, {meta.Deleted, "a"}} {
		ev, ok := next(t, ch)
		if !ok || ev.Type != want.typ || ev.Object.Name != want.name || ev.Object.Kind != "Widget" {
			t.Fatalf("event = %v %+v (open %v), want %s %s", ev.Type, ev.Object, ok, want.typ, want.name)
		}
	}
	cancel()
	for range ch { // closes once ctx is done
	}
}

func TestWatchStreamsTheInitialListEndedByABookmark(t *testing.T) {
	f := newFakeServer(t)
	r := For(f.client(t, Config{}), widgets)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, n := range []string{"a", "b"} {
		if _, err := r.Create(ctx, widget("default", n, nil, "")); err != nil {
			t.Fatal(err)
		}
	}
	ch, err := r.Watch(ctx, meta.ListOptions{SendInitialEvents: true, AllowWatchBookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		ev, ok := next(t, ch)
		if !ok {
			t.Fatal("watch closed before the initial-events-end bookmark")
		}
		if ev.Type == meta.Bookmark {
			if ev.Object.Annotations[meta.InitialEventsEndAnnotation] != "true" || ev.Object.ResourceVersion == "" {
				t.Fatalf("bookmark %+v, want the initial-events-end annotation and a resourceVersion", ev.Object.ObjectMeta)
			}
			break
		}
		got = append(got, string(ev.Type)+" "+ev.Object.Name)
	}
	if strings.Join(got, ",") != "ADDED a,ADDED b" {
		t.Errorf("initial events %v", got)
	}
	q := f.recorded()[2].Query
	for _, p := range []string{"watch=true", "sendInitialEvents=true", "resourceVersionMatch=NotOlderThan", "allowWatchBookmarks=true"} {
		if !strings.Contains(q, p) {
			t.Errorf("watch query %q lacks %s", q, p)
		}
	}
}

func TestWatchFromACompactedVersionEndsWithExpired(t *testing.T) {
	f := newFakeServer(t)
	r := For(f.client(t, Config{}), widgets)
	ctx := context.Background()
	for _, n := range []string{"a", "b", "c"} {
		if _, err := r.Create(ctx, widget("default", n, nil, "")); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.engine.Compact(ctx, f.engine.Revision()); err != nil {
		t.Fatal(err)
	}
	ch, err := r.Watch(ctx, meta.ListOptions{ResourceVersion: "1"})
	if err != nil {
		t.Fatal(err)
	}
	ev, ok := next(t, ch)
	if !ok || ev.Type != meta.Error || !errors.Is(ev.Err, meta.ErrExpired) {
		t.Fatalf("event %v %v (open %v), want ERROR Expired", ev.Type, ev.Err, ok)
	}
	if _, ok := next(t, ch); ok {
		t.Fatal("the watch stayed open after its ERROR event")
	}
}

func TestWatchClosesWhenTheServerEndsIt(t *testing.T) {
	f := newFakeServer(t)
	r := For(f.client(t, Config{}), widgets)
	ctx := context.Background()
	a, err := r.Create(ctx, widget("default", "a", nil, ""))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := r.Watch(ctx, meta.ListOptions{ResourceVersion: a.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	f.endWatches()
	if ev, ok := next(t, ch); ok {
		t.Fatalf("got %v, want the channel closed", ev.Type)
	}
}

func TestWatchReportsABrokenStreamAsAnError(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":     "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n<html>oops</html>\n",
		"unknown type": "{\"type\":\"SURPRISE\",\"object\":{}}\n",
		"bad object":   "{\"type\":\"ADDED\",\"object\":{\"metadata\":\"nope\"}}\n",
	} {
		t.Run(name, func(t *testing.T) {
			srv := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write([]byte(body))
			})
			c, _ := fakeClockClient(t, srv.srv.URL, Config{})
			ch, err := For(c, widgets).Watch(context.Background(), meta.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var last meta.WatchEvent[*Widget]
			for ev := range ch {
				last = ev
			}
			if last.Type != meta.Error || !errors.Is(last.Err, meta.ErrInternal) {
				t.Fatalf("last event %v %v, want ERROR InternalError", last.Type, last.Err)
			}
		})
	}
}

func TestWatchOpenFailureIsAStatusError(t *testing.T) {
	f := newFakeServer(t)
	r := For(f.client(t, Config{}), widgets)
	_, err := r.Watch(context.Background(), meta.ListOptions{FieldSelector: "spec.nope=x"})
	if !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("err = %v, want Invalid", err)
	}
}

func TestWatchPassesTheDeadlineAsTimeoutSeconds(t *testing.T) {
	f := newFakeServer(t)
	r := For(f.client(t, Config{}), widgets)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ch, err := r.Watch(ctx, meta.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	q := f.recorded()[0].Query
	if !strings.Contains(q, "timeoutSeconds=8") && !strings.Contains(q, "timeoutSeconds=9") {
		t.Errorf("query %q, want timeoutSeconds of about 90", q)
	}
	cancel()
	for range ch {
	}
}

func TestWatchOpenIsRetriedLikeAnyGet(t *testing.T) {
	srv := newScripted(t, answer(http.StatusServiceUnavailable, "2"), func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}}` + "\n"))
	})
	c, fc := fakeClockClient(t, srv.srv.URL, Config{})
	opened := make(chan (<-chan meta.WatchEvent[*Widget]), 1)
	go func() {
		ch, err := For(c, widgets).Watch(context.Background(), meta.ListOptions{})
		if err != nil {
			t.Error(err)
			close(opened)
			return
		}
		opened <- ch
	}()
	// Two waiters: the watch's header timeout and the retry's delay.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := fc.BlockUntilWaiters(ctx, 2); err != nil {
		t.Fatal(err)
	}
	fc.Step(2 * time.Second)
	ch, ok := <-opened
	if !ok {
		return
	}
	ev, ok := next(t, ch)
	if !ok || ev.Type != meta.Added || ev.Object.Name != "a" {
		t.Fatalf("event %v %+v", ev.Type, ev.Object)
	}
	if _, ok := next(t, ch); ok {
		t.Fatal("the watch stayed open after its stream ended")
	}
}
