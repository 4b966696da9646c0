package schema

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/store/meta"
)

// Cause types beyond those of package meta, as Kubernetes names them.
const (
	CauseTypeFieldValueTooMany   = "FieldValueTooMany"
	CauseTypeFieldValueDuplicate = "FieldValueDuplicate"
	CauseTypeFieldValueTypeError = "FieldValueTypeInvalid"
)

// Validate checks obj, a whole object decoded from JSON, against the
// schema and returns every offending field, in a stable order. Fields are
// named by paths from the object's root, such as "spec.replicas". The
// root's apiVersion, kind and metadata are the server's to check and are
// not validated here.
func (s *Schema) Validate(obj map[string]any) []meta.Cause {
	if s == nil || s.root == nil {
		return nil
	}
	v := &validator{s: s}
	root := make(map[string]any, len(obj))
	for k, x := range obj {
		if k != "apiVersion" && k != "kind" && k != "metadata" {
			root[k] = x
		}
	}
	p := *s.root
	p.Required = without(p.Required, "apiVersion", "kind", "metadata")
	v.value(root, &p, "")
	return v.causes
}

func without(list []string, drop ...string) []string {
	var out []string
	for _, x := range list {
		keep := true
		for _, d := range drop {
			keep = keep && x != d
		}
		if keep {
			out = append(out, x)
		}
	}
	return out
}

type validator struct {
	s      *Schema
	causes []meta.Cause
}

func (v *validator) add(c meta.Cause) { v.causes = append(v.causes, c) }

// typeName is the JSON type of x as OpenAPI names it: "integer" for a
// number without a fraction.
func typeName(x any) string {
	switch n := x.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		if _, err := n.Int64(); err == nil {
			return "integer"
		}
		if f, err := n.Float64(); err == nil && f == math.Trunc(f) && !math.IsInf(f, 0) {
			return "integer"
		}
		return "number"
	case float64:
		if n == math.Trunc(n) && !math.IsInf(n, 0) {
			return "integer"
		}
		return "number"
	case float32:
		return typeName(float64(n))
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "integer"
	}
	return fmt.Sprintf("%T", x)
}

// toFloat returns a number's value.
func toFloat(x any) (float64, bool) {
	switch n := x.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case float32:
		return float64(n), true
	}
	rv := reflect.ValueOf(x)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint()), true
	}
	return 0, false
}

// display is how a value appears in a message.
func display(x any) any {
	switch n := x.(type) {
	case nil:
		return "null"
	case json.Number:
		return n
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return x
}

func (v *validator) typeError(path string, x any, want string) {
	v.add(meta.Cause{Type: CauseTypeFieldValueTypeError, Field: path,
		Message: fmt.Sprintf("Invalid value: %q: %s in body must be of type %s: %q", typeName(x), bodyPath(path), want, typeName(x))})
}

func bodyPath(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

func (v *validator) invalid(path string, x any, detail string) {
	v.add(api.Invalid(path, display(x), fmt.Sprintf("%s in body %s", bodyPath(path), detail)))
}

// value checks x at path against p.
func (v *validator) value(x any, p *Props, path string) {
	if x == nil {
		if !p.Nullable && (p.Type != "" || p.XIntOrString) {
			want := p.Type
			if p.XIntOrString {
				want = "integer-or-string"
			}
			v.typeError(path, x, want)
		}
		return
	}
	t := typeName(x)
	switch {
	case p.XIntOrString:
		if t != "integer" && t != "string" {
			v.typeError(path, x, "integer-or-string")
			return
		}
	case p.Type == "":
	case p.Type == "number" && (t == "integer" || t == "number"):
	case p.Type != t:
		v.typeError(path, x, p.Type)
		return
	}
	if len(p.Enum) > 0 {
		v.enum(x, p, path)
	}
	switch t {
	case "object":
		v.object(x.(map[string]any), p, path)
	case "array":
		v.array(x.([]any), p, path)
	case "string":
		v.str(x.(string), p, path)
	case "integer", "number":
		v.number(x, p, path)
	}
	v.combinators(x, p, path)
}

func (v *validator) enum(x any, p *Props, path string) {
	supported := make([]string, 0, len(p.Enum))
	for _, e := range p.Enum {
		d, err := decodeJSON(e)
		if err != nil {
			continue
		}
		if equalJSON(d, x) {
			return
		}
		if s, ok := d.(string); ok {
			supported = append(supported, s)
		} else {
			supported = append(supported, string(e))
		}
	}
	v.add(api.NotSupported(path, display(x), supported...))
}

// equalJSON compares two decoded JSON values, numbers by value.
func equalJSON(a, b any) bool {
	fa, oka := toFloat(a)
	fb, okb := toFloat(b)
	if oka || okb {
		return oka && okb && fa == fb
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equalJSON(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

func (v *validator) object(m map[string]any, p *Props, path string) {
	for _, r := range p.Required {
		if _, ok := m[r]; !ok {
			v.add(api.Required(child(path, r), ""))
		}
	}
	if p.XEmbeddedResource {
		for _, k := range []string{"apiVersion", "kind"} {
			if s, _ := m[k].(string); s == "" {
				v.add(api.Required(child(path, k), "must not be empty"))
			}
		}
	}
	if p.MinProperties != nil && int64(len(m)) < *p.MinProperties {
		v.invalid(path, len(m), fmt.Sprintf("should have at least %d properties", *p.MinProperties))
	}
	if p.MaxProperties != nil && int64(len(m)) > *p.MaxProperties {
		v.add(meta.Cause{Type: CauseTypeFieldValueTooMany, Field: path,
			Message: fmt.Sprintf("Too many: %d: must have at most %d items", len(m), *p.MaxProperties)})
	}
	add := additional(p)
	for _, k := range sortedKeys(m) {
		if p.XEmbeddedResource && (k == "apiVersion" || k == "kind" || k == "metadata") {
			if _, ok := p.Properties[k]; !ok {
				continue
			}
		}
		if ps, ok := p.Properties[k]; ok {
			v.value(m[k], &ps, child(path, k))
		} else if add != nil {
			v.value(m[k], add, path+"["+k+"]")
		} else if p.AdditionalProperties != nil && !p.AdditionalProperties.Allows && len(p.Properties) > 0 {
			v.add(api.Forbidden(child(path, k), "additional properties are not allowed"))
		}
	}
}

func (v *validator) array(a []any, p *Props, path string) {
	if p.MinItems != nil && int64(len(a)) < *p.MinItems {
		v.invalid(path, len(a), fmt.Sprintf("should have at least %d items", *p.MinItems))
	}
	if p.MaxItems != nil && int64(len(a)) > *p.MaxItems {
		v.add(meta.Cause{Type: CauseTypeFieldValueTooMany, Field: path,
			Message: fmt.Sprintf("Too many: %d: must have at most %d items", len(a), *p.MaxItems)})
	}
	unique := p.UniqueItems || p.XListType != nil && *p.XListType == "set"
	if unique {
		seen := make(map[string]bool, len(a))
		for i, e := range a {
			k := valueKey(e)
			if seen[k] {
				v.add(meta.Cause{Type: CauseTypeFieldValueDuplicate, Field: fmt.Sprintf("%s[%d]", path, i),
					Message: fmt.Sprintf("Duplicate value: %v", display(e))})
			}
			seen[k] = true
		}
	}
	if it := itemSchema(p); it != nil {
		for i, e := range a {
			v.value(e, it, fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

// valueKey returns a key equal for equal JSON values (numbers compared by
// value), so that uniqueness takes linear time.
func valueKey(x any) string {
	switch n := x.(type) {
	case map[string]any:
		var b strings.Builder
		b.WriteString("{")
		for _, k := range sortedKeys(n) {
			fmt.Fprintf(&b, "%q:%s,", k, valueKey(n[k]))
		}
		return b.String() + "}"
	case []any:
		var b strings.Builder
		b.WriteString("[")
		for _, e := range n {
			b.WriteString(valueKey(e))
			b.WriteString(",")
		}
		return b.String() + "]"
	case string:
		return strconv.Quote(n)
	}
	if f, ok := toFloat(x); ok {
		return "n" + strconv.FormatFloat(f, 'g', -1, 64)
	}
	return fmt.Sprint(x)
}

func (v *validator) str(s string, p *Props, path string) {
	n := int64(utf8.RuneCountInString(s))
	if p.MinLength != nil && n < *p.MinLength {
		v.invalid(path, s, fmt.Sprintf("should be at least %d chars long", *p.MinLength))
	}
	if p.MaxLength != nil && n > *p.MaxLength {
		v.add(meta.Cause{Type: meta.CauseTypeFieldValueTooLong, Field: path,
			Message: fmt.Sprintf("Too long: may not be more than %d bytes", *p.MaxLength)})
	}
	if p.Pattern != "" {
		if re := v.s.patterns[p.Pattern]; re != nil && !re.MatchString(s) {
			v.invalid(path, s, fmt.Sprintf("should match '%s'", p.Pattern))
		}
	}
	if p.Format != "" && !p.XIntOrString {
		if msg := checkStringFormat(p.Format, s); msg != "" {
			v.invalid(path, s, msg)
		}
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// checkStringFormat checks the string formats it knows; the others are
// accepted, as Kubernetes accepts formats it does not know.
func checkStringFormat(format, s string) string {
	bad := fmt.Sprintf("must be of type %s", format)
	switch format {
	case "date-time":
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return bad
		}
	case "date":
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return bad
		}
	case "uuid":
		if !uuidRE.MatchString(s) {
			return bad
		}
	case "byte":
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			return bad
		}
	}
	return ""
}

func (v *validator) number(x any, p *Props, path string) {
	f, ok := toFloat(x)
	if !ok {
		return
	}
	if m := p.Minimum; m != nil {
		if p.ExclusiveMinimum && f <= *m {
			v.invalid(path, x, "should be greater than "+fmtNum(*m))
		} else if f < *m {
			v.invalid(path, x, "should be greater than or equal to "+fmtNum(*m))
		}
	}
	if m := p.Maximum; m != nil {
		if p.ExclusiveMaximum && f >= *m {
			v.invalid(path, x, "should be less than "+fmtNum(*m))
		} else if f > *m {
			v.invalid(path, x, "should be less than or equal to "+fmtNum(*m))
		}
	}
	if m := p.MultipleOf; m != nil && *m > 0 {
		if q := f / *m; q != math.Trunc(q) {
			v.invalid(path, x, "should be a multiple of "+fmtNum(*m))
		}
	}
	switch p.Format {
	case "int32":
		if f < math.MinInt32 || f > math.MaxInt32 || f != math.Trunc(f) {
			v.invalid(path, x, "must be of type int32")
		}
	case "int64":
		if n, ok := x.(json.Number); ok {
			if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
				v.invalid(path, x, "must be of type int64")
			}
		}
	}
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// combinators checks allOf, anyOf, oneOf and not: value validations that
// a structural schema may carry beside its types.
func (v *validator) combinators(x any, p *Props, path string) {
	for i := range p.AllOf {
		v.value(x, &p.AllOf[i], path)
	}
	passes := func(q *Props) bool {
		sub := &validator{s: v.s}
		sub.value(x, q, path)
		return len(sub.causes) == 0
	}
	if len(p.AnyOf) > 0 {
		ok := false
		for i := range p.AnyOf {
			if passes(&p.AnyOf[i]) {
				ok = true
				break
			}
		}
		if !ok {
			v.invalid(path, x, "must validate at least one schema (anyOf)")
		}
	}
	if len(p.OneOf) > 0 {
		n := 0
		for i := range p.OneOf {
			if passes(&p.OneOf[i]) {
				n++
			}
		}
		if n != 1 {
			v.invalid(path, x, "must validate one and only one schema (oneOf)")
		}
	}
	if p.Not != nil && passes(p.Not) {
		v.invalid(path, x, "must not validate the schema (not)")
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
