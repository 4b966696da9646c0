package interop_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/governor-io/governor/examples/cluster/api"
	gadmission "github.com/governor-io/governor/examples/cluster/api/admissionregistrationv1"
	gapiext "github.com/governor-io/governor/examples/cluster/api/apiextensionsv1"
	gapps "github.com/governor-io/governor/examples/cluster/api/appsv1"
	gautoscaling "github.com/governor-io/governor/examples/cluster/api/autoscalingv1"
	gcoordination "github.com/governor-io/governor/examples/cluster/api/coordinationv1"
	gcore "github.com/governor-io/governor/examples/cluster/api/corev1"
	gdiscovery "github.com/governor-io/governor/examples/cluster/api/discoveryv1"
	gevents "github.com/governor-io/governor/examples/cluster/api/eventsv1"
	gpolicy "github.com/governor-io/governor/examples/cluster/api/policyv1"
	grbac "github.com/governor-io/governor/examples/cluster/api/rbacv1"
	gscheduling "github.com/governor-io/governor/examples/cluster/api/schedulingv1"
	"github.com/governor-io/governor/examples/cluster/interop"
	"github.com/governor-io/governor/store/meta"
)

// metaDropped are the ObjectMeta fields our metadata does not carry:
// server-side apply's managedFields (the server answers apply with 415)
// and selfLink (removed from Kubernetes' responses since 1.20).
var metaDropped = []string{"metadata.managedFields", "metadata.selfLink"}

// templateDropped are the same fields of a pod template's metadata.
var templateDropped = []string{"spec.template.metadata.managedFields", "spec.template.metadata.selfLink"}

// pair is one of our types and its Kubernetes counterpart.
type pair struct {
	name    string
	k8s     func() any
	ours    func() any
	dropped []string // JSON paths of Kubernetes' type that ours drops on purpose
}

var pairs = []pair{
	{"core/v1 Namespace", func() any { return new(corev1.Namespace) }, func() any { return new(gcore.Namespace) }, metaDropped},
	{"core/v1 Pod", func() any { return new(corev1.Pod) }, func() any { return new(gcore.Pod) }, metaDropped},
	{"core/v1 Binding", func() any { return new(corev1.Binding) }, func() any { return new(gcore.Binding) }, metaDropped},
	{"core/v1 Node", func() any { return new(corev1.Node) }, func() any { return new(gcore.Node) }, metaDropped},
	{"core/v1 Service", func() any { return new(corev1.Service) }, func() any { return new(gcore.Service) }, metaDropped},
	{"core/v1 ConfigMap", func() any { return new(corev1.ConfigMap) }, func() any { return new(gcore.ConfigMap) }, metaDropped},
	{"core/v1 Secret", func() any { return new(corev1.Secret) }, func() any { return new(gcore.Secret) }, metaDropped},
	{"core/v1 ServiceAccount", func() any { return new(corev1.ServiceAccount) }, func() any { return new(gcore.ServiceAccount) }, metaDropped},
	{"core/v1 Event", func() any { return new(corev1.Event) }, func() any { return new(gcore.Event) }, metaDropped},
	{"policy/v1 Eviction", func() any { return new(policyv1.Eviction) }, func() any { return new(gpolicy.Eviction) }, metaDropped},
	{"apps/v1 ReplicaSet", func() any { return new(appsv1.ReplicaSet) }, func() any { return new(gapps.ReplicaSet) },
		append(append([]string{}, metaDropped...), templateDropped...)},
	{"apps/v1 Deployment", func() any { return new(appsv1.Deployment) }, func() any { return new(gapps.Deployment) },
		append(append([]string{}, metaDropped...), templateDropped...)},
	{"autoscaling/v1 Scale", func() any { return new(autoscalingv1.Scale) }, func() any { return new(gautoscaling.Scale) }, metaDropped},
	{"discovery.k8s.io/v1 EndpointSlice", func() any { return new(discoveryv1.EndpointSlice) }, func() any { return new(gdiscovery.EndpointSlice) }, metaDropped},
	{"coordination.k8s.io/v1 Lease", func() any { return new(coordinationv1.Lease) }, func() any { return new(gcoordination.Lease) }, metaDropped},
	{"events.k8s.io/v1 Event", func() any { return new(eventsv1.Event) }, func() any { return new(gevents.Event) }, metaDropped},
	{"scheduling.k8s.io/v1 PriorityClass", func() any { return new(schedulingv1.PriorityClass) }, func() any { return new(gscheduling.PriorityClass) }, metaDropped},
	{"rbac/v1 Role", func() any { return new(rbacv1.Role) }, func() any { return new(grbac.Role) }, metaDropped},
	{"rbac/v1 ClusterRole", func() any { return new(rbacv1.ClusterRole) }, func() any { return new(grbac.ClusterRole) }, metaDropped},
	{"rbac/v1 RoleBinding", func() any { return new(rbacv1.RoleBinding) }, func() any { return new(grbac.RoleBinding) }, metaDropped},
	{"rbac/v1 ClusterRoleBinding", func() any { return new(rbacv1.ClusterRoleBinding) }, func() any { return new(grbac.ClusterRoleBinding) }, metaDropped},
	{"admissionregistration/v1 MutatingWebhookConfiguration", func() any { return new(admissionregistrationv1.MutatingWebhookConfiguration) },
		func() any { return new(gadmission.MutatingWebhookConfiguration) }, metaDropped},
	{"admissionregistration/v1 ValidatingWebhookConfiguration", func() any { return new(admissionregistrationv1.ValidatingWebhookConfiguration) },
		func() any { return new(gadmission.ValidatingWebhookConfiguration) }, metaDropped},
	{"apiextensions/v1 CustomResourceDefinition", func() any { return new(apiextensionsv1.CustomResourceDefinition) },
		func() any { return new(gapiext.CustomResourceDefinition) }, metaDropped},
	{"meta/v1 DeleteOptions", func() any { return new(metav1.DeleteOptions) }, func() any { return new(api.DeleteOptions) }, nil},
	{"meta/v1 LabelSelector", func() any { return new(metav1.LabelSelector) }, func() any { return new(api.LabelSelector) }, nil},
}

// k8sFiller fills Kubernetes' types; the special cases are the types
// whose JSON has rules (quantities parse, raw JSON is JSON).
func k8sFiller(seed uint64) *interop.Filler {
	f := interop.NewFiller(seed)
	f.Special = func(f *interop.Filler, t reflect.Type) (reflect.Value, bool) {
		var v any
		switch t {
		case reflect.TypeFor[resource.Quantity]():
			v = resource.MustParse(quantity(f))
		case reflect.TypeFor[intstr.IntOrString]():
			if f.Rand.IntN(2) == 0 {
				v = intstr.FromInt32(int32(1 + f.Rand.IntN(1000)))
			} else {
				v = intstr.FromString(f.String())
			}
		case reflect.TypeFor[metav1.Time]():
			v = metav1.NewTime(f.Time())
		case reflect.TypeFor[metav1.MicroTime]():
			v = metav1.NewMicroTime(f.Time().Add(time.Duration(f.Rand.IntN(1e6)) * time.Microsecond))
		case reflect.TypeFor[runtime.RawExtension]():
			v = runtime.RawExtension{Raw: f.JSON()}
		case reflect.TypeFor[metav1.FieldsV1]():
			v = *metav1.NewFieldsV1(string(f.JSON()))
		case reflect.TypeFor[apiextensionsv1.JSON]():
			v = apiextensionsv1.JSON{Raw: f.JSON()}
		case reflect.TypeFor[apiextensionsv1.JSONSchemaPropsOrBool]():
			if f.Rand.IntN(2) == 0 {
				v = apiextensionsv1.JSONSchemaPropsOrBool{Allows: true}
			} else {
				v = apiextensionsv1.JSONSchemaPropsOrBool{Allows: true, Schema: &apiextensionsv1.JSONSchemaProps{Type: "string", Description: f.String()}}
			}
		case reflect.TypeFor[apiextensionsv1.JSONSchemaPropsOrArray]():
			v = apiextensionsv1.JSONSchemaPropsOrArray{Schema: &apiextensionsv1.JSONSchemaProps{Type: "integer", Description: f.String()}}
		case reflect.TypeFor[apiextensionsv1.JSONSchemaPropsOrStringArray]():
			v = apiextensionsv1.JSONSchemaPropsOrStringArray{Property: []string{f.String(), f.String()}}
		default:
			return reflect.Value{}, false
		}
		return reflect.ValueOf(v), true
	}
	return f
}

// oursFiller fills our types; opaque JSON fields stay empty (what they
// hold is Kubernetes' business, checked by the forward trip).
func oursFiller(seed uint64) *interop.Filler {
	f := interop.NewFiller(seed)
	f.Skip = map[reflect.Type]bool{reflect.TypeFor[json.RawMessage](): true, reflect.TypeFor[[]json.RawMessage](): true}
	f.Special = func(f *interop.Filler, t reflect.Type) (reflect.Value, bool) {
		var v any
		switch t {
		case reflect.TypeFor[gcore.Quantity]():
			v = gcore.Quantity(quantity(f))
		case reflect.TypeFor[api.IntOrString]():
			if f.Rand.IntN(2) == 0 {
				v = api.FromInt(int32(1 + f.Rand.IntN(1000)))
			} else {
				v = api.FromString(f.String())
			}
		case reflect.TypeFor[meta.Time]():
			v = meta.NewTime(f.Time())
		case reflect.TypeFor[meta.MicroTime]():
			v = meta.NewMicroTime(f.Time().Add(time.Duration(f.Rand.IntN(1e6)) * time.Microsecond))
		case reflect.TypeFor[gapiext.JSONSchemaPropsOrBool]():
			v = gapiext.JSONSchemaPropsOrBool{Allows: true, Schema: &gapiext.JSONSchemaProps{Type: "string", Description: f.String()}}
		case reflect.TypeFor[gapiext.JSONSchemaPropsOrArray]():
			v = gapiext.JSONSchemaPropsOrArray{JSONSchemas: []gapiext.JSONSchemaProps{{Type: "integer"}, {Type: "string"}}}
		case reflect.TypeFor[gapiext.JSONSchemaPropsOrStringArray]():
			v = gapiext.JSONSchemaPropsOrStringArray{Property: []string{f.String()}}
		default:
			return reflect.Value{}, false
		}
		return reflect.ValueOf(v), true
	}
	return f
}

// quantity returns a quantity in Kubernetes' canonical form, which it
// re-encodes unchanged.
func quantity(f *interop.Filler) string {
	suffixes := []string{"", "m", "k", "M", "Ki", "Mi", "Gi"}
	return fmt.Sprintf("%d%s", 1+f.Rand.IntN(999), suffixes[f.Rand.IntN(len(suffixes))])
}

// TestKubernetesToOurs fills each Kubernetes type, decodes its JSON into
// ours and encodes it again: nothing may change but the dropped fields,
// and each dropped field must be one Kubernetes' JSON has.
func TestKubernetesToOurs(t *testing.T) {
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			for seed := range uint64(8) {
				k := p.k8s()
				k8sFiller(seed).Fill(k)
				want, err := json.Marshal(k)
				if err != nil {
					t.Fatal(err)
				}
				stripped, missing, err := interop.Strip(want, p.dropped)
				if err != nil {
					t.Fatal(err)
				}
				if len(missing) > 0 {
					t.Fatalf("seed %d: dropped fields not in Kubernetes' JSON: %v", seed, missing)
				}
				ours := p.ours()
				if err := json.Unmarshal(want, ours); err != nil {
					t.Fatalf("seed %d: decoding Kubernetes' JSON into %T: %v", seed, ours, err)
				}
				got, err := json.Marshal(ours)
				if err != nil {
					t.Fatal(err)
				}
				diffs, err := interop.Diff(stripped, got)
				if err != nil {
					t.Fatal(err)
				}
				if len(diffs) > 0 {
					t.Fatalf("seed %d: %T differs from %T:\n%s", seed, ours, k, strings.Join(diffs, "\n"))
				}
				// And back: our JSON decodes into Kubernetes' type unchanged.
				back := p.k8s()
				if err := strictDecode(got, back); err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				again, _ := json.Marshal(back)
				if diffs, _ := interop.Diff(got, again); len(diffs) > 0 {
					t.Fatalf("seed %d: back through %T:\n%s", seed, back, strings.Join(diffs, "\n"))
				}
			}
		})
	}
}

// TestOursToKubernetes fills each of our types, decodes its JSON into
// Kubernetes' type, rejecting unknown fields, and encodes it again:
// every field we model must exist in Kubernetes' type with the same name
// and meaning.
func TestOursToKubernetes(t *testing.T) {
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			for seed := range uint64(8) {
				ours := p.ours()
				oursFiller(seed).Fill(ours)
				want, err := json.Marshal(ours)
				if err != nil {
					t.Fatal(err)
				}
				k := p.k8s()
				if err := strictDecode(want, k); err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				got, _ := json.Marshal(k)
				diffs, err := interop.Diff(want, got)
				if err != nil {
					t.Fatal(err)
				}
				if len(diffs) > 0 {
					t.Fatalf("seed %d: %T through %T:\n%s", seed, ours, k, strings.Join(diffs, "\n"))
				}
			}
		})
	}
}

func strictDecode(data []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return fmt.Errorf("decoding into %T: %w", into, err)
	}
	return nil
}
