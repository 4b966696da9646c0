package reconciletest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/reconcile/reconciletest"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
)

// Gadget is the object type of the mutation tests.
type Gadget struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata"`
	Spec            string `json:"spec"`
}

func gadgetResource() store.Resource[*Gadget] {
	return store.Resource[*Gadget]{Name: "gadgets", Kind: "Gadget", APIVersion: "test/v1", Namespaced: true}
}

// failures is a testing.TB that records failures instead of failing, so
// that a test can check that the Env fails the test it runs in.
type failures struct {
	*testing.T
	mu   sync.Mutex
	msgs []string
}

func (f *failures) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
}

func (f *failures) Fatalf(format string, args ...any) { f.Errorf(format, args...) }

func (f *failures) all() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.msgs, "\n")
}

// runGadgets runs, in an Env on tb, a controller of gadgets whose
// reconcile calls touch on the gadget read from the cache, then creates a
// gadget and settles.
func runGadgets(t *testing.T, tb testing.TB, opts reconciletest.Options, touch func(*Gadget)) {
	env := reconciletest.NewWithOptions(tb, opts)
	gadgets := reconciletest.AddInformer(env, gadgetResource())
	client := gadgets.Client(env)
	r := reconcile.Func[reconcile.Request](func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		g, err := client.Get(req.Namespace, req.Name)
		if err != nil {
			return reconcile.Result{}, err
		}
		// Let the informer's handlers finish with the gadget first, so that
		// a modification races with no reader (the race detector would
		// otherwise report it before the mutation detector can).
		if err := gadgets.WaitIdle(ctx); err != nil {
			return reconcile.Result{}, err
		}
		touch(g)
		return reconcile.Result{}, nil
	})
	reconciletest.NewController(env, "gadgets", r, reconcile.Options[reconcile.Request]{}, reconcile.For(gadgets.Store))
	env.Start()
	if _, err := gadgets.Store.Create(context.Background(), &Gadget{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "g"}, Spec: "v1"}); err != nil {
		t.Fatal(err)
	}
	env.Settle()
	env.Stop()
}

func TestAReconcilerThatModifiesACachedObjectFailsTheTest(t *testing.T) {
	f := &failures{T: t}
	runGadgets(t, f, reconciletest.Options{}, func(g *Gadget) { g.Spec = "changed" })
	got := f.all()
	if !strings.Contains(got, "cached object ns/g (*reconciletest_test.Gadget) was modified") ||
		!strings.Contains(got, `+ "spec": "changed"`) || !strings.Contains(got, "meta.DeepCopy") {
		t.Fatalf("failures = %q, want the modified gadget named with its diff", got)
	}
}

func TestAReconcilerThatCopiesFirstPasses(t *testing.T) {
	f := &failures{T: t}
	runGadgets(t, f, reconciletest.Options{}, func(g *Gadget) { meta.DeepCopy(g).Spec = "changed" })
	if got := f.all(); got != "" {
		t.Fatalf("failures = %q, want none", got)
	}
}

func TestAllowCacheMutationsTurnsTheDetectorOff(t *testing.T) {
	f := &failures{T: t}
	runGadgets(t, f, reconciletest.Options{AllowCacheMutations: true}, func(g *Gadget) { g.Spec = "changed" })
	if got := f.all(); got != "" {
		t.Fatalf("failures = %q, want none", got)
	}
}
