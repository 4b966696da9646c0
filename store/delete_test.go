package store_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
)

func TestDeletePropagation(t *testing.T) {
	const (
		bg     = meta.DeletePropagationBackground
		fg     = meta.DeletePropagationForeground
		orphan = meta.DeletePropagationOrphan
		fgF    = meta.FinalizerDeleteDependents
		orF    = meta.FinalizerOrphanDependents
	)
	for _, tc := range []struct {
		name       string
		def        meta.DeletionPropagation // the Resource's default
		finalizers []string                 // at creation
		deletes    []meta.DeletionPropagation
		gone       bool
		want       []string // finalizers after the deletes, when not gone
	}{
		{name: "background deletes at once", deletes: []meta.DeletionPropagation{bg}, gone: true},
		{name: "no policy is background by default", deletes: []meta.DeletionPropagation{""}, gone: true},
		{name: "background waits on other finalizers", finalizers: []string{"example.io/x"},
			deletes: []meta.DeletionPropagation{bg}, want: []string{"example.io/x"}},
		{name: "foreground adds foregroundDeletion", deletes: []meta.DeletionPropagation{fg}, want: []string{fgF}},
		{name: "foreground keeps other finalizers", finalizers: []string{"example.io/x"},
			deletes: []meta.DeletionPropagation{fg}, want: []string{"example.io/x", fgF}},
		{name: "orphan adds orphan", deletes: []meta.DeletionPropagation{orphan}, want: []string{orF}},
		{name: "no policy honours a recorded orphan finalizer", finalizers: []string{orF},
			deletes: []meta.DeletionPropagation{""}, want: []string{orF}},
		{name: "no policy honours a recorded foreground finalizer", finalizers: []string{fgF},
			deletes: []meta.DeletionPropagation{""}, want: []string{fgF}},
		{name: "a resource's default orphan policy", def: orphan, deletes: []meta.DeletionPropagation{""}, want: []string{orF}},
		{name: "an explicit policy beats the resource's default", def: orphan, deletes: []meta.DeletionPropagation{bg}, gone: true},
		{name: "an explicit policy replaces a recorded finalizer", finalizers: []string{orF},
			deletes: []meta.DeletionPropagation{fg}, want: []string{fgF}},
		{name: "deleting again switches orphan to foreground", deletes: []meta.DeletionPropagation{orphan, fg}, want: []string{fgF}},
		{name: "deleting again switches foreground to orphan", deletes: []meta.DeletionPropagation{fg, orphan}, want: []string{orF}},
		{name: "background after orphan removes the object", deletes: []meta.DeletionPropagation{orphan, bg}, gone: true},
		{name: "background after foreground keeps other finalizers", finalizers: []string{"example.io/x"},
			deletes: []meta.DeletionPropagation{fg, bg}, want: []string{"example.io/x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			fake := e.clock
			res := widgetResource()
			res.DefaultPropagationPolicy = tc.def
			s := store.NewWithOptions(e.kv, res, store.Options{Clock: fake})
			ctx := ctxT(t)
			w := widget("ns", "a", 1)
			w.Finalizers = tc.finalizers
			must[*Widget](t)(s.Create(ctx, w))
			var first *meta.Time
			for i, p := range tc.deletes {
				got, err := s.Delete(ctx, "ns", "a", meta.DeleteOptions{PropagationPolicy: p})
				if err != nil {
					t.Fatalf("delete %d (%q): %v", i, p, err)
				}
				if first == nil {
					first = got.DeletionTimestamp
				}
				fake.Step(time.Minute) // a later delete must not move the deletionTimestamp
			}
			got, err := s.Get(ctx, "ns", "a")
			if tc.gone {
				wantReason(t, err, meta.ErrNotFound)
				return
			}
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			if !slices.Equal(got.Finalizers, tc.want) {
				t.Fatalf("finalizers = %q, want %q", got.Finalizers, tc.want)
			}
			if got.DeletionTimestamp == nil || !got.DeletionTimestamp.Equal(epoch) || !first.Equal(epoch) {
				t.Fatalf("deletionTimestamp = %v, want %v, set by the first delete", got.DeletionTimestamp, epoch)
			}
			if g := got.DeletionGracePeriodSeconds; g == nil || *g != 0 {
				t.Fatalf("deletionGracePeriodSeconds = %v, want 0", g)
			}
		})
	}
}

func TestDeleteForegroundTwiceWritesOnce(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	must[*Widget](t)(e.s.Create(ctx, widget("ns", "a", 1)))
	opts := meta.DeleteOptions{PropagationPolicy: meta.DeletePropagationForeground}
	first := must[*Widget](t)(e.s.Delete(ctx, "ns", "a", opts))
	rev := e.kv.Revision()
	again := must[*Widget](t)(e.s.Delete(ctx, "ns", "a", opts))
	if e.kv.Revision() != rev || again.ResourceVersion != first.ResourceVersion {
		t.Fatal("a second foreground delete wrote")
	}
	// The garbage collector removing the finalizer removes the object.
	again.Finalizers = nil
	must[*Widget](t)(e.s.Update(ctx, again))
	_, err := e.s.Get(ctx, "ns", "a")
	wantReason(t, err, meta.ErrNotFound)
}

func TestDeleteRejectsUnknownPolicy(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	must[*Widget](t)(e.s.Create(ctx, widget("ns", "a", 1)))
	_, err := e.s.Delete(ctx, "ns", "a", meta.DeleteOptions{PropagationPolicy: "Sideways"})
	wantReason(t, err, meta.ErrInvalid)
	if _, err := e.s.Get(ctx, "ns", "a"); err != nil {
		t.Fatalf("a rejected delete removed the object: %v", err)
	}

	res := widgetResource()
	res.DefaultPropagationPolicy = "Sideways"
	s := store.NewWithOptions(e.kv, res, store.Options{Clock: e.clock})
	_, err = s.Delete(ctx, "ns", "a", meta.DeleteOptions{})
	wantReason(t, err, meta.ErrInternal)
}

func TestPropagationFinalizersAreExclusive(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	w := widget("ns", "a", 1)
	w.Finalizers = []string{meta.FinalizerOrphanDependents, meta.FinalizerDeleteDependents}
	_, err := e.s.Create(ctx, w)
	wantReason(t, err, meta.ErrInvalid)
}

func TestDeleteOptionsWireFormat(t *testing.T) {
	// kubectl's body, and client-go's with a uid precondition.
	var o meta.DeleteOptions
	if err := json.Unmarshal([]byte(`{"propagationPolicy":"Foreground","preconditions":{"uid":"u1"}}`), &o); err != nil {
		t.Fatal(err)
	}
	if o.PropagationPolicy != meta.DeletePropagationForeground || o.Preconditions == nil || *o.Preconditions.UID != "u1" {
		t.Fatalf("decoded %+v", o)
	}
	data, err := json.Marshal(meta.DeleteOptions{PropagationPolicy: meta.DeletePropagationBackground})
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != `{"propagationPolicy":"Background"}` {
		t.Fatalf("encoded %s", data)
	}
}
