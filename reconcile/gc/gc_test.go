package gc_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/reconcile/gc"
	"github.com/governor-io/governor/reconcile/reconciletest"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
)

const (
	background = meta.DeletePropagationBackground
	foreground = meta.DeletePropagationForeground
	orphan     = meta.DeletePropagationOrphan
)

// chain is the object tree of the propagation tests: a widget owner with a
// blocking gadget child and a non-blocking ("loose") one, and a widget
// grandchild under the blocking child.
type chain struct {
	owner, blocking, loose, grandchild meta.ObjectMeta
}

func newChain(e *env, holdGrandchild bool) chain {
	e.T.Helper()
	owner := e.widget("ns", "owner", nil)
	blocking := e.gadget("ns", "blocking", nil, ref(owner, true))
	loose := e.gadget("ns", "loose", nil, ref(owner, false))
	var fin []string
	if holdGrandchild {
		fin = []string{hold}
	}
	grandchild := e.widget("ns", "grandchild", fin, ref(blocking, true))
	e.settle()
	return chain{owner.ObjectMeta, blocking.ObjectMeta, loose.ObjectMeta, grandchild.ObjectMeta}
}

// state describes what is left of the chain: each object present, as
// "name" or "name(deleting:finalizers)".
func (e *env) state() []string {
	e.T.Helper()
	var out []string
	add := func(m *meta.ObjectMeta) {
		if m == nil {
			return
		}
		s := m.Name
		if m.DeletionTimestamp != nil {
			s += "(deleting:" + stringsJoin(m.Finalizers) + ")"
		}
		out = append(out, s)
	}
	add(get(e, e.widgets, "ns", "owner"))
	add(get(e, e.gadgets, "ns", "blocking"))
	add(get(e, e.gadgets, "ns", "loose"))
	add(get(e, e.widgets, "ns", "grandchild"))
	sort.Strings(out)
	return out
}

func stringsJoin(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

func TestPropagationPolicies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy meta.DeletionPropagation
		// holdGrandchild keeps the grandchild in deletion until released.
		holdGrandchild bool
		// want is what is left once the collector settles, and final what
		// is left once the grandchild is released.
		want, final []string
	}{
		{name: "background deletes the whole chain", policy: background, want: nil},
		{name: "no policy is background", policy: "", want: nil},
		{name: "background does not wait for a held grandchild", policy: background, holdGrandchild: true,
			want: []string{"grandchild(deleting:" + hold + ")"}, final: nil},
		{name: "foreground deletes the whole chain", policy: foreground, want: nil},
		{name: "foreground waits for the chain's blocking dependents", policy: foreground, holdGrandchild: true,
			want: []string{
				"blocking(deleting:foregroundDeletion)",
				"grandchild(deleting:" + hold + ")",
				"owner(deleting:foregroundDeletion)",
			}, final: nil},
		{name: "orphan leaves the dependents", policy: orphan, want: []string{"blocking", "grandchild", "loose"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			c := newChain(e, tc.holdGrandchild)
			del(e, e.widgets, "ns", "owner", tc.policy)
			e.settle()
			if got := e.state(); !slices.Equal(got, tc.want) {
				t.Fatalf("after deleting the owner: %q, want %q", got, tc.want)
			}
			if tc.policy == orphan {
				for _, name := range []string{"blocking", "loose"} {
					if m := get(e, e.gadgets, "ns", name); len(m.OwnerReferences) != 0 {
						t.Fatalf("orphan %s still has owners %+v", name, m.OwnerReferences)
					}
				}
				if m := get(e, e.widgets, "ns", "grandchild"); !slices.Equal(ownerUIDs(m), []string{c.blocking.UID}) {
					t.Fatalf("the grandchild's owners changed: %+v", m.OwnerReferences)
				}
			}
			if !tc.holdGrandchild {
				return
			}
			release(e, e.widgets, "ns", "grandchild")
			e.settle()
			if got := e.state(); !slices.Equal(got, tc.final) {
				t.Fatalf("after releasing the grandchild: %q, want %q", got, tc.final)
			}
		})
	}
}

func TestForegroundWaitsOnlyForBlockingDependents(t *testing.T) {
	for _, tc := range []struct {
		name       string
		block      bool
		ownerWaits bool
	}{
		{name: "blockOwnerDeletion holds the owner", block: true, ownerWaits: true},
		{name: "a dependent without blockOwnerDeletion does not", block: false, ownerWaits: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			owner := e.widget("ns", "owner", nil)
			e.gadget("ns", "child", []string{hold}, ref(owner, tc.block))
			e.settle()
			del(e, e.widgets, "ns", "owner", foreground)
			e.settle()
			child := get(e, e.gadgets, "ns", "child")
			if child == nil || child.DeletionTimestamp == nil {
				t.Fatalf("the child is not being deleted: %+v", child)
			}
			if o := get(e, e.widgets, "ns", "owner"); (o != nil) != tc.ownerWaits {
				t.Fatalf("owner present = %v, want %v", o != nil, tc.ownerWaits)
			}
			release(e, e.gadgets, "ns", "child")
			e.settle()
			if o, c := get(e, e.widgets, "ns", "owner"), get(e, e.gadgets, "ns", "child"); o != nil || c != nil {
				t.Fatalf("left: owner %v, child %v", o, c)
			}
		})
	}
}

func TestDependentWithAnotherOwnerIsOnlyUnlinked(t *testing.T) {
	for _, policy := range []meta.DeletionPropagation{background, foreground} {
		t.Run(string(policy), func(t *testing.T) {
			e := newEnv(t, nil)
			gone := e.widget("ns", "gone", nil)
			stays := e.widget("ns", "stays", nil)
			e.gadget("ns", "child", nil, ref(gone, true), ref(stays, false))
			e.settle()
			del(e, e.widgets, "ns", "gone", policy)
			e.settle()
			child := get(e, e.gadgets, "ns", "child")
			if child == nil || child.DeletionTimestamp != nil {
				t.Fatalf("the child of a remaining owner was deleted: %+v", child)
			}
			if !slices.Equal(ownerUIDs(child), []string{stays.UID}) {
				t.Fatalf("child owners %+v, want only %s", child.OwnerReferences, stays.UID)
			}
			if get(e, e.widgets, "ns", "gone") != nil {
				t.Fatal("the deleted owner is still there")
			}
			// The last owner's deletion collects it.
			del(e, e.widgets, "ns", "stays", background)
			e.settle()
			if get(e, e.gadgets, "ns", "child") != nil {
				t.Fatal("the child outlived its last owner")
			}
		})
	}
}

func TestDependentsOfMissingOwners(t *testing.T) {
	e := newEnv(t, nil)
	alive := e.widget("ns", "alive", nil)
	ghost := meta.OwnerReference{APIVersion: "example.io/v1", Kind: "Widget", Name: "ghost", UID: "00000000-0000-4000-8000-000000000000"}
	e.gadget("ns", "orphaned", nil, ghost)
	e.gadget("ns", "half", nil, ghost, ref(alive, true))
	e.settle()
	if get(e, e.gadgets, "ns", "orphaned") != nil {
		t.Fatal("a dependent of a missing owner was kept")
	}
	half := get(e, e.gadgets, "ns", "half")
	if half == nil || !slices.Equal(ownerUIDs(half), []string{alive.UID}) {
		t.Fatalf("a dependent with a live owner: %+v, want it kept with only that owner", half)
	}
}

func TestRecreatedOwnerDoesNotKeepStaleDependents(t *testing.T) {
	t.Run("a reference to an old uid", func(t *testing.T) {
		e := newEnv(t, nil)
		owner := e.widget("ns", "owner", nil)
		stale := ref(owner, true)
		stale.UID = "00000000-0000-4000-8000-000000000001"
		e.gadget("ns", "stale", nil, stale)
		e.gadget("ns", "current", nil, ref(owner, true))
		e.settle()
		if get(e, e.gadgets, "ns", "stale") != nil {
			t.Fatal("a dependent of another object of the owner's name was kept")
		}
		if get(e, e.gadgets, "ns", "current") == nil || get(e, e.widgets, "ns", "owner") == nil {
			t.Fatal("the owner or its real dependent went")
		}
	})
	t.Run("deleted and created again at once", func(t *testing.T) {
		e := newEnv(t, nil)
		old := e.widget("ns", "owner", nil)
		e.gadget("ns", "child", nil, ref(old, true))
		e.settle()
		del(e, e.widgets, "ns", "owner", background)
		fresh := e.widget("ns", "owner", nil)
		e.settle()
		if get(e, e.gadgets, "ns", "child") != nil {
			t.Fatal("the new owner kept the old one's child")
		}
		if m := get(e, e.widgets, "ns", "owner"); m == nil || m.UID != fresh.UID {
			t.Fatalf("the new owner: %+v", m)
		}
	})
}

// hiddenOwners is a widgets Resource whose list and watch never show the
// object named hide, as a lagging cache would not, and that reports each
// live read of it.
type hiddenOwners struct {
	gc.Resource
	hide string
	once sync.Once
	read chan struct{} // closed at the first Get of hide
}

func (h *hiddenOwners) ListerWatcher() informer.ListerWatcher[*meta.PartialObjectMetadata] {
	lw := h.Resource.ListerWatcher()
	return informer.FuncListerWatcher[*meta.PartialObjectMetadata]{
		ListFunc: func(ctx context.Context, opts meta.ListOptions) (*meta.List[*meta.PartialObjectMetadata], error) {
			l, err := lw.List(ctx, opts)
			if err == nil {
				l.Items = slices.DeleteFunc(l.Items, func(m *meta.PartialObjectMetadata) bool { return m.Name == h.hide })
			}
			return l, err
		},
		WatchFunc: func(ctx context.Context, opts meta.ListOptions) (<-chan meta.WatchEvent[*meta.PartialObjectMetadata], error) {
			in, err := lw.Watch(ctx, opts)
			if err != nil {
				return nil, err
			}
			out := make(chan meta.WatchEvent[*meta.PartialObjectMetadata])
			go func() {
				defer close(out)
				for ev := range in {
					if ev.Type != meta.Bookmark && ev.Type != meta.Error && ev.Object.Name == h.hide {
						continue
					}
					select {
					case out <- ev:
					case <-ctx.Done():
						for range in {
						}
						return
					}
				}
			}()
			return out, nil
		},
	}
}

func (h *hiddenOwners) Get(ctx context.Context, ns, name string) (*meta.PartialObjectMetadata, error) {
	m, err := h.Resource.Get(ctx, ns, name)
	if name == h.hide {
		h.once.Do(func() { close(h.read) })
	}
	return m, err
}

func TestOwnerAbsentFromTheCacheIsReadLive(t *testing.T) {
	h := &hiddenOwners{hide: "owner", read: make(chan struct{})}
	e := newEnv(t, wraps{"widgets": func(_ *env, r gc.Resource) gc.Resource { h.Resource = r; return h }})
	owner := e.widget("ns", "owner", nil)
	e.gadget("ns", "child", nil, ref(owner, true))
	select {
	case <-h.read:
	case <-e.ctx.Done():
		t.Fatal("the collector never read the owner it does not see")
	}
	e.settle()
	if get(e, e.gadgets, "ns", "child") == nil {
		t.Fatal("the child of an owner missing from the cache, but alive, was deleted")
	}
	// Once the owner is gone for real, the child goes too: the delete is
	// not seen either, but a live read finds nothing.
	del(e, e.widgets, "ns", "owner", background)
	e.gadget("ns", "nudge", nil, ref(owner, true)) // names the gone owner
	e.settle()
	if get(e, e.gadgets, "ns", "nudge") != nil {
		t.Fatal("a dependent of a gone owner was kept")
	}
}

func TestCrossNamespaceReferences(t *testing.T) {
	e := newEnv(t, nil)
	owner := e.widget("a", "owner", nil)
	local := e.widget("b", "local", nil)
	e.settle() // the graph knows the owner in namespace a
	e.gadget("b", "only", nil, ref(owner, true))
	e.gadget("b", "also", nil, ref(owner, true), ref(local, true))
	e.settle()
	// A reference resolves in the dependent's namespace, where the owner
	// is not: it counts as absent, as in Kubernetes.
	if get(e, e.gadgets, "b", "only") != nil {
		t.Fatal("a dependent whose only owner is in another namespace was kept")
	}
	also := get(e, e.gadgets, "b", "also")
	if also == nil || !slices.Equal(ownerUIDs(also), []string{local.UID}) {
		t.Fatalf("dependent with a local owner: %+v", also)
	}
	if get(e, e.widgets, "a", "owner") == nil {
		t.Fatal("the owner in the other namespace was touched")
	}
	events, err := e.Events.List(e.ctx, meta.ListOptions{Namespace: "b"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range events.Items {
		found = found || (ev.Reason == "OwnerRefInvalidNamespace" && ev.Type == "Warning")
	}
	if !found {
		t.Fatalf("no OwnerRefInvalidNamespace event in %+v", events.Items)
	}
}

func TestClusterScopedReferences(t *testing.T) {
	e := newEnv(t, nil)
	ns := e.widget("ns", "namespaced", nil)
	rack := e.rack("rack")
	// A cluster-scoped object cannot have a namespaced owner: it is never
	// collected on that account, even once the owner is gone.
	e.rack("invalid", ref(ns, true))
	// A namespaced object may have a cluster-scoped owner.
	e.widget("ns", "in-rack", nil, ref(rack, true))
	mystery := meta.OwnerReference{APIVersion: "other.io/v1", Kind: "Mystery", Name: "m", UID: "00000000-0000-4000-8000-000000000002"}
	e.widget("ns", "unknown-kind", nil, mystery)
	e.settle()
	del(e, e.widgets, "ns", "namespaced", background)
	del(e, e.racks, "", "rack", background)
	e.settle()
	if get(e, e.racks, "", "invalid") == nil {
		t.Fatal("a cluster-scoped object with a namespaced owner was collected")
	}
	if get(e, e.widgets, "ns", "in-rack") != nil {
		t.Fatal("the dependent of a deleted cluster-scoped owner was kept")
	}
	if get(e, e.widgets, "ns", "unknown-kind") == nil {
		t.Fatal("an object owned by a kind the collector does not know was collected")
	}
}

func TestNewRejectsBadResources(t *testing.T) {
	e := reconciletest.New(t)
	widgets := reconciletest.AddInformer(e, widgetResource).Store
	noKind := store.NewWithOptions(e.KV, store.Resource[*Gadget]{Name: "gadgets", Namespaced: true}, store.Options{Clock: e.Clock})
	sameKind := store.NewWithOptions(e.KV, store.Resource[*Gadget]{Name: "gizmos", Kind: "Widget", APIVersion: "example.io/v2"}, store.Options{Clock: e.Clock})
	for name, res := range map[string][]gc.Resource{
		"no kind":      {gc.ForStore(widgets), gc.ForStore(noKind)},
		"twice":        {gc.ForStore(widgets), gc.ForStore(widgets)},
		"one kind two": {gc.ForStore(widgets), gc.ForStore(sameKind)},
		"nil":          {nil},
	} {
		if _, err := gc.New(e.Manager, gc.Options{}, res...); !errors.Is(err, reconcile.ErrInvalidOptions) {
			t.Errorf("%s: error %v, want ErrInvalidOptions", name, err)
		}
	}
}

// countingKV counts the reads of one key.
type countingKV struct {
	kv.KV
	key   string
	mu    sync.Mutex
	reads int
}

func (c *countingKV) Range(ctx context.Context, req kv.RangeRequest) (*kv.RangeResponse, error) {
	if req.Key == c.key && req.End == "" {
		c.mu.Lock()
		c.reads++
		c.mu.Unlock()
	}
	return c.KV.Range(ctx, req)
}

func (c *countingKV) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads
}

func TestManyDependentsOfAGoneOwnerCostNoReadOfIt(t *testing.T) {
	// The collector reads widgets through a store of the same keys on a
	// KV that counts the reads of the owner's key; it shares the Env's
	// informer of widgets.
	var cr *countingKV
	e := newEnv(t, wraps{"widgets": func(e *env, _ gc.Resource) gc.Resource {
		cr = &countingKV{KV: e.KV, key: e.widgets.Key("ns", "owner")}
		return gc.ForStore(store.NewWithOptions(cr, widgetResource, store.Options{Clock: e.Clock}))
	}})
	owner := e.widget("ns", "owner", nil)
	const n = 200
	for i := range n {
		e.gadget("ns", fmt.Sprintf("child-%03d", i), nil, ref(owner, true))
	}
	e.settle()
	before := cr.count()
	del(e, e.widgets, "ns", "owner", background)
	e.settle()
	list, err := e.gadgets.List(e.ctx, meta.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Fatalf("%d of %d children left", len(list.Items), n)
	}
	// The owner's deletion event says it is gone, for all its dependents.
	if reads := cr.count() - before; reads != 0 {
		t.Fatalf("the gone owner was read %d times for its %d dependents, want 0", reads, n)
	}
}

func TestMetricsAndLogsGoThroughTheManager(t *testing.T) {
	e := newEnv(t, nil)
	owner := e.widget("ns", "owner", nil)
	e.gadget("ns", "child", nil, ref(owner, true))
	e.settle()
	del(e, e.widgets, "ns", "owner", background)
	e.settle()
	rec := httptest.NewRecorder()
	e.Manager.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`controller_runtime_reconcile_total{controller="garbage-collector",result="success"}`,
		`workqueue_adds_total{name="garbage-collector"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
}

func TestForegroundDeletionOfACycleEnds(t *testing.T) {
	e := newEnv(t, nil)
	a := e.widget("ns", "a", nil)
	b := e.gadget("ns", "b", nil, ref(a, true))
	if _, err := e.widgets.GuaranteedUpdate(e.ctx, "ns", "a", func(w *Widget) (*Widget, error) {
		w.OwnerReferences = append(w.OwnerReferences, ref(b, true))
		return w, nil
	}); err != nil {
		t.Fatal(err)
	}
	e.settle()
	if get(e, e.widgets, "ns", "a") == nil || get(e, e.gadgets, "ns", "b") == nil {
		t.Fatal("objects that own each other were collected")
	}
	del(e, e.widgets, "ns", "a", foreground)
	e.settle()
	if a, b := get(e, e.widgets, "ns", "a"), get(e, e.gadgets, "ns", "b"); a != nil || b != nil {
		t.Fatalf("left of the cycle: %+v, %+v", a, b)
	}
}

// adoptingKV runs adopt once, just before the first transaction that
// deletes key: another writer gets in between a delete's read of the
// object and its write.
type adoptingKV struct {
	kv.KV
	key   string
	once  sync.Once
	adopt func(ctx context.Context)
}

func (a *adoptingKV) Txn(ctx context.Context, req kv.TxnRequest) (*kv.TxnResponse, error) {
	for _, op := range req.Success {
		if op.Type == kv.OpDelete && op.Key == a.key && op.End == "" {
			a.once.Do(func() { a.adopt(ctx) })
		}
	}
	return a.KV.Txn(ctx, req)
}

func TestObjectAdoptedAfterItsReadIsNotDeleted(t *testing.T) {
	var adopter *Widget
	// The collector deletes gadgets through a store of the same keys on a
	// KV where the child is adopted by a new owner just before the
	// collector's delete of it reaches the KV; it shares the Env's
	// informer of gadgets.
	e := newEnv(t, wraps{"gadgets": func(e *env, _ gc.Resource) gc.Resource {
		akv := &adoptingKV{KV: e.KV, key: e.gadgets.Key("ns", "child"), adopt: func(ctx context.Context) {
			_, err := e.gadgets.GuaranteedUpdate(ctx, "ns", "child", func(g *Gadget) (*Gadget, error) {
				g.OwnerReferences = append(g.OwnerReferences, ref(adopter, false))
				return g, nil
			})
			if err != nil {
				e.T.Errorf("adopt: %v", err)
			}
		}}
		return gc.ForStore(store.NewWithOptions(akv, gadgetResource, store.Options{Clock: e.Clock}))
	}})
	owner := e.widget("ns", "owner", nil)
	adopter = e.widget("ns", "adopter", nil)
	e.gadget("ns", "child", nil, ref(owner, true))
	e.settle()
	del(e, e.widgets, "ns", "owner", background)
	e.settle()
	child := get(e, e.gadgets, "ns", "child")
	if child == nil {
		t.Fatal("the collector deleted an object adopted after it read it")
	}
	if !slices.Equal(ownerUIDs(child), []string{adopter.UID}) {
		t.Fatalf("child owners %+v, want only the adopter", child.OwnerReferences)
	}
}
