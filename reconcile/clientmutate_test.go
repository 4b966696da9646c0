package reconcile_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// sprocket is a test type with a status of conditions.
type sprocket struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            struct {
		Size int `json:"size"`
	} `json:"spec"`
	Status struct {
		Conditions []meta.Condition `json:"conditions,omitempty"`
	} `json:"status,omitzero"`
}

// rangeCounter counts the reads a store makes of its KV.
type rangeCounter struct {
	kv.KV
	ranges atomic.Int64
}

func (r *rangeCounter) Range(ctx context.Context, req kv.RangeRequest) (*kv.RangeResponse, error) {
	r.ranges.Add(1)
	return r.KV.Range(ctx, req)
}

type mutateFixture struct {
	kv     *rangeCounter
	st     *store.Store[*sprocket]
	src    *gatedSource[*sprocket]
	fresh  *reconcile.Freshness
	client *reconcile.Client[*sprocket]
}

// newMutateFixture stores g, then starts a client whose cache holds g as
// created and sees no later write until src is released.
func newMutateFixture(t *testing.T, g *sprocket) (*mutateFixture, *sprocket) {
	t.Helper()
	engine := mvcc.New(mvcc.Options{})
	t.Cleanup(func() { _ = engine.Close() })
	f := &mutateFixture{kv: &rangeCounter{KV: engine}, fresh: reconcile.NewFreshness()}
	f.st = store.New[*sprocket](f.kv, store.Resource[*sprocket]{Name: "sprockets", Kind: "Sprocket", APIVersion: "test/v1", Namespaced: true})
	ctx := ctxFor(t)
	created, err := f.st.Create(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	f.src = &gatedSource[*sprocket]{st: f.st, held: make(chan struct{})}
	t.Cleanup(f.src.release)
	inf := informer.New[*sprocket](f.src, informer.Options[*sprocket]{Logger: slog.New(slog.DiscardHandler)})
	if f.client, err = reconcile.NewClient(f.st, inf, f.fresh); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = inf.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	if !informer.WaitForCacheSync(ctx, inf) {
		t.Fatal("informer did not sync")
	}
	return f, created
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	t.Cleanup(cancel)
	return ctx
}

// reconcileOnce runs r once, as a controller with f's Freshness does, and
// returns its error.
func (f *mutateFixture) reconcileOnce(t *testing.T, r func(ctx context.Context) error) error {
	t.Helper()
	errs := make(chan error, 1)
	ctrl, err := reconcile.New[string](reconcile.Func[string](func(ctx context.Context, _ string) (reconcile.Result, error) {
		errs <- r(ctx)
		return reconcile.Done(), nil
	}), reconcile.Options[string]{Name: "mutate", Clock: clocktest.New(epoch), Freshness: f.fresh, FreshnessTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	started(t, ctrl)
	ctrl.Enqueue("g")
	return waitChan(t, errs, "reconcile")
}

func newSprocket() *sprocket {
	return &sprocket{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "g"}}
}

// The cache is behind the store when a reconcile sets a condition: the
// write from the cached object meets a Conflict, so MutateStatus re-reads
// and applies the change to the latest version, keeping the other writer's
// change, and the write is recorded for read-your-own-writes.
func TestMutateStatusRetriesOnConflict(t *testing.T) {
	f, created := newMutateFixture(t, newSprocket())
	ctx := ctxFor(t)
	other := meta.DeepCopy(created)
	other.Spec.Size = 5
	if _, err := f.st.Update(ctx, other); err != nil {
		t.Fatal(err)
	}

	var runs int
	var out *sprocket
	err := f.reconcileOnce(t, func(ctx context.Context) error {
		cached, err := f.client.Get("ns", "g")
		if err != nil {
			return err
		}
		out, err = f.client.MutateStatus(ctx, cached, func(g *sprocket) error {
			runs++
			meta.SetStatusCondition(&g.Status.Conditions, meta.Condition{Type: "Ready", Status: meta.ConditionTrue,
				Reason: "Sized", ObservedGeneration: g.Generation}, epoch)
			return nil
		})
		return err
	})
	if err != nil {
		t.Fatalf("MutateStatus: %v", err)
	}
	if runs != 2 {
		t.Errorf("mutate ran %d times, want 2 (the stale cached copy, then the latest)", runs)
	}
	stored, err := f.st.Get(ctx, "ns", "g")
	if err != nil {
		t.Fatal(err)
	}
	if stored.Spec.Size != 5 || !meta.IsStatusConditionCurrent(stored.Status.Conditions, "Ready", stored.Generation) ||
		!meta.IsStatusConditionTrue(stored.Status.Conditions, "Ready") {
		t.Errorf("stored = %+v, want size 5 with a current Ready condition", stored)
	}
	if out.ResourceVersion != stored.ResourceVersion {
		t.Errorf("returned resourceVersion %s, stored %s", out.ResourceVersion, stored.ResourceVersion)
	}
	if n := f.fresh.Pending(); n != 1 {
		t.Errorf("pending writes = %d, want the status write recorded", n)
	}
}

// A mutate that changes nothing writes nothing, and does not even read the
// store: a reconcile that adds a finalizer already there costs nothing.
func TestMutateWritesOnlyWhenChanged(t *testing.T) {
	g := newSprocket()
	meta.AddFinalizer(g, "test/cleanup")
	f, created := newMutateFixture(t, g)
	ctx := ctxFor(t)
	cached, err := f.client.Get("ns", "g")
	if err != nil {
		t.Fatal(err)
	}
	before := f.kv.ranges.Load()
	out, err := f.client.Mutate(ctx, cached, func(g *sprocket) error {
		if meta.AddFinalizer(g, "test/cleanup") {
			t.Error("AddFinalizer changed an object that had the finalizer")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if reads := f.kv.ranges.Load() - before; reads != 0 {
		t.Errorf("a mutate that changed nothing read the store %d times", reads)
	}
	if out == cached || out.ResourceVersion != created.ResourceVersion {
		t.Errorf("returned %p rv %s, want a private copy at %s", out, out.ResourceVersion, created.ResourceVersion)
	}

	// A real change is written.
	out, err = f.client.Mutate(ctx, cached, func(g *sprocket) error {
		meta.AddFinalizer(g, "test/other")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.ResourceVersion == created.ResourceVersion || !meta.ContainsFinalizer(out, "test/other") {
		t.Errorf("after a change: %+v", out.ObjectMeta)
	}
	if len(cached.Finalizers) != 1 {
		t.Errorf("the cached object was modified: %q", cached.Finalizers)
	}
}

// When the object was deleted and recreated behind the cache's back, the
// retry does not apply a change meant for the old object to the new one.
func TestMutateDoesNotFollowARecreatedObject(t *testing.T) {
	f, created := newMutateFixture(t, newSprocket())
	ctx := ctxFor(t)
	if _, err := f.st.Delete(ctx, "ns", "g", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	recreated, err := f.st.Create(ctx, newSprocket())
	if err != nil {
		t.Fatal(err)
	}
	cached, err := f.client.Get("ns", "g")
	if err != nil || cached.UID != created.UID {
		t.Fatalf("cached = %v, %v; want the old object", cached, err)
	}
	_, err = f.client.Mutate(ctx, cached, func(g *sprocket) error {
		g.Spec.Size = 9
		return nil
	})
	if !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("Mutate = %v, want Conflict", err)
	}
	stored, err := f.st.Get(ctx, "ns", "g")
	if err != nil {
		t.Fatal(err)
	}
	if stored.Spec.Size != 0 || stored.ResourceVersion != recreated.ResourceVersion {
		t.Errorf("the recreated object was changed: %+v", stored)
	}
}

// PatchStatus and GuaranteedUpdateStatus write the status only, and record
// the write for read-your-own-writes.
func TestStatusWritesAreRecorded(t *testing.T) {
	for name, write := range map[string]func(ctx context.Context, c *reconcile.Client[*sprocket]) (*sprocket, error){
		"PatchStatus": func(ctx context.Context, c *reconcile.Client[*sprocket]) (*sprocket, error) {
			return c.PatchStatus(ctx, "ns", "g", []byte(`{"spec":{"size":7},"status":{"conditions":[{"type":"Ready","status":"True","lastTransitionTime":null,"reason":"","message":""}]}}`))
		},
		"GuaranteedUpdateStatus": func(ctx context.Context, c *reconcile.Client[*sprocket]) (*sprocket, error) {
			return c.GuaranteedUpdateStatus(ctx, "ns", "g", func(g *sprocket) (*sprocket, error) {
				g.Spec.Size = 7
				meta.SetStatusCondition(&g.Status.Conditions, meta.Condition{Type: "Ready", Status: meta.ConditionTrue}, epoch)
				return g, nil
			})
		},
	} {
		t.Run(name, func(t *testing.T) {
			f, _ := newMutateFixture(t, newSprocket())
			var out *sprocket
			err := f.reconcileOnce(t, func(ctx context.Context) (err error) {
				out, err = write(ctx, f.client)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if out.Spec.Size != 0 || !meta.IsStatusConditionTrue(out.Status.Conditions, "Ready") {
				t.Errorf("written = %+v, want the status only", out)
			}
			if n := f.fresh.Pending(); n != 1 {
				t.Errorf("pending writes = %d, want 1", n)
			}
		})
	}
}

// Removing the last finalizer of an object marked for deletion lets the
// store delete it; the write is recorded as one to wait out of the cache.
func TestMutateRemovingTheLastFinalizerDeletes(t *testing.T) {
	s := newSprocket()
	meta.AddFinalizer(s, "test/cleanup")
	f, _ := newMutateFixture(t, s)
	ctx := ctxFor(t)
	if _, err := f.st.Delete(ctx, "ns", "g", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	err := f.reconcileOnce(t, func(ctx context.Context) error {
		cached, err := f.client.Get("ns", "g") // stale: not yet marked for deletion
		if err != nil {
			return err
		}
		_, err = f.client.Mutate(ctx, cached, func(s *sprocket) error {
			meta.RemoveFinalizer(s, "test/cleanup")
			return nil
		})
		return err
	})
	if err != nil {
		t.Fatalf("Mutate: %v", err)
	}
	if _, err := f.st.Get(ctx, "ns", "g"); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("Get after the last finalizer went: %v, want NotFound", err)
	}
	if n := f.fresh.Pending(); n != 1 {
		t.Errorf("pending writes = %d, want the deletion recorded", n)
	}
}
