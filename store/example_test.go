package store_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// Gizmo is an example type: embed TypeMeta and ObjectMeta, add spec and
// status.
type Gizmo struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            GizmoSpec   `json:"spec"`
	Status          GizmoStatus `json:"status,omitzero"`
}

type GizmoSpec struct {
	Replicas int    `json:"replicas"`
	Node     string `json:"node,omitempty"`
}

type GizmoStatus struct {
	Ready int `json:"ready,omitempty"`
}

var gizmos = store.Resource[*Gizmo]{
	Name: "gizmos", Kind: "Gizmo", APIVersion: "example.io/v1", Namespaced: true,
	Validate: func(g *Gizmo) []meta.Cause {
		if g.Spec.Replicas < 0 {
			return []meta.Cause{{Field: "spec.replicas", Message: "must be non-negative"}}
		}
		return nil
	},
	Fields: map[string]func(*Gizmo) string{"spec.node": func(g *Gizmo) string { return g.Spec.Node }},
}

func Example() {
	ctx := context.Background()
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	s := store.New(engine, gizmos)

	g, _ := s.Create(ctx, &Gizmo{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "web"}, Spec: GizmoSpec{Replicas: 1}})
	fmt.Println("created", g.Name, "generation", g.Generation)

	g.Spec.Replicas = 3
	g, _ = s.Update(ctx, g)
	fmt.Println("updated generation", g.Generation)

	stale := *g
	stale.ResourceVersion = "1"
	_, err := s.Update(ctx, &stale)
	fmt.Println("stale update is a conflict:", errors.Is(err, meta.ErrConflict))

	_, err = s.Create(ctx, &Gizmo{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "bad"}, Spec: GizmoSpec{Replicas: -1}})
	var se *meta.StatusError
	errors.As(err, &se)
	fmt.Println(se.Reason, se.Code(), se.Causes[0].Field)
	// Output:
	// created web generation 1
	// updated generation 2
	// stale update is a conflict: true
	// Invalid 422 spec.replicas
}

func ExampleStore_GuaranteedUpdate() {
	ctx := context.Background()
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	s := store.New(engine, gizmos)
	_, _ = s.Create(ctx, &Gizmo{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "web"}})

	g, err := s.GuaranteedUpdate(ctx, "default", "web", func(g *Gizmo) (*Gizmo, error) {
		g.Spec.Replicas++ // retried on a fresh copy if another writer wins
		return g, nil
	})
	fmt.Println(g.Spec.Replicas, err)
	// Output: 1 <nil>
}

func ExampleStore_List() {
	ctx := context.Background()
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	s := store.New(engine, gizmos)
	for i, node := range []string{"n1", "n2", "n1", "n1"} {
		_, _ = s.Create(ctx, &Gizmo{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("g%d", i),
			Labels: map[string]string{"tier": []string{"front", "back"}[i%2]}}, Spec: GizmoSpec{Node: node}})
	}
	opts := meta.ListOptions{LabelSelector: "tier in (front)", FieldSelector: "spec.node=n1", Limit: 1}
	for {
		page, err := s.List(ctx, opts)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, g := range page.Items {
			fmt.Println(g.Name)
		}
		if page.Continue == "" {
			break
		}
		opts.Continue = page.Continue
	}
	// Output:
	// g0
	// g2
}

func ExampleStore_Watch() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	s := store.New(engine, gizmos)
	_, _ = s.Create(ctx, &Gizmo{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "a"}})

	events, _ := s.Watch(ctx, meta.ListOptions{}) // "" = current state, then changes
	_, _ = s.Create(ctx, &Gizmo{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "b"}})
	_, _ = s.Delete(ctx, "default", "a", meta.DeleteOptions{})
	for range 3 {
		ev := <-events
		fmt.Println(ev.Type, ev.Object.Name)
	}
	// Output:
	// ADDED a
	// ADDED b
	// DELETED a
}

func ExampleStore_Delete_finalizers() {
	ctx := context.Background()
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	s := store.New(engine, gizmos)
	_, _ = s.Create(ctx, &Gizmo{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "a", Finalizers: []string{"example.io/cleanup"}}})

	g, _ := s.Delete(ctx, "default", "a", meta.DeleteOptions{})
	fmt.Println("deleting:", g.DeletionTimestamp != nil)

	g.Finalizers = nil // the cleanup is done
	_, _ = s.Update(ctx, g)
	_, err := s.Get(ctx, "default", "a")
	fmt.Println("gone:", errors.Is(err, meta.ErrNotFound))
	// Output:
	// deleting: true
	// gone: true
}

func ExampleMergePatch() {
	out, _ := store.MergePatch([]byte(`{"a":"b","c":{"d":"e","f":"g"}}`), []byte(`{"a":"z","c":{"f":null}}`))
	fmt.Println(string(out))
	// Output: {"a":"z","c":{"d":"e"}}
}

func ExampleToStatus() {
	st := store.ToStatus(meta.NewNotFound("pods", "default/web"))
	fmt.Println(st.Kind, st.Status, st.Reason, st.Code, st.Details.Kind, st.Details.Name)
	fmt.Println(errors.Is(meta.FromStatus(st), meta.ErrNotFound))
	// Output:
	// Status Failure NotFound 404 pods default/web
	// true
}
