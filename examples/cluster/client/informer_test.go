package client

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store/meta"
)

var _ informer.ListerWatcher[*Widget] = (*Resource[*Widget])(nil)

// events collects what an informer's handler sees, as "TYPE name color".
type events struct {
	mu   sync.Mutex
	seen []string
	ch   chan string
}

func (e *events) handler() informer.HandlerFuncs[*Widget] {
	note := func(s string) {
		e.mu.Lock()
		e.seen = append(e.seen, s)
		e.mu.Unlock()
		e.ch <- s
	}
	return informer.HandlerFuncs[*Widget]{
		AddFunc:    func(w *Widget, _ bool) { note("add " + w.Name + " " + w.Spec.Color) },
		UpdateFunc: func(_, w *Widget) { note("update " + w.Name + " " + w.Spec.Color) },
		DeleteFunc: func(w *Widget, _ bool) { note("delete " + w.Name) },
	}
}

func (e *events) await(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case s := <-e.ch:
			if s == want {
				return
			}
		case <-timeout:
			e.mu.Lock()
			defer e.mu.Unlock()
			t.Fatalf("never saw %q; saw %q", want, e.seen)
		}
	}
}

// TestInformerOverTheWire runs a Governor informer over the client, as a
// component in another process does: it syncs, follows changes, resumes
// when the server ends its watch, and relists when its resourceVersion has
// expired.
func TestInformerOverTheWire(t *testing.T) {
	for _, stream := range []bool{false, true} {
		name := "list then watch"
		if stream {
			name = "streaming list"
		}
		t.Run(name, func(t *testing.T) {
			f := newFakeServer(t)
			r := For(f.client(t, Config{}), widgets)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for _, n := range []string{"a", "b"} {
				if _, err := r.Create(ctx, widget("default", n, nil, "red")); err != nil {
					t.Fatal(err)
				}
			}

			inf := informer.New[*Widget](r, informer.Options[*Widget]{Name: "widgets", StreamInitialList: stream, PageSize: 1})
			ev := &events{ch: make(chan string, 100)}
			if _, err := inf.AddHandler(ev.handler()); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- inf.Run(ctx) }()
			select {
			case <-inf.SyncDone():
			case <-time.After(30 * time.Second):
				t.Fatal("the informer never synced")
			}
			if got, err := inf.Lister().List(""); err != nil || len(got) != 2 {
				t.Fatalf("synced with %d objects (%v), want 2", len(got), err)
			}

			// Follows changes.
			if _, err := r.Create(ctx, widget("default", "c", nil, "red")); err != nil {
				t.Fatal(err)
			}
			ev.await(t, "add c red")

			// The server ends the watch (a restart, its timeout): the
			// informer watches again from where it was, missing nothing.
			f.endWatches()
			if _, err := r.Patch(ctx, "default", "a", MergePatch, []byte(`{"spec":{"color":"blue"}}`)); err != nil {
				t.Fatal(err)
			}
			ev.await(t, "update a blue")

			// The resourceVersion has expired: the next watch gets an
			// ERROR 410, and the informer lists again.
			var once sync.Once
			expired := make(chan struct{})
			at410 := -1 // index of the request answered with the 410
			f.mu.Lock()
			f.intercept = func(w http.ResponseWriter, req *http.Request) bool {
				q := req.URL.Query()
				if q.Get("watch") != "true" || q.Get("resourceVersion") == "" {
					return false
				}
				hit := false
				once.Do(func() {
					hit = true
					f.mu.Lock()
					at410 = len(f.requests) - 1
					f.mu.Unlock()
					w.WriteHeader(http.StatusOK)
					_ = json.NewEncoder(w).Encode(map[string]any{"type": meta.Error, "object": meta.ToStatus(meta.NewExpired("too old resource version"))})
					close(expired)
				})
				return hit
			}
			f.mu.Unlock()
			f.endWatches()
			<-expired
			if _, err := r.Delete(ctx, "default", "b", meta.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			ev.await(t, "delete b")

			cancel()
			if err := <-done; err != nil && err != context.Canceled {
				t.Fatalf("Run: %v", err)
			}
			// What went over the wire: after the 410, a fresh initial list
			// (a plain list, or a streaming one), not a watch resumed from
			// the expired resourceVersion.
			relisted := false
			for _, rq := range f.recorded()[at410+1:] {
				if rq.Method == http.MethodGet && (!strings.Contains(rq.Query, "watch=true") || strings.Contains(rq.Query, "sendInitialEvents=true")) {
					relisted = true
					break
				}
			}
			if !relisted {
				t.Error("no list after the 410")
			}
		})
	}
}

// TestReconcilerOverTheWire runs a reconcile controller whose informer
// reads through the client and whose writes go through it: each widget's
// status.ready is made equal to its spec.replicas.
func TestReconcilerOverTheWire(t *testing.T) {
	f := newFakeServer(t)
	r := For(f.client(t, Config{}), widgets)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inf := informer.New[*Widget](r, informer.Options[*Widget]{Name: "widgets"})
	ev := &events{ch: make(chan string, 100)}
	if _, err := inf.AddHandler(ev.handler()); err != nil {
		t.Fatal(err)
	}
	readyAt := make(chan string, 10)
	rec := reconcile.Func[reconcile.Request](func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		w, ok := inf.Lister().Get(req.Namespace, req.Name)
		if !ok {
			return reconcile.Result{}, nil
		}
		if w.Status.Ready == w.Spec.Replicas {
			readyAt <- w.Name
			return reconcile.Result{}, nil
		}
		patch := []byte(`{"status":{"ready":` + strings.TrimSpace(jsonInt(w.Spec.Replicas)) + `}}`)
		_, err := r.PatchStatus(ctx, req.Namespace, req.Name, MergePatch, patch)
		return reconcile.Result{}, err
	})
	ctrl, err := reconcile.New[reconcile.Request](rec, reconcile.Options[reconcile.Request]{Name: "widgets", NoLeaderElection: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := ctrl.Watch(reconcile.FromInformer(inf, reconcile.OwnKey[*Widget](), reconcile.InformerOptions[*Widget]{})); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = inf.Run(ctx) }()
	go func() { defer wg.Done(); _ = ctrl.Start(ctx) }()
	defer wg.Wait()
	defer cancel()

	w := widget("default", "a", nil, "red")
	w.Spec.Replicas = 3
	if _, err := r.Create(ctx, w); err != nil {
		t.Fatal(err)
	}
	select {
	case name := <-readyAt:
		if name != "a" {
			t.Fatalf("reconciled %q", name)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the controller never made a ready")
	}
	got, err := r.Get(ctx, "default", "a")
	if err != nil || got.Status.Ready != 3 {
		t.Fatalf("stored widget %+v, %v; want status.ready 3", got, err)
	}
}

func jsonInt(n int32) string {
	b, _ := json.Marshal(n)
	return string(b)
}
