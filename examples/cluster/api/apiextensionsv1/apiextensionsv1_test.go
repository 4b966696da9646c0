package apiextensionsv1_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/governor-io/governor/examples/cluster/api/apiextensionsv1"
	"github.com/governor-io/governor/store/meta"
)

const crdJSON = `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
"metadata":{"name":"widgets.example.dev"},
"spec":{"group":"example.dev","scope":"Namespaced","names":{"plural":"widgets","kind":"Widget","shortNames":["wd"]},
"versions":[{"name":"v1","served":true,"storage":true,
"subresources":{"status":{},"scale":{"specReplicasPath":".spec.replicas","statusReplicasPath":".status.replicas"}},
"additionalPrinterColumns":[{"name":"Size","type":"integer","jsonPath":".spec.size"}],
"schema":{"openAPIV3Schema":{"type":"object","properties":{
 "spec":{"type":"object","required":["size"],"properties":{"size":{"type":"integer","minimum":1},"replicas":{"type":"integer"},
  "tags":{"type":"array","items":{"type":"string","enum":["a","b"]}},
  "labels":{"type":"object","additionalProperties":{"type":"string"}},
  "extra":{"x-kubernetes-preserve-unknown-fields":true}}},
 "status":{"type":"object","properties":{"replicas":{"type":"integer"}}}}}}}]}}`

func decode(t testing.TB) *apiextensionsv1.CustomResourceDefinition {
	var crd apiextensionsv1.CustomResourceDefinition
	if err := json.Unmarshal([]byte(crdJSON), &crd); err != nil {
		t.Fatal(err)
	}
	return &crd
}

func ExampleCustomResourceDefinitions() {
	var crd apiextensionsv1.CustomResourceDefinition
	_ = json.Unmarshal([]byte(crdJSON), &crd)
	apiextensionsv1.CustomResourceDefinitions.Default(&crd)
	spec := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
	fmt.Println(crd.StorageVersion(), crd.Namespaced(), crd.Spec.Names.Singular, crd.Spec.Names.ListKind,
		*spec.Properties["size"].Minimum, spec.Properties["labels"].AdditionalProperties.Schema.Type,
		len(apiextensionsv1.CustomResourceDefinitions.Validate(&crd)))
	// Output: v1 true widget WidgetList 1 string 0
}

func TestSchemaForms(t *testing.T) {
	for _, in := range []string{
		`{"type":"array","items":{"type":"string"}}`,
		`{"type":"array","items":[{"type":"string"},{"type":"integer"}]}`,
		`{"type":"object","additionalProperties":false}`,
		`{"type":"object","additionalProperties":true}`,
		`{"type":"object","additionalProperties":{"type":"string"}}`,
		`{"type":"object","dependencies":{"a":["b","c"],"d":{"required":["e"]}}}`,
		`{"type":"string","default":"x","enum":["x",1,null,{"a":[true]}],"example":{"k":"v"}}`,
	} {
		var s apiextensionsv1.JSONSchemaProps
		if err := json.Unmarshal([]byte(in), &s); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		_ = json.Unmarshal([]byte(in), &a)
		_ = json.Unmarshal(out, &b)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("round trip of %s gave %s", in, out)
		}
	}
}

func TestCRDValidation(t *testing.T) {
	crd := decode(t)
	apiextensionsv1.CustomResourceDefinitions.Default(crd)
	for _, tc := range []struct {
		name  string
		edit  func(*apiextensionsv1.CustomResourceDefinition)
		field string
	}{
		{"name", func(c *apiextensionsv1.CustomResourceDefinition) { c.Name = "widgets.other.dev" }, "metadata.name"},
		{"group without dot", func(c *apiextensionsv1.CustomResourceDefinition) {
			c.Spec.Group = "example"
			c.Name = "widgets.example"
		}, "spec.group"},
		{"scope", func(c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Scope = "Global" }, "spec.scope"},
		{"two storage versions", func(c *apiextensionsv1.CustomResourceDefinition) {
			v := c.Spec.Versions[0]
			v.Name = "v2"
			c.Spec.Versions = append(c.Spec.Versions, v)
		}, "spec.versions"},
		{"untyped property", func(c *apiextensionsv1.CustomResourceDefinition) {
			c.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["bad"] = apiextensionsv1.JSONSchemaProps{}
		}, "spec.versions[0].schema.openAPIV3Schema.properties[bad].type"},
		{"no schema", func(c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Versions[0].Schema = nil }, "spec.versions[0].schema.openAPIV3Schema"},
		{"bad column type", func(c *apiextensionsv1.CustomResourceDefinition) {
			c.Spec.Versions[0].AdditionalPrinterColumns[0].Type = "float"
		}, "spec.versions[0].additionalPrinterColumns[0].type"},
	} {
		var c apiextensionsv1.CustomResourceDefinition
		_ = json.Unmarshal([]byte(crdJSON), &c)
		apiextensionsv1.CustomResourceDefinitions.Default(&c)
		tc.edit(&c)
		causes := apiextensionsv1.CustomResourceDefinitions.Validate(&c)
		found := false
		for _, cause := range causes {
			found = found || cause.Field == tc.field
		}
		if !found {
			t.Errorf("%s: causes %v, want one for %s", tc.name, causes, tc.field)
		}
	}
	changed := meta.DeepCopy(crd)
	changed.Spec.Scope = "Cluster"
	if c := apiextensionsv1.CustomResourceDefinitions.ValidateUpdate(crd, changed); len(c) != 1 {
		t.Fatalf("scope change: %v", c)
	}
}
