package interop_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clientfeatures "k8s.io/client-go/features"
	clientfeaturestesting "k8s.io/client-go/features/testing"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// podEvents records what an informer's handler saw and signals each call.
type podEvents struct {
	mu      sync.Mutex
	updates map[string][]string // name -> resourceVersions of the new objects, in order
	state   map[string]string   // name -> resourceVersion, as the handler was told
	changed chan struct{}       // one pending signal
}

func newPodEvents() *podEvents {
	return &podEvents{updates: map[string][]string{}, state: map[string]string{}, changed: make(chan struct{}, 1)}
}

func (e *podEvents) record(p *corev1.Pod, deleted bool) {
	e.mu.Lock()
	e.updates[p.Name] = append(e.updates[p.Name], p.ResourceVersion)
	if deleted {
		delete(e.state, p.Name)
	} else {
		e.state[p.Name] = p.ResourceVersion
	}
	e.mu.Unlock()
	select {
	case e.changed <- struct{}{}:
	default:
	}
}

func (e *podEvents) handled() map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.state)
}

func (e *podEvents) seen(name string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.updates[name])
}

func (e *podEvents) handler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { e.record(obj.(*corev1.Pod), false) },
		UpdateFunc: func(_, obj any) { e.record(obj.(*corev1.Pod), false) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			e.record(obj.(*corev1.Pod), true)
		},
	}
}

// podVersions maps each pod's name to its resourceVersion.
func podVersions(pods []*corev1.Pod) map[string]string {
	out := make(map[string]string, len(pods))
	for _, p := range pods {
		out[p.Name] = p.ResourceVersion
	}
	return out
}

// serverPods is what the server holds now (a consistent list; of the
// default namespace, so that the recorder of /api/v1/pods sees only the
// informer's requests).
func serverPods(ctx context.Context, t *testing.T, cs kubernetes.Interface) map[string]string {
	t.Helper()
	list, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	out := map[string]string{}
	for _, p := range list.Items {
		out[p.Name] = p.ResourceVersion
	}
	return out
}

// awaitInformer waits, on the handler's signals, until the informer's
// store holds exactly want and its handler has been told of it (the
// store changes before the handler is called).
func awaitInformer(ctx context.Context, t *testing.T, store cache.Store, ev *podEvents, want map[string]string) {
	t.Helper()
	for {
		var pods []*corev1.Pod
		for _, o := range store.List() {
			pods = append(pods, o.(*corev1.Pod))
		}
		got, handled := podVersions(pods), ev.handled()
		if maps.Equal(got, want) && maps.Equal(handled, want) {
			return
		}
		select {
		case <-ev.changed:
		case <-ctx.Done():
			t.Fatalf("the informer holds %v, its handler was told %v, the server holds %v", got, handled, want)
		}
	}
}

// TestClientGoInformerThroughRestart runs a client-go SharedInformer on
// pods, with the streaming initial list (WatchList, client-go's default)
// and with the classic list then watch, against a server on Raft storage.
// The informer syncs, follows updates, and stays in step when the server
// is stopped and a new one started on the same data dir and address: its
// final store equals the server's, and after it is back every update
// reaches the handler, in order.
func TestClientGoInformerThroughRestart(t *testing.T) {
	for _, tc := range []struct {
		name      string
		watchList bool
	}{{"WatchList", true}, {"ListWatch", false}} {
		t.Run(tc.name, func(t *testing.T) {
			// The reflector reads the gate when it is built.
			clientfeaturestesting.SetFeatureDuringTest(t, clientfeatures.WatchListClient, tc.watchList)
			ts := startServer(t, raftStorage)
			ctx := testContext(t)
			cs := ts.clientset(t)
			pods := cs.CoreV1().Pods("default")
			for i := range 3 {
				if _, err := pods.Create(ctx, testPod(fmt.Sprintf("p%d", i), nil), metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := ts.rec.snapshot()

			factory := informers.NewSharedInformerFactory(ts.clientset(t), 0)
			inf := factory.Core().V1().Pods().Informer()
			ev := newPodEvents()
			if _, err := inf.AddEventHandler(ev.handler()); err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			factory.Start(stop)
			defer func() {
				close(stop)
				factory.Shutdown()
			}()
			if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
				t.Fatal("the informer never synced")
			}
			if n := len(inf.GetStore().List()); n != 3 {
				t.Fatalf("synced with %d pods, want 3", n)
			}
			checkInitialRequests(ctx, t, ts.rec, len(before), tc.watchList)

			// Updates are followed.
			p0, err := pods.Patch(ctx, "p0", types.MergePatchType, []byte(`{"metadata":{"labels":{"v":"1"}}}`), metav1.PatchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			awaitInformer(ctx, t, inf.GetStore(), ev, serverPods(ctx, t, cs))
			if got := ev.seen("p0"); got[len(got)-1] != p0.ResourceVersion {
				t.Fatalf("the handler saw p0 at %v, want %s last", got, p0.ResourceVersion)
			}

			// Writes the informer may not have seen when the server stops.
			if _, err := pods.Patch(ctx, "p1", types.MergePatchType, []byte(`{"metadata":{"labels":{"v":"1"}}}`), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := pods.Delete(ctx, "p2", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			ts.restart()

			// The informer is back once it sees a write made after the
			// restart; from then on its watch is open on the new server.
			if _, err := pods.Create(ctx, testPod("sentinel", nil), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			awaitInformer(ctx, t, inf.GetStore(), ev, serverPods(ctx, t, cs))

			var want []string
			for i := range 5 {
				p, err := pods.Patch(ctx, "p0", types.MergePatchType, fmt.Appendf(nil, `{"metadata":{"labels":{"v":"%d"}}}`, i+2), metav1.PatchOptions{})
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, p.ResourceVersion)
			}
			if _, err := pods.Create(ctx, testPod("p3", nil), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := pods.Delete(ctx, "sentinel", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			final := serverPods(ctx, t, cs)
			awaitInformer(ctx, t, inf.GetStore(), ev, final)
			if !slices.Equal(slices.Sorted(maps.Keys(final)), []string{"p0", "p1", "p3"}) {
				t.Fatalf("the server holds %v", final)
			}
			if got := ev.seen("p0"); len(got) < len(want) || !slices.Equal(got[len(got)-len(want):], want) {
				t.Fatalf("the handler saw p0 at %v, want it to end with every update %v", got, want)
			}
		})
	}
}

// checkInitialRequests checks how the informer first loaded pods: one
// watch with sendInitialEvents=true (streaming), or a list and then a
// watch from the list's resourceVersion without initial events (classic).
// The requests are those the recorder saw after the first skip.
func checkInitialRequests(ctx context.Context, t *testing.T, rec *recorder, skip int, watchList bool) {
	t.Helper()
	want := 1
	if !watchList {
		want = 2 // the watch may start after the informer has synced
	}
	var reqs []request
	for {
		all, next := rec.snapshot()
		if reqs = all[skip:]; len(reqs) >= want {
			break
		}
		select {
		case <-next:
		case <-ctx.Done():
			t.Fatalf("the server received %v for pods, want %d requests", reqs, want)
		}
	}
	first := reqs[0]
	if watchList {
		if !first.watch() || first.Query.Get("sendInitialEvents") != "true" ||
			first.Query.Get("resourceVersionMatch") != "NotOlderThan" || first.Query.Get("allowWatchBookmarks") != "true" {
			t.Fatalf("first request %v, want a watch with sendInitialEvents=true, NotOlderThan and bookmarks", first.Query)
		}
		for _, r := range reqs {
			if !r.watch() {
				t.Fatalf("the streaming informer also listed: %v", r.Query)
			}
		}
		return
	}
	if first.watch() || first.Query.Has("sendInitialEvents") {
		t.Fatalf("first request %v, want a plain list", first.Query)
	}
	second := reqs[1]
	if !second.watch() || second.Query.Has("sendInitialEvents") || second.Query.Get("resourceVersion") == "" {
		t.Fatalf("second request %v, want a watch from the list's resourceVersion without initial events", second.Query)
	}
}
