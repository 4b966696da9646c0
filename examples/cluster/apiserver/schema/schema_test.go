package schema_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/governor-io/governor/examples/cluster/apiserver/schema"
)

func props(t *testing.T, s string) *schema.Props {
	t.Helper()
	p := new(schema.Props)
	if err := json.Unmarshal([]byte(s), p); err != nil {
		t.Fatalf("schema %s: %v", s, err)
	}
	return p
}

func compile(t *testing.T, s string) *schema.Schema {
	t.Helper()
	sc, err := schema.New(props(t, s))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func object(t *testing.T, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("object %s: %v", s, err)
	}
	return m
}

// TestValidate checks each keyword: a passing and a failing value, with
// the field path and cause type of the failure.
func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name, schema, obj string
		want              []string // "field type message-fragment"
	}{
		{"type ok", `{"type":"object","properties":{"spec":{"type":"object","properties":{"replicas":{"type":"integer"}}}}}`,
			`{"spec":{"replicas":3}}`, nil},
		{"type wrong", `{"type":"object","properties":{"spec":{"type":"object","properties":{"replicas":{"type":"integer"}}}}}`,
			`{"spec":{"replicas":"three"}}`, []string{`spec.replicas FieldValueTypeInvalid spec.replicas in body must be of type integer: "string"`}},
		{"integer is not 1.5", `{"type":"object","properties":{"n":{"type":"integer"}}}`, `{"n":1.5}`,
			[]string{`n FieldValueTypeInvalid must be of type integer: "number"`}},
		{"number takes integers", `{"type":"object","properties":{"n":{"type":"number"}}}`, `{"n":2}`, nil},
		{"boolean", `{"type":"object","properties":{"b":{"type":"boolean"}}}`, `{"b":"true"}`,
			[]string{`b FieldValueTypeInvalid must be of type boolean`}},
		{"array type", `{"type":"object","properties":{"a":{"type":"array","items":{"type":"string"}}}}`, `{"a":{}}`,
			[]string{`a FieldValueTypeInvalid must be of type array: "object"`}},
		{"items", `{"type":"object","properties":{"a":{"type":"array","items":{"type":"string"}}}}`, `{"a":["x",1]}`,
			[]string{`a[1] FieldValueTypeInvalid must be of type string`}},
		{"null not nullable", `{"type":"object","properties":{"s":{"type":"string"}}}`, `{"s":null}`,
			[]string{`s FieldValueTypeInvalid must be of type string: "null"`}},
		{"nullable", `{"type":"object","properties":{"s":{"type":"string","nullable":true}}}`, `{"s":null}`, nil},
		{"required", `{"type":"object","properties":{"spec":{"type":"object","required":["image","size"],"properties":{"image":{"type":"string"},"size":{"type":"integer"}}}}}`,
			`{"spec":{"size":1}}`, []string{`spec.image FieldValueRequired Required value`}},
		{"required at the root", `{"type":"object","required":["spec"],"properties":{"spec":{"type":"object"}}}`, `{}`,
			[]string{`spec FieldValueRequired Required value`}},
		{"enum ok", `{"type":"object","properties":{"p":{"type":"string","enum":["Always","Never"]}}}`, `{"p":"Never"}`, nil},
		{"enum", `{"type":"object","properties":{"p":{"type":"string","enum":["Always","Never"]}}}`, `{"p":"Sometimes"}`,
			[]string{`p FieldValueNotSupported Unsupported value: "Sometimes": supported values: "Always", "Never"`}},
		{"enum numbers", `{"type":"object","properties":{"n":{"type":"integer","enum":[1,2]}}}`, `{"n":2.0}`, nil},
		{"minimum", `{"type":"object","properties":{"n":{"type":"integer","minimum":1}}}`, `{"n":0}`,
			[]string{`n FieldValueInvalid Invalid value: 0: n in body should be greater than or equal to 1`}},
		{"minimum equal", `{"type":"object","properties":{"n":{"type":"integer","minimum":1}}}`, `{"n":1}`, nil},
		{"exclusive minimum", `{"type":"object","properties":{"n":{"type":"integer","minimum":1,"exclusiveMinimum":true}}}`, `{"n":1}`,
			[]string{`n FieldValueInvalid should be greater than 1`}},
		{"maximum", `{"type":"object","properties":{"n":{"type":"number","maximum":2.5}}}`, `{"n":3}`,
			[]string{`n FieldValueInvalid should be less than or equal to 2.5`}},
		{"exclusive maximum", `{"type":"object","properties":{"n":{"type":"integer","maximum":10,"exclusiveMaximum":true}}}`, `{"n":10}`,
			[]string{`n FieldValueInvalid should be less than 10`}},
		{"multipleOf", `{"type":"object","properties":{"n":{"type":"integer","multipleOf":5}}}`, `{"n":12}`,
			[]string{`n FieldValueInvalid should be a multiple of 5`}},
		{"minLength", `{"type":"object","properties":{"s":{"type":"string","minLength":2}}}`, `{"s":"é"}`,
			[]string{`s FieldValueInvalid should be at least 2 chars long`}},
		{"maxLength counts runes", `{"type":"object","properties":{"s":{"type":"string","maxLength":2}}}`, `{"s":"éé"}`, nil},
		{"maxLength", `{"type":"object","properties":{"s":{"type":"string","maxLength":2}}}`, `{"s":"abc"}`,
			[]string{`s FieldValueTooLong Too long: may not be more than 2`}},
		{"minItems", `{"type":"object","properties":{"a":{"type":"array","minItems":1,"items":{"type":"string"}}}}`, `{"a":[]}`,
			[]string{`a FieldValueInvalid should have at least 1 items`}},
		{"maxItems", `{"type":"object","properties":{"a":{"type":"array","maxItems":1,"items":{"type":"string"}}}}`, `{"a":["x","y"]}`,
			[]string{`a FieldValueTooMany Too many: 2: must have at most 1 items`}},
		{"uniqueItems", `{"type":"object","properties":{"a":{"type":"array","uniqueItems":true,"items":{"type":"integer"}}}}`, `{"a":[1,2,1.0]}`,
			[]string{`a[2] FieldValueDuplicate Duplicate value: 1`}},
		{"list type set", `{"type":"object","properties":{"a":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}}}}`, `{"a":["x","x"]}`,
			[]string{`a[1] FieldValueDuplicate`}},
		{"pattern", `{"type":"object","properties":{"s":{"type":"string","pattern":"^[a-z]+$"}}}`, `{"s":"Abc"}`,
			[]string{`s FieldValueInvalid Invalid value: "Abc": s in body should match '^[a-z]+$'`}},
		{"pattern ok", `{"type":"object","properties":{"s":{"type":"string","pattern":"^[a-z]+$"}}}`, `{"s":"abc"}`, nil},
		{"format int32", `{"type":"object","properties":{"n":{"type":"integer","format":"int32"}}}`, `{"n":3000000000}`,
			[]string{`n FieldValueInvalid must be of type int32`}},
		{"format int64", `{"type":"object","properties":{"n":{"type":"integer","format":"int64"}}}`, `{"n":3000000000}`, nil},
		{"format date-time", `{"type":"object","properties":{"s":{"type":"string","format":"date-time"}}}`, `{"s":"yesterday"}`,
			[]string{`s FieldValueInvalid must be of type date-time`}},
		{"format date-time ok", `{"type":"object","properties":{"s":{"type":"string","format":"date-time"}}}`, `{"s":"2026-01-02T03:04:05Z"}`, nil},
		{"format date", `{"type":"object","properties":{"s":{"type":"string","format":"date"}}}`, `{"s":"2026-13-01"}`,
			[]string{`s FieldValueInvalid must be of type date`}},
		{"format uuid", `{"type":"object","properties":{"s":{"type":"string","format":"uuid"}}}`, `{"s":"not-a-uuid"}`,
			[]string{`s FieldValueInvalid must be of type uuid`}},
		{"format byte", `{"type":"object","properties":{"s":{"type":"string","format":"byte"}}}`, `{"s":"!!"}`,
			[]string{`s FieldValueInvalid must be of type byte`}},
		{"unknown format accepted", `{"type":"object","properties":{"s":{"type":"string","format":"color"}}}`, `{"s":"red"}`, nil},
		{"int-or-string int", `{"type":"object","properties":{"p":{"x-kubernetes-int-or-string":true}}}`, `{"p":80}`, nil},
		{"int-or-string string", `{"type":"object","properties":{"p":{"x-kubernetes-int-or-string":true}}}`, `{"p":"http"}`, nil},
		{"int-or-string bool", `{"type":"object","properties":{"p":{"x-kubernetes-int-or-string":true}}}`, `{"p":true}`,
			[]string{`p FieldValueTypeInvalid must be of type integer-or-string`}},
		{"additionalProperties", `{"type":"object","properties":{"m":{"type":"object","additionalProperties":{"type":"integer"}}}}`, `{"m":{"a":1,"b":"x"}}`,
			[]string{`m[b] FieldValueTypeInvalid must be of type integer`}},
		{"min/maxProperties", `{"type":"object","properties":{"m":{"type":"object","minProperties":2,"additionalProperties":{"type":"string"}}}}`, `{"m":{"a":"x"}}`,
			[]string{`m FieldValueInvalid should have at least 2 properties`}},
		{"embedded resource", `{"type":"object","properties":{"t":{"type":"object","x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true}}}`, `{"t":{"kind":"Pod"}}`,
			[]string{`t.apiVersion FieldValueRequired`}},
		{"anyOf", `{"type":"object","properties":{"n":{"type":"integer","anyOf":[{"minimum":10},{"maximum":0}]}}}`, `{"n":5}`,
			[]string{`n FieldValueInvalid must validate at least one schema (anyOf)`}},
		{"oneOf", `{"type":"object","properties":{"n":{"type":"integer","oneOf":[{"minimum":0},{"maximum":10}]}}}`, `{"n":5}`,
			[]string{`n FieldValueInvalid must validate one and only one schema (oneOf)`}},
		{"not", `{"type":"object","properties":{"s":{"type":"string","not":{"enum":["root"]}}}}`, `{"s":"root"}`,
			[]string{`s FieldValueInvalid must not validate the schema (not)`}},
		{"allOf", `{"type":"object","properties":{"n":{"type":"integer","allOf":[{"minimum":1},{"maximum":3}]}}}`, `{"n":4}`,
			[]string{`n FieldValueInvalid should be less than or equal to 3`}},
		{"metadata is the server's", `{"type":"object","required":["metadata"],"properties":{"metadata":{"type":"string"}}}`,
			`{"apiVersion":"x/v1","kind":"K","metadata":{"name":"a"}}`, nil},
		{"several causes in path order", `{"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"integer","minimum":0},"b":{"type":"string","maxLength":1}}}}}`,
			`{"spec":{"b":"long","a":-1}}`, []string{`spec.a FieldValueInvalid`, `spec.b FieldValueTooLong`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			causes := compile(t, tc.schema).Validate(object(t, tc.obj))
			if len(causes) != len(tc.want) {
				t.Fatalf("got %d causes %+v, want %v", len(causes), causes, tc.want)
			}
			for i, w := range tc.want {
				field, rest, _ := strings.Cut(w, " ")
				typ, frag, _ := strings.Cut(rest, " ")
				c := causes[i]
				if c.Field != field || c.Type != typ || !strings.Contains(c.Message, frag) {
					t.Errorf("cause %d = %+v, want field %q type %q message with %q", i, c, field, typ, frag)
				}
			}
		})
	}
}

func TestNewRejectsBadPattern(t *testing.T) {
	if _, err := schema.New(props(t, `{"type":"object","properties":{"s":{"type":"string","pattern":"(["}}}`)); err == nil {
		t.Fatal("New accepted an invalid pattern")
	}
}

// TestPrune checks that unknown fields go, except where the schema
// preserves them, and that resources keep apiVersion, kind and metadata.
func TestPrune(t *testing.T) {
	for _, tc := range []struct {
		name, schema, obj, want string
		pruned                  []string
	}{
		{"unknown fields", `{"type":"object","properties":{"spec":{"type":"object","properties":{"size":{"type":"integer"}}}}}`,
			`{"apiVersion":"x/v1","kind":"K","metadata":{"name":"a","labels":{"x":"y"}},"spec":{"size":1,"color":"red"},"extra":true}`,
			`{"apiVersion":"x/v1","kind":"K","metadata":{"name":"a","labels":{"x":"y"}},"spec":{"size":1}}`,
			[]string{"extra", "spec.color"}},
		{"preserve unknown fields", `{"type":"object","properties":{"spec":{"type":"object","x-kubernetes-preserve-unknown-fields":true,"properties":{"inner":{"type":"object","properties":{"a":{"type":"string"}}}}}}}`,
			`{"spec":{"anything":{"deep":[1]},"inner":{"a":"x","b":"gone"}}}`,
			`{"spec":{"anything":{"deep":[1]},"inner":{"a":"x"}}}`, []string{"spec.inner.b"}},
		{"preserve at the root", `{"type":"object","x-kubernetes-preserve-unknown-fields":true}`,
			`{"spec":{"a":1},"status":{"b":2}}`, `{"spec":{"a":1},"status":{"b":2}}`, nil},
		{"array items", `{"type":"object","properties":{"a":{"type":"array","items":{"type":"object","properties":{"n":{"type":"string"}}}}}}`,
			`{"a":[{"n":"x","m":1},{"n":"y"}]}`, `{"a":[{"n":"x"},{"n":"y"}]}`, []string{"a[0].m"}},
		{"additionalProperties", `{"type":"object","properties":{"m":{"type":"object","additionalProperties":{"type":"object","properties":{"v":{"type":"integer"}}}}}}`,
			`{"m":{"k1":{"v":1,"w":2}}}`, `{"m":{"k1":{"v":1}}}`, []string{"m[k1].w"}},
		{"embedded resource keeps its type and metadata", `{"type":"object","properties":{"template":{"type":"object","x-kubernetes-embedded-resource":true,"properties":{"spec":{"type":"object"}}}}}`,
			`{"template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{},"junk":1}}`,
			`{"template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{}}}`, []string{"template.junk"}},
		{"nested object not embedded loses kind", `{"type":"object","properties":{"ref":{"type":"object","properties":{"name":{"type":"string"}}}}}`,
			`{"ref":{"name":"a","kind":"Pod"}}`, `{"ref":{"name":"a"}}`, []string{"ref.kind"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := object(t, tc.obj)
			pruned := compile(t, tc.schema).Prune(obj)
			slices.Sort(pruned)
			if !slices.Equal(pruned, tc.pruned) {
				t.Errorf("pruned %v, want %v", pruned, tc.pruned)
			}
			if !reflect.DeepEqual(obj, object(t, tc.want)) {
				got, _ := json.Marshal(obj)
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestDefault checks defaults of missing and null fields, nested and in
// arrays, and that present values stay.
func TestDefault(t *testing.T) {
	const s = `{"type":"object","properties":{"spec":{"type":"object","default":{},"properties":{
		"replicas":{"type":"integer","default":1},
		"policy":{"type":"string","default":"Always"},
		"opt":{"type":"string","nullable":true,"default":"x"},
		"ports":{"type":"array","items":{"type":"object","properties":{"protocol":{"type":"string","default":"TCP"}}}}}}}}`
	for _, tc := range []struct{ name, obj, want string }{
		{"missing parent gets its default, then its children's", `{}`, `{"spec":{"replicas":1,"policy":"Always","opt":"x"}}`},
		{"present values stay", `{"spec":{"replicas":3,"policy":"Never","opt":"y"}}`, `{"spec":{"replicas":3,"policy":"Never","opt":"y"}}`},
		{"null not nullable is defaulted, nullable null stays", `{"spec":{"replicas":null,"opt":null}}`, `{"spec":{"replicas":1,"policy":"Always","opt":null}}`},
		{"array items", `{"spec":{"ports":[{},{"protocol":"UDP"}]}}`, `{"spec":{"replicas":1,"policy":"Always","opt":"x","ports":[{"protocol":"TCP"},{"protocol":"UDP"}]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := object(t, tc.obj)
			compile(t, s).Default(obj)
			got, _ := json.Marshal(obj)
			want, _ := json.Marshal(object(t, tc.want))
			if !bytes.Equal(got, want) {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

func TestNilSchemaKeepsEverything(t *testing.T) {
	var s *schema.Schema
	obj := object(t, `{"spec":{"a":1}}`)
	s.Default(obj)
	if p := s.Prune(obj); p != nil || len(s.Validate(obj)) != 0 || len(obj) != 1 {
		t.Fatalf("a nil schema changed or rejected the object: %v %v", p, obj)
	}
}
