package informer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
)

// The typed store is a source as it is.
var _ ListerWatcher[*widget] = (*store.Store[*widget])(nil)

func TestFuncListerWatcher(t *testing.T) {
	var empty FuncListerWatcher[*widget]
	if _, err := empty.List(context.Background(), meta.ListOptions{}); !errors.Is(err, ErrMissingFunc) {
		t.Errorf("List without ListFunc error = %v, want ErrMissingFunc", err)
	}
	if _, err := empty.Watch(context.Background(), meta.ListOptions{}); !errors.Is(err, ErrMissingFunc) {
		t.Errorf("Watch without WatchFunc error = %v, want ErrMissingFunc", err)
	}
	src := seeded(2)
	lw := FuncListerWatcher[*widget]{ListFunc: src.List, WatchFunc: src.Watch}
	inf := newTestInformerLW(lw)
	run(t, inf)
	waitSynced(t, inf)
	src.create(newWidget("ns", "c", "", nil))
	src.nextWatch(t)
	waitRV(t, inf.refl, "3")
	if n := inf.Lister().Len(); n != 3 {
		t.Errorf("cached %d objects, want 3", n)
	}
}

func newTestInformerLW[T meta.Object](lw ListerWatcher[T]) *Informer[T] {
	inf := New(lw, Options[T]{Logger: quiet})
	hookReflector(inf.refl)
	return inf
}

// small is a compact projection of a widget.
type small struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Size            int
}

func shrink(w *widget) *small {
	return &small{ObjectMeta: meta.ObjectMeta{Name: w.Name, Namespace: w.Namespace,
		ResourceVersion: w.ResourceVersion, Annotations: w.Annotations}, Size: len(w.Spec)}
}

func TestProject(t *testing.T) {
	src := seeded(2)
	src.streaming = true
	lw := Project[*widget, *small](src, shrink)
	l, err := lw.List(context.Background(), meta.ListOptions{})
	if err != nil || len(l.Items) != 2 || l.ResourceVersion != "2" || l.Items[0].Size != 2 {
		t.Fatalf("projected list = %+v, %v", l, err)
	}
	for _, stream := range []bool{false, true} {
		inf := New(lw, Options[*small]{Logger: quiet, StreamInitialList: stream})
		hookReflector(inf.refl)
		stop := run(t, inf)
		waitSynced(t, inf)
		src.nextWatch(t)
		src.update(newWidget("ns", "a", "longer", nil))
		got := src.lastRV()
		waitRV(t, inf.refl, got)
		if s, ok := inf.Lister().Get("ns", "a"); !ok || s.Size != 6 || s.ResourceVersion != got {
			t.Errorf("stream=%v: cached projection = %+v, %v", stream, s, ok)
		}
		stop()
	}
	src.mu.Lock()
	src.listErr = []error{errors.New("down")}
	src.watchErr = []error{errors.New("down")}
	src.mu.Unlock()
	if _, err := lw.List(context.Background(), meta.ListOptions{}); err == nil {
		t.Error("projected List hid the source's error")
	}
	if _, err := lw.Watch(context.Background(), meta.ListOptions{}); err == nil {
		t.Error("projected Watch hid the source's error")
	}
	// Error events pass through with their error.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := lw.Watch(ctx, meta.ListOptions{ResourceVersion: src.lastRV()})
	if err != nil {
		t.Fatal(err)
	}
	src.expire()
	ev := <-ch
	if ev.Type != meta.Error || !errors.Is(ev.Err, meta.ErrExpired) {
		t.Errorf("projected error event = %+v", ev)
	}
	if _, ok := <-ch; ok {
		t.Error("projected watch stayed open after an error event")
	}
}

func TestFactory(t *testing.T) {
	src := seeded(2)
	f := NewFactory(FactoryOptions{Logger: quiet})
	a := InformerFor[*widget](f, src, Options[*widget]{})
	b := InformerFor[*widget](f, src, Options[*widget]{})
	if a != b {
		t.Error("two informers for the same type and selector")
	}
	c := InformerFor[*widget](f, src, Options[*widget]{ListOptions: meta.ListOptions{Namespace: "other"}})
	if c == a {
		t.Error("one informer for two selectors")
	}
	p := InformerFor[*small](f, Project[*widget, *small](src, shrink), Options[*small]{})
	ctx, cancel := context.WithCancel(context.Background())
	f.Start(ctx)
	late := InformerFor[*widget](f, src, Options[*widget]{ListOptions: meta.ListOptions{LabelSelector: "x=y"}})
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if !f.WaitForCacheSync(wctx) || !f.HasSynced() {
		t.Fatal("factory did not sync")
	}
	if !late.HasSynced() || !p.HasSynced() {
		t.Error("an informer asked for after Start was not started")
	}
	if a.Lister().Len() != 2 || c.Lister().Len() != 0 {
		t.Errorf("cached %d and %d objects, want 2 and 0", a.Lister().Len(), c.Lister().Len())
	}
	if a.opts.Name != "*informer.widget" {
		t.Errorf("default name = %q", a.opts.Name)
	}
	cancel()
	f.Shutdown()
}
