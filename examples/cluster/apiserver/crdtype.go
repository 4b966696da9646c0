package apiserver

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/examples/cluster/api/apiextensionsv1"
	"github.com/governor-io/governor/examples/cluster/api/unstructured"
	"github.com/governor-io/governor/examples/cluster/apiserver/schema"
	"github.com/governor-io/governor/store/meta"
)

// customType returns the [api.Type] of one served version of a CRD.
func customType(crd *apiextensionsv1.CustomResourceDefinition, v apiextensionsv1.CustomResourceDefinitionVersion) (api.Type[*unstructured.Object], error) {
	var props *schema.Props
	if v.Schema != nil {
		props = v.Schema.OpenAPIV3Schema
	}
	var sch *schema.Schema
	if props != nil {
		s, err := schema.New(props)
		if err != nil {
			return api.Type[*unstructured.Object]{}, err
		}
		sch = s
	}
	n := crd.Spec.Names
	t := objectType(crd.Spec.Group, v.Name, n.Kind, n.Plural, n.Singular, crd.Namespaced(), sch)
	t.ShortNames, t.Categories = n.ShortNames, n.Categories
	if sr := v.Subresources; sr != nil {
		if sr.Status != nil {
			t.Subresources = append(t.Subresources, "status")
			t.New = unstructured.NewWithStatus
		}
		if sr.Scale != nil {
			t.Subresources = append(t.Subresources, "scale")
			t.Scale = customScale(sr.Scale)
		}
	}
	if len(v.AdditionalPrinterColumns) > 0 {
		cols := v.AdditionalPrinterColumns
		t.Columns = []api.TableColumn{api.NameColumn}
		for _, c := range cols {
			t.Columns = append(t.Columns, api.TableColumn{Name: c.Name, Type: c.Type, Format: c.Format,
				Description: c.Description, Priority: c.Priority})
		}
		t.Cells = func(o *unstructured.Object, now time.Time) []any {
			cells := []any{o.Name}
			var whole map[string]any
			for _, c := range cols {
				path := jsonPathSegments(c.JSONPath)
				var fields map[string]any
				if len(path) > 0 && path[0] == "metadata" {
					if whole == nil {
						whole = o.Map()
					}
					fields = whole
				} else {
					fields = o.Fields()
				}
				cells = append(cells, cell(lookupPath(fields, path), c.Type, now))
			}
			return cells
		}
	}
	if len(v.SelectableFields) > 0 {
		t.Fields = map[string]func(*unstructured.Object) string{}
		for _, f := range v.SelectableFields {
			path := jsonPathSegments(f.JSONPath)
			t.Fields[strings.Join(path, ".")] = func(o *unstructured.Object) string {
				v := lookupPath(o.Fields(), path)
				if v == nil {
					return ""
				}
				return fmt.Sprint(v)
			}
		}
	}
	return t, nil
}

// objectType returns the Type of unstructured objects checked against sch
// (nil: schemaless, every field kept).
func objectType(group, version, kind, plural, singular string, namespaced bool, sch *schema.Schema) api.Type[*unstructured.Object] {
	if singular == "" {
		singular = strings.ToLower(kind)
	}
	return api.Type[*unstructured.Object]{
		Group: group, Version: version, Kind: kind, Resource: plural, Singular: singular, Namespaced: namespaced,
		New: unstructured.New,
		Default: func(o *unstructured.Object) {
			if sch == nil {
				return
			}
			f := o.Fields()
			sch.Prune(f)
			sch.Default(f)
			o.SetFields(f)
		},
		Validate: func(o *unstructured.Object) []meta.Cause {
			causes := api.ValidateObjectMeta(&o.ObjectMeta, namespaced, api.DNS1123Subdomain)
			return append(causes, sch.Validate(o.Fields())...)
		},
	}
}

// jsonPathSegments splits the JSONPath-lite of printer columns and
// selectable fields (".spec.replicas", "{.status.phase}",
// ".spec.ports[0].port") into keys and indexes.
func jsonPathSegments(p string) []string {
	p = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(p), "{"), "}")
	p = strings.TrimPrefix(p, ".")
	var out []string
	for _, part := range strings.Split(p, ".") {
		for part != "" {
			i := strings.IndexByte(part, '[')
			if i < 0 {
				out = append(out, part)
				break
			}
			if i > 0 {
				out = append(out, part[:i])
			}
			j := strings.IndexByte(part, ']')
			if j < i {
				out = append(out, part[i:])
				break
			}
			out = append(out, part[i:j+1])
			part = part[j+1:]
		}
	}
	return out
}

// lookupPath follows path (keys and "[n]" indexes) in a decoded object,
// and returns nil when it is not there.
func lookupPath(m map[string]any, path []string) any {
	var cur any = m
	for _, seg := range path {
		if strings.HasPrefix(seg, "[") {
			a, ok := cur.([]any)
			n, err := strconv.Atoi(strings.Trim(seg, "[]"))
			if !ok || err != nil || n < 0 || n >= len(a) {
				return nil
			}
			cur = a[n]
			continue
		}
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[seg]
	}
	return cur
}

// cell converts a value to a table cell of the column's type: integers
// and numbers as such, dates as an age ("5m"), objects as JSON.
func cell(v any, typ string, now time.Time) any {
	if v == nil {
		return nil
	}
	switch typ {
	case "integer":
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				return i
			}
		}
	case "number":
		if n, ok := v.(json.Number); ok {
			if f, err := n.Float64(); err == nil {
				return f
			}
		}
	case "boolean":
		if b, ok := v.(bool); ok {
			return b
		}
	case "date":
		if s, ok := v.(string); ok {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				return api.HumanDuration(now.Sub(t))
			}
		}
	}
	switch x := v.(type) {
	case map[string]any, []any:
		data, _ := json.Marshal(x)
		return string(data)
	case json.Number:
		return x.String()
	case string:
		return x
	}
	return fmt.Sprint(v)
}
