package api_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/store/meta"
)

func TestHumanDurationMatchesKubectl(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-2 * time.Second, "<invalid>"},
		{-time.Second, "0s"},
		{0, "0s"},
		{119 * time.Second, "119s"},
		{2 * time.Minute, "2m"},
		{5*time.Minute + 3*time.Second, "5m3s"},
		{10 * time.Minute, "10m"},
		{179 * time.Minute, "179m"},
		{3 * time.Hour, "3h"},
		{2*time.Hour + 15*time.Minute + 1, "135m"},
		{3*time.Hour + 5*time.Minute, "3h5m"},
		{8 * time.Hour, "8h"},
		{47 * time.Hour, "47h"},
		{48 * time.Hour, "2d"},
		{3*24*time.Hour + 4*time.Hour, "3d4h"},
		{8 * 24 * time.Hour, "8d"},
		{729 * 24 * time.Hour, "729d"},
		{(2*365 + 30) * 24 * time.Hour, "2y30d"},
		{3 * 365 * 24 * time.Hour, "3y"},
		{9 * 365 * 24 * time.Hour, "9y"},
	} {
		if got := api.HumanDuration(tc.d); got != tc.want {
			t.Errorf("HumanDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestAgeOfZeroTimeIsUnknown(t *testing.T) {
	if got := api.Age(meta.Time{}, time.Now()); got != "<unknown>" {
		t.Fatalf("Age(zero) = %q", got)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := api.Age(meta.NewTime(now.Add(-90*time.Second)), now); got != "90s" {
		t.Fatalf("Age = %q, want 90s", got)
	}
}

func TestLabelSelectorSelectsAsKubernetes(t *testing.T) {
	sel := &api.LabelSelector{
		MatchLabels: map[string]string{"app": "web"},
		MatchExpressions: []api.LabelSelectorRequirement{
			{Key: "tier", Operator: "In", Values: []string{"front", "back"}},
			{Key: "canary", Operator: "DoesNotExist"},
		},
	}
	if got, want := sel.String(), "app=web,tier in (back,front),!canary"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	s, err := sel.Selector()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		labels map[string]string
		want   bool
	}{
		{map[string]string{"app": "web", "tier": "front"}, true},
		{map[string]string{"app": "web", "tier": "front", "canary": "y"}, false},
		{map[string]string{"app": "web", "tier": "db"}, false},
		{map[string]string{"app": "api", "tier": "front"}, false},
	} {
		if got := s.Matches(tc.labels); got != tc.want {
			t.Errorf("Matches(%v) = %v, want %v", tc.labels, got, tc.want)
		}
	}
	var nilSel *api.LabelSelector
	if s, _ := nilSel.Selector(); s.Matches(map[string]string{}) {
		t.Error("a nil selector matched")
	}
	if s, _ := (&api.LabelSelector{}).Selector(); !s.Matches(map[string]string{"x": "y"}) {
		t.Error("an empty selector did not match everything")
	}
	for _, bad := range []api.LabelSelectorRequirement{
		{Key: "a", Operator: "In"},
		{Key: "a", Operator: "Exists", Values: []string{"x"}},
		{Key: "a", Operator: "Near", Values: []string{"x"}},
	} {
		_, err := (&api.LabelSelector{MatchExpressions: []api.LabelSelectorRequirement{bad}}).Selector()
		if !errors.Is(err, meta.ErrInvalid) {
			t.Errorf("Selector(%v) = %v, want Invalid", bad, err)
		}
	}
}

func TestIntOrStringJSONAndScaling(t *testing.T) {
	var v struct {
		A api.IntOrString `json:"a"`
		B api.IntOrString `json:"b"`
	}
	if err := json.Unmarshal([]byte(`{"a":8080,"b":"25%"}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != api.FromInt(8080) || v.B != api.FromString("25%") {
		t.Fatalf("decoded %+v", v)
	}
	out, _ := json.Marshal(v)
	if string(out) != `{"a":8080,"b":"25%"}` {
		t.Fatalf("encoded %s", out)
	}
	if n, _ := v.B.ScaledValue(10, true); n != 3 {
		t.Errorf("25%% of 10 rounded up = %d, want 3", n)
	}
	if n, _ := v.B.ScaledValue(10, false); n != 2 {
		t.Errorf("25%% of 10 rounded down = %d, want 2", n)
	}
	if _, err := api.FromString("x").ScaledValue(10, true); err == nil {
		t.Error("a non-percentage string scaled")
	}
}

func TestNameValidators(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fn    api.NameValidator
		value string
		ok    bool
	}{
		{"subdomain", api.DNS1123Subdomain, "web.example-1", true},
		{"subdomain upper", api.DNS1123Subdomain, "Web", false},
		{"subdomain dash end", api.DNS1123Subdomain, "web-", false},
		{"subdomain long", api.DNS1123Subdomain, string(make([]byte, 254)), false},
		{"label", api.DNS1123Label, "kube-system", true},
		{"label dot", api.DNS1123Label, "a.b", false},
		{"label digit start", api.DNS1123Label, "1abc", true},
		{"1035 digit start", api.DNS1035Label, "1abc", false},
		{"1035", api.DNS1035Label, "my-svc", true},
		{"path segment", api.PathSegmentName, "system:controller:x", true},
		{"path segment slash", api.PathSegmentName, "a/b", false},
		{"path segment dotdot", api.PathSegmentName, "..", false},
	} {
		if got := len(tc.fn(tc.value, false)) == 0; got != tc.ok {
			t.Errorf("%s: valid(%q) = %v, want %v", tc.name, tc.value, got, tc.ok)
		}
	}
	if errs := api.DNS1123Subdomain("web-", true); len(errs) != 0 {
		t.Errorf("generateName web- rejected: %v", errs)
	}
}

func TestValidateObjectMeta(t *testing.T) {
	for _, tc := range []struct {
		name       string
		meta       meta.ObjectMeta
		namespaced bool
		fields     []string
	}{
		{"ok", meta.ObjectMeta{Name: "a", Namespace: "ns", Labels: map[string]string{"example.com/x": "y"}}, true, nil},
		{"generateName", meta.ObjectMeta{GenerateName: "a-", Namespace: "ns"}, true, nil},
		{"no name", meta.ObjectMeta{Namespace: "ns"}, true, []string{"metadata.name"}},
		{"no namespace", meta.ObjectMeta{Name: "a"}, true, []string{"metadata.namespace"}},
		{"namespace on cluster type", meta.ObjectMeta{Name: "a", Namespace: "ns"}, false, []string{"metadata.namespace"}},
		{"bad label", meta.ObjectMeta{Name: "a", Labels: map[string]string{"a b": "c"}}, false, []string{"metadata.labels"}},
		{"bad label value", meta.ObjectMeta{Name: "a", Labels: map[string]string{"a": "-c"}}, false, []string{"metadata.labels"}},
		{"bad owner", meta.ObjectMeta{Name: "a", OwnerReferences: []meta.OwnerReference{{Kind: "X", Name: "y", UID: "u"}}}, false,
			[]string{"metadata.ownerReferences[0].apiVersion"}},
	} {
		causes := api.ValidateObjectMeta(&tc.meta, tc.namespaced, api.DNS1123Subdomain)
		var got []string
		for _, c := range causes {
			got = append(got, c.Field)
		}
		if len(got) != len(tc.fields) || (len(got) > 0 && got[0] != tc.fields[0]) {
			t.Errorf("%s: causes %v, want fields %v", tc.name, causes, tc.fields)
		}
	}
}

func TestTypeDescribesStore(t *testing.T) {
	core := api.Type[*Widget]{Version: "v1", Kind: "Widget", Resource: "widgets", Subresources: []string{"status"}}
	if core.APIVersion() != "v1" || core.GroupResource() != "widgets" || !core.HasSubresource("status") || core.HasSubresource("scale") {
		t.Fatalf("core type: %q %q", core.APIVersion(), core.GroupResource())
	}
	r := core.StoreResource()
	if r.Name != "widgets" || r.Kind != "Widget" || r.APIVersion != "v1" {
		t.Fatalf("StoreResource = %+v", r)
	}
}

func TestEraseDelegatesToTypedFunctions(t *testing.T) {
	typed := api.Type[*Widget]{
		Group: "example.dev", Version: "v1", Kind: "Widget", Resource: "widgets",
		Fields:   map[string]func(*Widget) string{"spec.size": func(w *Widget) string { return fmt.Sprint(w.Spec.Size) }},
		Cells:    func(w *Widget, _ time.Time) []any { return []any{w.Name} },
		Default:  func(w *Widget) { w.Spec.Size = 1 },
		Validate: func(w *Widget) []meta.Cause { return []meta.Cause{api.Required("spec.size", "")} },
		ValidateUpdate: func(o, n *Widget) []meta.Cause {
			return []meta.Cause{api.Invalid("spec.size", n.Spec.Size, fmt.Sprint("was ", o.Spec.Size))}
		},
		Scale: &api.ScaleAccess[*Widget]{
			SpecReplicas:    func(w *Widget) int32 { return w.Spec.Size },
			SetSpecReplicas: func(w *Widget, n int32) { w.Spec.Size = n },
			StatusReplicas:  func(w *Widget) int32 { return 7 },
			Selector:        func(w *Widget) string { return "a=b" },
		},
		New: func() *Widget { return new(Widget) },
	}
	e := typed.Erase()
	obj := e.New()
	w, ok := obj.(*Widget)
	if !ok {
		t.Fatalf("New returned %T", obj)
	}
	e.Default(obj)
	e.Scale.SetSpecReplicas(obj, 4)
	if w.Spec.Size != 4 || e.Scale.SpecReplicas(obj) != 4 || e.Scale.StatusReplicas(obj) != 7 || e.Scale.Selector(obj) != "a=b" {
		t.Fatalf("scale through erased type: %+v", w.Spec)
	}
	if e.Fields["spec.size"](obj) != "4" || len(e.Validate(obj)) != 1 || len(e.ValidateUpdate(obj, obj)) != 1 {
		t.Fatal("erased functions do not delegate")
	}
	if e.StoreResource().Name != "widgets.example.dev" || e.GroupResource() != typed.GroupResource() {
		t.Fatalf("erased names %q", e.StoreResource().Name)
	}
	if e2 := e.Erase(); e2.Kind != "Widget" {
		t.Fatal("erasing twice lost the type")
	}
}
