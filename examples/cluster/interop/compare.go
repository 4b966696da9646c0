package interop

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// Diff decodes two JSON documents and lists where they differ, as
// "path: want X, got Y" lines in path order. A null value counts as
// absent, as it does for Kubernetes' decoder.
func Diff(want, got []byte) ([]string, error) {
	var a, b any
	if err := json.Unmarshal(want, &a); err != nil {
		return nil, fmt.Errorf("want: %w", err)
	}
	if err := json.Unmarshal(got, &b); err != nil {
		return nil, fmt.Errorf("got: %w", err)
	}
	var out []string
	diff("", dropNulls(a), dropNulls(b), &out)
	sort.Strings(out)
	return out, nil
}

func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			x[k] = dropNulls(e)
		}
	case []any:
		for i := range x {
			x[i] = dropNulls(x[i])
		}
	}
	return v
}

func diff(path string, a, b any, out *[]string) {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		for k := range keys {
			p := join(path, k)
			av, ain := am[k]
			bv, bin := bm[k]
			switch {
			case !bin:
				*out = append(*out, p+": dropped")
			case !ain:
				*out = append(*out, p+": added")
			default:
				diff(p, av, bv, out)
			}
		}
		return
	}
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok && bok && len(as) == len(bs) {
		for i := range as {
			diff(fmt.Sprintf("%s[%d]", path, i), as[i], bs[i], out)
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		*out = append(*out, fmt.Sprintf("%s: want %s, got %s", path, short(a), short(b)))
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

// Strip removes the fields at the given dotted paths from a JSON
// document, where "[]" in a path stands for every element of a list
// ("spec.containers[].x"), and reports the paths that were not there.
func Strip(doc []byte, paths []string) ([]byte, []string, error) {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return nil, nil, err
	}
	var missing []string
	for _, p := range paths {
		if !strip(v, strings.Split(p, ".")) {
			missing = append(missing, p)
		}
	}
	out, err := json.Marshal(v)
	return out, slices.Clip(missing), err
}

func strip(v any, parts []string) bool {
	key, list := strings.CutSuffix(parts[0], "[]")
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	e, ok := m[key]
	if !ok {
		return false
	}
	if len(parts) == 1 && !list {
		delete(m, key)
		return true
	}
	if !list {
		return strip(e, parts[1:])
	}
	items, ok := e.([]any)
	if !ok {
		return false
	}
	found := false
	for _, it := range items {
		if len(parts) == 1 {
			continue
		}
		if strip(it, parts[1:]) {
			found = true
		}
	}
	return found
}
