package reconcile_test

import (
	"errors"
	"testing"

	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store/meta"
)

// widget is a minimal stored type for the tests.
type widget struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            struct {
		Size int `json:"size"`
	} `json:"spec"`
}

func w(mut func(*widget)) *widget {
	x := &widget{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "a", ResourceVersion: "1", Generation: 1,
		Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"note": "x"}}}
	if mut != nil {
		mut(x)
	}
	return x
}

func TestPredicatesOnUpdate(t *testing.T) {
	base := w(nil)
	newRV := w(func(x *widget) { x.ResourceVersion = "2" })
	newGen := w(func(x *widget) { x.ResourceVersion = "2"; x.Generation = 2 })
	newLabels := w(func(x *widget) { x.ResourceVersion = "2"; x.Labels = map[string]string{"app": "db"} })
	newAnn := w(func(x *widget) { x.ResourceVersion = "2"; x.Annotations = nil })
	sel, err := reconcile.LabelSelector[*widget]("app=web")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		p        reconcile.Predicate[*widget]
		old, new *widget
		want     bool
	}{
		{"generation changed passes a spec change", reconcile.GenerationChanged[*widget](), base, newGen, true},
		{"generation changed drops a status or metadata change", reconcile.GenerationChanged[*widget](), base, newRV, false},
		{"resourceVersion changed drops a resync", reconcile.ResourceVersionChanged[*widget](), base, base, false},
		{"resourceVersion changed passes a write", reconcile.ResourceVersionChanged[*widget](), base, newRV, true},
		{"labels changed passes a label change", reconcile.LabelsChanged[*widget](), base, newLabels, true},
		{"labels changed drops other changes", reconcile.LabelsChanged[*widget](), base, newGen, false},
		{"annotations changed passes an annotation change", reconcile.AnnotationsChanged[*widget](), base, newAnn, true},
		{"annotations changed drops other changes", reconcile.AnnotationsChanged[*widget](), base, newLabels, false},
		{"label selector passes an object leaving the selection", sel, base, newLabels, true},
		{"label selector drops an object never selected", sel, newLabels, newLabels, false},
		{"and needs all", reconcile.And(reconcile.GenerationChanged[*widget](), reconcile.LabelsChanged[*widget]()), base, newGen, false},
		{"or needs one", reconcile.Or(reconcile.GenerationChanged[*widget](), reconcile.LabelsChanged[*widget]()), base, newGen, true},
		{"empty or passes nothing", reconcile.Or[*widget](), base, newGen, false},
		{"empty and passes everything", reconcile.And[*widget](), base, base, true},
		{"not inverts", reconcile.Not(reconcile.GenerationChanged[*widget]()), base, newGen, false},
	}
	for _, tt := range tests {
		if got := tt.p.Update(tt.old, tt.new); got != tt.want {
			t.Errorf("%s: Update = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPredicatesOnOtherEvents(t *testing.T) {
	sel, _ := reconcile.LabelSelector[*widget]("app=web")
	other := w(func(x *widget) { x.Labels = nil })
	if !reconcile.GenerationChanged[*widget]().Create(other, true) || !reconcile.GenerationChanged[*widget]().Delete(other) {
		t.Error("GenerationChanged filters creates or deletes")
	}
	if sel.Create(other, false) || sel.Delete(other) || sel.Generic(other) {
		t.Error("label selector passes an unselected object")
	}
	if !sel.Create(w(nil), false) || !sel.Delete(w(nil)) || !sel.Generic(w(nil)) {
		t.Error("label selector drops a selected object")
	}
	initialOnly := reconcile.Funcs[*widget]{CreateFunc: func(_ *widget, initial bool) bool { return !initial }}
	if initialOnly.Create(w(nil), true) || !initialOnly.Create(w(nil), false) || !initialOnly.Delete(w(nil)) {
		t.Error("Funcs does not call its functions, or filters on a nil one")
	}
}

func TestLabelSelectorRejectsBadSyntax(t *testing.T) {
	_, err := reconcile.LabelSelector[*widget]("app in (web")
	if !errors.Is(err, reconcile.ErrInvalidOptions) {
		t.Fatalf("err = %v, want ErrInvalidOptions", err)
	}
	var se *meta.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v does not carry the store's reason", err)
	}
}

func TestMappers(t *testing.T) {
	yes, no := true, false
	owned := w(func(x *widget) {
		x.OwnerReferences = []meta.OwnerReference{
			{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "other", UID: "1", Controller: &no},
			{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "2", Controller: &yes},
		}
	})
	collect := func(m reconcile.Mapper[*widget, reconcile.Request], obj *widget) []reconcile.Request {
		var out []reconcile.Request
		m(obj, func(r reconcile.Request) { out = append(out, r) })
		return out
	}
	tests := []struct {
		name string
		m    reconcile.Mapper[*widget, reconcile.Request]
		obj  *widget
		want []reconcile.Request
	}{
		{"own key", reconcile.OwnKey[*widget](), owned, []reconcile.Request{{Namespace: "ns", Name: "a"}}},
		{"controller owner", reconcile.ControllerOwner[*widget]("apps/v1", "ReplicaSet"), owned, []reconcile.Request{{Namespace: "ns", Name: "web"}}},
		{"controller owner of another version of the group", reconcile.ControllerOwner[*widget]("apps/v2", "ReplicaSet"), owned, []reconcile.Request{{Namespace: "ns", Name: "web"}}},
		{"controller owner of another kind", reconcile.ControllerOwner[*widget]("apps/v1", "Deployment"), owned, nil},
		{"controller owner of another group", reconcile.ControllerOwner[*widget]("batch/v1", "ReplicaSet"), owned, nil},
		{"no controller owner", reconcile.ControllerOwner[*widget]("apps/v1", "ReplicaSet"), w(nil), nil},
		{"user map func", reconcile.MapFunc(func(x *widget) []reconcile.Request {
			return []reconcile.Request{{Name: x.Labels["app"]}, {Name: "all"}}
		}), owned, []reconcile.Request{{Name: "web"}, {Name: "all"}}},
	}
	for _, tt := range tests {
		got := collect(tt.m, tt.obj)
		if len(got) != len(tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			}
		}
	}
}
