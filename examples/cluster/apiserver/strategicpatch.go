package apiserver

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/governor-io/governor/store/meta"
)

// Strategic merge patch, as Kubernetes defines it for its built-in types:
// a JSON merge patch whose lists merge by key where the Go struct's tags
// say `patchStrategy:"merge" patchMergeKey:"name"`, with the directives
// $patch (replace, delete, merge), $retainKeys, $setElementOrder/FIELD and
// $deleteFromPrimitiveList/FIELD. Fields the Go type keeps opaque
// (json.RawMessage) have no tags: there a list merges by the key its
// $setElementOrder names, which kubectl sends with every merging list.

const (
	directivePatch       = "$patch"
	directiveRetainKeys  = "$retainKeys"
	prefixSetOrder       = "$setElementOrder/"
	prefixDeleteFromList = "$deleteFromPrimitiveList/"
)

func parseStrategicPatch(data []byte) (map[string]any, error) {
	v, err := decodeValue(data)
	if err != nil {
		return nil, meta.NewBadRequest("the strategic merge patch is not JSON: " + err.Error())
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, meta.NewBadRequest("the strategic merge patch is not a JSON object")
	}
	return m, nil
}

// strategicMergePatch applies patch to the JSON document doc of a T.
func strategicMergePatch[T any](doc []byte, patch map[string]any) ([]byte, error) {
	orig, err := decodeValue(doc)
	if err != nil {
		return nil, meta.NewInternalError(err)
	}
	om, _ := orig.(map[string]any)
	out, err := smpMap(om, deepCopyJSON(patch).(map[string]any), reflect.TypeFor[T]())
	if err != nil {
		return nil, &meta.StatusError{Reason: meta.ReasonInvalid, Message: "the strategic merge patch does not apply: " + err.Error()}
	}
	return json.Marshal(out)
}

// fieldInfo is what a struct field's tags say about patching it.
type fieldInfo struct {
	typ      reflect.Type // nil when unknown (opaque JSON)
	strategy []string
	mergeKey string
}

// fieldOf returns the patch information of the JSON member name of a
// value of type t.
func fieldOf(t reflect.Type, name string) fieldInfo {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return fieldInfo{}
	}
	switch t.Kind() {
	case reflect.Map:
		return fieldInfo{typ: t.Elem()}
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == "-" {
				continue
			}
			if f.Anonymous && tag == "" {
				if fi := fieldOf(f.Type, name); fi.typ != nil {
					return fi
				}
				continue
			}
			if tag == "" {
				tag = f.Name
			}
			if tag == name {
				fi := fieldInfo{typ: f.Type, mergeKey: f.Tag.Get("patchMergeKey")}
				if s := f.Tag.Get("patchStrategy"); s != "" {
					fi.strategy = strings.Split(s, ",")
				}
				if f.Type == reflect.TypeFor[json.RawMessage]() {
					fi.typ = nil
				}
				return fi
			}
		}
	}
	return fieldInfo{}
}

func elemType(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		return t.Elem()
	}
	return nil
}

// smpMap merges patch into orig (either may be nil), a value of type t.
func smpMap(orig, patch map[string]any, t reflect.Type) (map[string]any, error) {
	if d, ok := patch[directivePatch]; ok {
		delete(patch, directivePatch)
		switch d {
		case "replace":
			return stripDirectives(patch), nil
		case "delete":
			return nil, nil
		case "merge":
		default:
			return nil, fmt.Errorf("unknown $patch %v", d)
		}
	}
	out := map[string]any{}
	for k, v := range orig {
		out[k] = v
	}
	if rk, ok := patch[directiveRetainKeys]; ok {
		delete(patch, directiveRetainKeys)
		keys, ok := rk.([]any)
		if !ok {
			return nil, fmt.Errorf("$retainKeys is not a list")
		}
		for k := range out {
			if !slices.ContainsFunc(keys, func(x any) bool { return x == k }) {
				delete(out, k)
			}
		}
	}
	orders := map[string][]any{}
	deletions := map[string][]any{}
	for k, v := range patch {
		switch {
		case strings.HasPrefix(k, prefixSetOrder):
			l, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%s is not a list", k)
			}
			orders[strings.TrimPrefix(k, prefixSetOrder)] = l
			delete(patch, k)
		case strings.HasPrefix(k, prefixDeleteFromList):
			l, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%s is not a list", k)
			}
			deletions[strings.TrimPrefix(k, prefixDeleteFromList)] = l
			delete(patch, k)
		}
	}
	for k, v := range patch {
		if v == nil {
			delete(out, k)
			continue
		}
		fi := fieldOf(t, k)
		switch pv := v.(type) {
		case map[string]any:
			om, _ := out[k].(map[string]any)
			m, err := smpMap(om, pv, fi.typ)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if m == nil {
				delete(out, k)
			} else {
				out[k] = m
			}
		case []any:
			ol, _ := out[k].([]any)
			l, err := smpList(ol, pv, fi, orders[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = l
		default:
			out[k] = v
		}
	}
	for k, dels := range deletions {
		l, _ := out[k].([]any)
		kept := []any{}
		for _, x := range l {
			if !slices.ContainsFunc(dels, func(d any) bool { return jsonEqual(d, x) }) {
				kept = append(kept, x)
			}
		}
		out[k] = kept
	}
	for k, order := range orders {
		if l, ok := out[k].([]any); ok {
			out[k] = applyOrder(l, order, mergeKeyOf(fieldOf(t, k), order))
		}
	}
	return out, nil
}

// mergeKeyOf returns the key a list merges by: the struct tag's, or for
// opaque JSON the one key of the $setElementOrder entries.
func mergeKeyOf(fi fieldInfo, order []any) string {
	if fi.mergeKey != "" {
		return fi.mergeKey
	}
	if fi.typ == nil && len(order) > 0 {
		if m, ok := order[0].(map[string]any); ok && len(m) == 1 {
			for k := range m {
				return k
			}
		}
	}
	return ""
}

// smpList merges a patch list into orig by the field's strategy.
func smpList(orig, patch []any, fi fieldInfo, order []any) ([]any, error) {
	merge := slices.Contains(fi.strategy, "merge") || fi.typ == nil && len(order) > 0
	key := mergeKeyOf(fi, order)
	// A {"$patch": "replace"} element replaces the whole list.
	for _, e := range patch {
		if m, ok := e.(map[string]any); ok && m[directivePatch] == "replace" {
			var rest []any
			for _, x := range patch {
				if x, ok := x.(map[string]any); ok && x[directivePatch] != nil {
					continue
				}
				rest = append(rest, stripDirectivesAny(x))
			}
			if rest == nil {
				rest = []any{}
			}
			return rest, nil
		}
	}
	if !merge {
		return stripDirectivesAny(patch).([]any), nil
	}
	if key == "" {
		// A merging list of primitives: the union, in order.
		out := append([]any{}, orig...)
		for _, e := range patch {
			if !slices.ContainsFunc(out, func(x any) bool { return jsonEqual(x, e) }) {
				out = append(out, e)
			}
		}
		return out, nil
	}
	out := append([]any{}, orig...)
	find := func(kv any) int {
		return slices.IndexFunc(out, func(x any) bool {
			m, ok := x.(map[string]any)
			return ok && jsonEqual(m[key], kv)
		})
	}
	et := elemType(fi.typ)
	for _, e := range patch {
		pm, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("an element of a list merged by %q is not an object", key)
		}
		kv, ok := pm[key]
		if !ok {
			return nil, fmt.Errorf("an element lacks the merge key %q", key)
		}
		i := find(kv)
		if pm[directivePatch] == "delete" {
			if i >= 0 {
				out = append(out[:i], out[i+1:]...)
			}
			continue
		}
		var om map[string]any
		if i >= 0 {
			om, _ = out[i].(map[string]any)
		}
		m, err := smpMap(om, pm, et)
		if err != nil {
			return nil, err
		}
		if i >= 0 {
			out[i] = m
		} else {
			out = append(out, m)
		}
	}
	return out, nil
}

// applyOrder orders a merged list as $setElementOrder says; elements it
// does not name keep their relative order after the named ones.
func applyOrder(l, order []any, key string) []any {
	id := func(x any) any {
		if key == "" {
			return x
		}
		if m, ok := x.(map[string]any); ok {
			return m[key]
		}
		return nil
	}
	rank := func(x any) int {
		return slices.IndexFunc(order, func(o any) bool { return jsonEqual(id(o), id(x)) })
	}
	out := append([]any{}, l...)
	slices.SortStableFunc(out, func(a, b any) int {
		ra, rb := rank(a), rank(b)
		if ra < 0 {
			ra = len(order)
		}
		if rb < 0 {
			rb = len(order)
		}
		return ra - rb
	})
	return out
}

func stripDirectives(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if strings.HasPrefix(k, "$") || v == nil {
			continue
		}
		out[k] = stripDirectivesAny(v)
	}
	return out
}

func stripDirectivesAny(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return stripDirectives(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = stripDirectivesAny(e)
		}
		return out
	}
	return v
}
