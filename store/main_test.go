package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Widget is the test type: namespaced, with a spec, a status and a
// registered field.
type Widget struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            WidgetSpec   `json:"spec"`
	Status          WidgetStatus `json:"status,omitzero"`
}

type WidgetSpec struct {
	Size int      `json:"size"`
	Node string   `json:"node,omitempty"`
	Tags []string `json:"tags,omitempty"`
}

type WidgetStatus struct {
	Ready bool `json:"ready,omitempty"`
	Count int  `json:"count,omitempty"`
}

func widgetResource() store.Resource[*Widget] {
	return store.Resource[*Widget]{
		Name:       "widgets",
		Kind:       "Widget",
		APIVersion: "example.io/v1",
		Namespaced: true,
		Validate: func(w *Widget) []meta.Cause {
			if w.Spec.Size < 0 {
				return []meta.Cause{{Field: "spec.size", Message: "must be non-negative"}}
			}
			return nil
		},
		Fields: map[string]func(*Widget) string{"spec.node": func(w *Widget) string { return w.Spec.Node }},
	}
}

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type env struct {
	kv    *mvcc.Engine
	clock *clocktest.Fake
	s     *store.Store[*Widget]
}

// newEnv returns a Store on a fresh engine with a fake clock and, unless
// bookmarks says otherwise, no bookmark ticks.
func newEnv(t *testing.T, bookmarks ...time.Duration) *env {
	t.Helper()
	fake := clocktest.New(epoch)
	e := mvcc.New(mvcc.Options{Clock: fake, ProgressInterval: -1})
	t.Cleanup(func() { e.Close() })
	opts := store.Options{Clock: fake, BookmarkInterval: -1}
	for _, b := range bookmarks {
		opts.BookmarkInterval = b
	}
	return &env{kv: e, clock: fake, s: store.NewWithOptions(e, widgetResource(), opts)}
}

func widget(ns, name string, size int) *Widget {
	return &Widget{ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: name}, Spec: WidgetSpec{Size: size}}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

func wantReason(t *testing.T, err error, want *meta.StatusError) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v (reason %q), want reason %q", err, meta.ReasonOf(err), want.Reason)
	}
}
