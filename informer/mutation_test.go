package informer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/governor-io/governor/store/meta"
)

// mutationInformer returns a running informer over two widgets with the
// mutation detector on, and the channel its reports arrive on.
func mutationInformer(t *testing.T, h Handler[*widget]) (*fakeSource, *Informer[*widget], *Registration, chan error) {
	t.Helper()
	src := seeded(2)
	reports := make(chan error, 16)
	inf := newTestInformer(src, Options[*widget]{Name: "widgets", DetectMutations: true,
		OnMutation: func(err error) { reports <- err }})
	reg, err := inf.AddHandlerWithOptions(h, HandlerOptions{Name: "h"})
	if err != nil {
		t.Fatal(err)
	}
	run(t, inf)
	waitSynced(t, inf, reg)
	return src, inf, reg, reports
}

func waitIdle(t *testing.T, reg *Registration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := reg.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

func recv(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler was not called")
	}
}

func wantMutation(t *testing.T, err error, key, where, diff string) {
	t.Helper()
	var me *MutationError
	if !errors.As(err, &me) || !errors.Is(err, ErrCacheMutation) {
		t.Fatalf("error = %v, want a *MutationError", err)
	}
	if me.Informer != "widgets" || me.Key != key || !strings.Contains(me.Where, where) || !strings.Contains(me.Diff, diff) {
		t.Errorf("mutation = %+v, want key %s, where %q, diff with %q", me, key, where, diff)
	}
	if !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "meta.DeepCopy") {
		t.Errorf("message %q names neither the object nor the fix", err)
	}
}

func noMutation(t *testing.T, reports chan error) {
	t.Helper()
	select {
	case err := <-reports:
		t.Fatalf("unexpected report: %v", err)
	default:
	}
}

func TestMutationDetectorCatchesAHandlerThatModifiesItsObject(t *testing.T) {
	_, _, reg, reports := mutationInformer(t, HandlerFuncs[*widget]{AddFunc: func(w *widget, _ bool) {
		if w.Name == "b" {
			w.Spec = "changed"
		}
	}})
	waitIdle(t, reg)
	select {
	case err := <-reports:
		wantMutation(t, err, "ns/b", `after handler "h" returned from OnAdd`, `+ "spec": "changed"`)
	default:
		t.Fatal("the modification was not reported when the handler returned")
	}
	noMutation(t, reports) // once, not again
}

func TestMutationDetectorAcceptsAHandlerThatCopiesFirst(t *testing.T) {
	updated := make(chan struct{}, 1)
	src, inf, reg, reports := mutationInformer(t, HandlerFuncs[*widget]{
		AddFunc: func(w *widget, _ bool) { meta.DeepCopy(w).Spec = "changed" },
		UpdateFunc: func(_, w *widget) {
			c := meta.DeepCopy(w)
			c.Labels = map[string]string{"x": "y"}
			updated <- struct{}{}
		},
	})
	src.update(newWidget("ns", "a", "v2", nil))
	recv(t, updated)
	waitIdle(t, reg)
	if w, _ := inf.Lister().Get("ns", "a"); w.Spec != "v2" {
		t.Fatalf("cache has %q, want v2", w.Spec)
	}
	if err := inf.CheckMutations(); err != nil {
		t.Fatal(err)
	}
	noMutation(t, reports)
}

func TestMutationDetectorCatchesAListerReaderAtTheNextEventAndAtCheck(t *testing.T) {
	updated := make(chan struct{}, 1)
	src, inf, reg, reports := mutationInformer(t, HandlerFuncs[*widget]{
		UpdateFunc: func(_, _ *widget) { updated <- struct{}{} },
	})
	a, _ := inf.Lister().Get("ns", "a")
	a.Labels = map[string]string{"team": "x"} // a reconciler writing to its cache
	b, _ := inf.Lister().Get("ns", "b")
	b.Spec = "changed"

	src.update(newWidget("ns", "a", "v2", nil))
	recv(t, updated) // the cache replaced a, after checking it
	waitIdle(t, reg)
	select {
	case err := <-reports:
		wantMutation(t, err, "ns/a", "at the next event on its key", `"team": "x"`)
	default:
		t.Fatal("the modification was not reported at the next event")
	}
	err := inf.CheckMutations()
	wantMutation(t, err, "ns/b", "by CheckMutations", `+ "spec": "changed"`)
	if err := inf.CheckMutations(); err != nil {
		t.Errorf("a second check reports again: %v", err)
	}
	noMutation(t, reports)
}

func TestMutationDetectorChecksEverythingWhenRunReturns(t *testing.T) {
	src := seeded(1)
	reports := make(chan error, 1)
	inf := newTestInformer(src, Options[*widget]{Name: "widgets", DetectMutations: true,
		OnMutation: func(err error) { reports <- err }})
	stop := run(t, inf)
	waitSynced(t, inf)
	a, _ := inf.Lister().Get("ns", "a")
	a.Spec = "changed"
	stop()
	select {
	case err := <-reports:
		wantMutation(t, err, "ns/a", "when the informer stopped", `+ "spec": "changed"`)
	default:
		t.Fatal("nothing was reported when Run returned")
	}
}

func TestMutationDetectorIsOffByDefault(t *testing.T) {
	src := seeded(1)
	inf := newTestInformer(src, Options[*widget]{})
	run(t, inf)
	waitSynced(t, inf)
	a, _ := inf.Lister().Get("ns", "a")
	a.Spec = "changed"
	if err := inf.CheckMutations(); err != nil {
		t.Fatalf("CheckMutations without the detector = %v", err)
	}
}
