// Package schema validates, prunes and defaults JSON objects against the
// structural OpenAPI v3 schema of a CustomResourceDefinition version, as
// kube-apiserver does for custom resources.
//
// [New] compiles an [apiextensionsv1.JSONSchemaProps] (its patterns
// checked once); the [Schema] then works on objects decoded from JSON
// into map[string]any, []any, string, bool, nil and numbers (json.Number
// from a decoder with UseNumber, float64, int64 or int):
//
//   - [Schema.Prune] drops the fields the schema does not specify, except
//     under x-kubernetes-preserve-unknown-fields, and keeps apiVersion,
//     kind and metadata at the root and in embedded resources
//     (x-kubernetes-embedded-resource).
//   - [Schema.Default] fills in the defaults of missing (or null and not
//     nullable) properties.
//   - [Schema.Validate] checks type, nullable, x-kubernetes-int-or-string,
//     required, enum, minimum and maximum (exclusive too), multipleOf,
//     minLength, maxLength, pattern, format (int32, int64, date,
//     date-time, uuid, byte), minItems, maxItems, uniqueItems,
//     minProperties, maxProperties, allOf, anyOf, oneOf and not, and
//     returns Kubernetes-shaped causes whose fields are paths such as
//     "spec.replicas" or "spec.ports[0].name", for an Invalid Status.
//
// The API server runs them in Kubernetes' order: prune, default,
// validate. A nil *Schema is the schema of a schemaless resource: it
// keeps every field and accepts every object.
package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/governor-io/governor/examples/cluster/api/apiextensionsv1"
)

// Props is the schema of one node, as a CRD gives it.
type Props = apiextensionsv1.JSONSchemaProps

// Schema is a compiled structural schema. It is read-only and safe for
// concurrent use.
type Schema struct {
	root     *Props
	patterns map[string]*regexp.Regexp
}

// New compiles root, the openAPIV3Schema of a CRD version. It fails for
// a pattern that is not a valid regular expression.
func New(root *Props) (*Schema, error) {
	s := &Schema{root: root, patterns: map[string]*regexp.Regexp{}}
	var err error
	walk(root, func(p *Props) {
		if p.Pattern == "" || s.patterns[p.Pattern] != nil || err != nil {
			return
		}
		re, cerr := regexp.Compile(p.Pattern)
		if cerr != nil {
			err = fmt.Errorf("schema: pattern %q: %w", p.Pattern, cerr)
			return
		}
		s.patterns[p.Pattern] = re
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// walk calls f on p and every schema under it.
func walk(p *Props, f func(*Props)) {
	if p == nil {
		return
	}
	f(p)
	for k := range p.Properties {
		c := p.Properties[k]
		walk(&c, f)
	}
	if p.Items != nil {
		walk(p.Items.Schema, f)
		for i := range p.Items.JSONSchemas {
			walk(&p.Items.JSONSchemas[i], f)
		}
	}
	if p.AdditionalProperties != nil {
		walk(p.AdditionalProperties.Schema, f)
	}
	for _, list := range [][]Props{p.AllOf, p.AnyOf, p.OneOf} {
		for i := range list {
			walk(&list[i], f)
		}
	}
	walk(p.Not, f)
}

func preserves(p *Props) bool { return p.XPreserveUnknownFields != nil && *p.XPreserveUnknownFields }

func itemSchema(p *Props) *Props {
	if p.Items == nil {
		return nil
	}
	return p.Items.Schema
}

func additional(p *Props) *Props {
	if p.AdditionalProperties == nil {
		return nil
	}
	return p.AdditionalProperties.Schema
}

func child(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Prune removes from obj, in place, every field the schema does not
// specify, and returns the paths of what it removed.
func (s *Schema) Prune(obj map[string]any) []string {
	if s == nil || s.root == nil {
		return nil
	}
	var pruned []string
	pruneObject(obj, s.root, "", true, &pruned)
	return pruned
}

func pruneValue(v any, p *Props, path string, pruned *[]string) {
	if p == nil {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		pruneObject(x, p, path, p.XEmbeddedResource, pruned)
	case []any:
		if it := itemSchema(p); it != nil {
			for i, e := range x {
				pruneValue(e, it, fmt.Sprintf("%s[%d]", path, i), pruned)
			}
		}
	}
}

// pruneObject prunes an object; a resource (the root, or an embedded
// one) keeps its apiVersion, kind and metadata.
func pruneObject(obj map[string]any, p *Props, path string, resource bool, pruned *[]string) {
	add := additional(p)
	keep := preserves(p) || add != nil
	for k, v := range obj {
		if resource && (k == "apiVersion" || k == "kind" || k == "metadata") {
			continue
		}
		if ps, ok := p.Properties[k]; ok {
			pruneValue(v, &ps, child(path, k), pruned)
			continue
		}
		if add != nil {
			pruneValue(v, add, path+"["+k+"]", pruned)
			continue
		}
		if !keep {
			delete(obj, k)
			*pruned = append(*pruned, child(path, k))
		}
	}
}

// Default fills in, in place, the defaults of obj's missing properties
// (and of null ones that are not nullable), everywhere the schema gives
// one.
func (s *Schema) Default(obj map[string]any) {
	if s == nil || s.root == nil {
		return
	}
	defaultValue(obj, s.root)
}

func defaultValue(v any, p *Props) {
	switch x := v.(type) {
	case map[string]any:
		for k := range p.Properties {
			ps := p.Properties[k]
			cur, ok := x[k]
			if len(ps.Default) > 0 && (!ok || cur == nil && !ps.Nullable) {
				if d, err := decodeJSON(ps.Default); err == nil {
					x[k] = d
				}
			}
			if c, ok := x[k]; ok {
				defaultValue(c, &ps)
			}
		}
		if add := additional(p); add != nil {
			for k, c := range x {
				if _, ok := p.Properties[k]; !ok {
					defaultValue(c, add)
				}
			}
		}
	case []any:
		if it := itemSchema(p); it != nil {
			for _, e := range x {
				defaultValue(e, it)
			}
		}
	}
}

// decodeJSON decodes data as the objects this package works on (numbers
// as json.Number).
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
