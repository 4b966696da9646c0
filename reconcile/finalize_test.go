package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

const testFinalizer = "test.io/cleanup"

// finalizeFixture is a store of sprockets on a fake clock and a Client
// whose cache reports each object it adds.
type finalizeFixture struct {
	clk    *clocktest.Fake
	st     *store.Store[*sprocket]
	client *reconcile.Client[*sprocket]
	added  chan string
}

func newFinalizeFixture(t *testing.T) *finalizeFixture {
	t.Helper()
	clk := clocktest.New(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC))
	engine := mvcc.New(mvcc.Options{Clock: clk})
	t.Cleanup(func() { _ = engine.Close() })
	f := &finalizeFixture{clk: clk, added: make(chan string, 16),
		st: store.NewWithOptions(engine, store.Resource[*sprocket]{Name: "sprockets", Kind: "Sprocket", APIVersion: "test/v1", Namespaced: true},
			store.Options{Clock: clk})}
	inf := informer.New[*sprocket](f.st, informer.Options[*sprocket]{Logger: slog.New(slog.DiscardHandler)})
	if _, err := inf.AddHandler(informer.HandlerFuncs[*sprocket]{AddFunc: func(s *sprocket, _ bool) { f.added <- s.Name }}); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.client, err = reconcile.NewClient(f.st, inf, nil); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = inf.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return f
}

func (f *finalizeFixture) create(t *testing.T, s *sprocket) *sprocket {
	t.Helper()
	out, err := f.st.Create(ctxFor(t), s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFinalizeAddsTheFinalizerOnlyWhenMissing(t *testing.T) {
	f := newFinalizeFixture(t)
	ctx := ctxFor(t)
	s := f.create(t, &sprocket{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "a"}})
	cleanups := 0
	cleanup := func(context.Context, *sprocket) error { cleanups++; return nil }
	out, deleting, err := reconcile.Finalize(ctx, f.client, s, testFinalizer, cleanup)
	if err != nil || deleting || !meta.ContainsFinalizer(out, testFinalizer) {
		t.Fatalf("Finalize = %v, %v, %v; want the finalizer added, not deleting", out.Finalizers, deleting, err)
	}
	if stored, _ := f.st.Get(ctx, "ns", "a"); !meta.ContainsFinalizer(stored, testFinalizer) || stored.ResourceVersion != out.ResourceVersion {
		t.Fatalf("stored %v at %s, want the finalizer at %s", stored.Finalizers, stored.ResourceVersion, out.ResourceVersion)
	}
	again, deleting, err := reconcile.Finalize(ctx, f.client, out, testFinalizer, cleanup)
	if err != nil || deleting || again.ResourceVersion != out.ResourceVersion {
		t.Errorf("second Finalize = rv %s, %v, %v; want no write (rv %s)", again.ResourceVersion, deleting, err, out.ResourceVersion)
	}
	if cleanups != 0 {
		t.Errorf("cleanup ran %d times on an object not being deleted", cleanups)
	}
}

func TestFinalizeCleansUpThenLetsTheObjectGo(t *testing.T) {
	f := newFinalizeFixture(t)
	ctx := ctxFor(t)
	f.create(t, &sprocket{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "a", Finalizers: []string{testFinalizer}}})
	deleted, err := f.st.Delete(ctx, "ns", "a", meta.DeleteOptions{})
	if err != nil || deleted.DeletionTimestamp == nil {
		t.Fatalf("delete = %+v, %v; want it marked for deletion", deleted, err)
	}
	failed := errors.New("bucket unreachable")
	_, deleting, err := reconcile.Finalize(ctx, f.client, deleted, testFinalizer, func(context.Context, *sprocket) error { return failed })
	if !deleting || !errors.Is(err, failed) {
		t.Fatalf("Finalize with a failing cleanup = %v, %v; want deleting and its error", deleting, err)
	}
	if _, err := f.st.Get(ctx, "ns", "a"); err != nil {
		t.Fatalf("the object went although its cleanup failed: %v", err)
	}
	var cleaned *sprocket
	_, deleting, err = reconcile.Finalize(ctx, f.client, deleted, testFinalizer, func(_ context.Context, s *sprocket) error { cleaned = s; return nil })
	if !deleting || err != nil || cleaned != deleted {
		t.Fatalf("Finalize = %v, %v, cleanup got %p; want deleting, nil, the object %p", deleting, err, cleaned, deleted)
	}
	if _, err := f.st.Get(ctx, "ns", "a"); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("after the cleanup: %v, want the object gone", err)
	}
}

func TestFinalizeLeavesOthersFinalizers(t *testing.T) {
	f := newFinalizeFixture(t)
	ctx := ctxFor(t)
	f.create(t, &sprocket{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "a", Finalizers: []string{"other.io/keep"}}})
	deleted, err := f.st.Delete(ctx, "ns", "a", meta.DeleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, deleting, err := reconcile.Finalize(ctx, f.client, deleted, testFinalizer, func(context.Context, *sprocket) error {
		t.Error("cleanup ran for a finalizer the object does not have")
		return nil
	})
	if !deleting || err != nil || out != deleted {
		t.Errorf("Finalize = %v, %v; want deleting with nothing to do", deleting, err)
	}
	if stored, err := f.st.Get(ctx, "ns", "a"); err != nil || stored.ResourceVersion != deleted.ResourceVersion {
		t.Errorf("stored = %v, %v; want untouched", stored, err)
	}
}

func TestIgnoreNotFound(t *testing.T) {
	other := errors.New("boom")
	for _, tc := range []struct {
		err, want error
	}{
		{nil, nil},
		{meta.NewNotFound("sprockets", "ns/a"), nil},
		{fmt.Errorf("get: %w", meta.ErrNotFound), nil},
		{other, other},
		{meta.ErrConflict, meta.ErrConflict},
	} {
		if got := reconcile.IgnoreNotFound(tc.err); got != tc.want {
			t.Errorf("IgnoreNotFound(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestClientControlledByListsTheOwnersChildrenOldestFirst(t *testing.T) {
	f := newFinalizeFixture(t)
	owner := f.create(t, &sprocket{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "owner"}})
	other := f.create(t, &sprocket{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "other"}})
	child := func(name string, controller *sprocket, plainOwner bool) {
		s := &sprocket{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: name}}
		if controller != nil {
			if err := meta.SetControllerReference(controller, s); err != nil {
				t.Fatal(err)
			}
		}
		if plainOwner {
			if err := meta.SetOwnerReference(owner, s); err != nil {
				t.Fatal(err)
			}
		}
		f.create(t, s)
	}
	child("c-newer-name-first", owner, false) // created first: oldest despite its name
	f.clk.Step(time.Second)
	child("b-mine", owner, false)
	child("a-mine-too", owner, false) // same second: by name
	child("theirs", other, false)
	child("owned-not-controlled", nil, true)
	for range 7 {
		waitChan(t, f.added, "the cache to add every object")
	}
	var got []string
	for _, s := range f.client.ControlledBy(owner) {
		got = append(got, s.Name)
	}
	if want := []string{"c-newer-name-first", "a-mine-too", "b-mine"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ControlledBy = %v, want %v", got, want)
	}
}
