package apiserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/governor-io/governor/store/meta"
)

// jsonPatchOp is one operation of a JSON patch (RFC 6902).
type jsonPatchOp struct {
	Op    string           `json:"op"`
	Path  *string          `json:"path"`
	From  *string          `json:"from"`
	Value *json.RawMessage `json:"value"`
	value any              // Value decoded
}

// parseJSONPatch decodes and checks a JSON patch document: an array of
// operations, each with a known op, a path, and what the op needs. A bad
// document is a 400.
func parseJSONPatch(data []byte) ([]jsonPatchOp, error) {
	var ops []jsonPatchOp
	if err := json.Unmarshal(data, &ops); err != nil {
		return nil, meta.NewBadRequest("the JSON patch is not an array of operations: " + err.Error())
	}
	for i := range ops {
		op := &ops[i]
		bad := func(msg string) error {
			return meta.NewBadRequest(fmt.Sprintf("JSON patch operation %d: %s", i, msg))
		}
		if op.Path == nil {
			return nil, bad(`"path" is missing`)
		}
		if err := checkPointer(*op.Path); err != nil {
			return nil, bad(err.Error())
		}
		switch op.Op {
		case "add", "replace", "test":
			if op.Value == nil {
				return nil, bad(fmt.Sprintf("%q needs a \"value\"", op.Op))
			}
			v, err := decodeValue(*op.Value)
			if err != nil {
				return nil, bad(err.Error())
			}
			op.value = v
		case "remove":
		case "move", "copy":
			if op.From == nil {
				return nil, bad(fmt.Sprintf("%q needs a \"from\"", op.Op))
			}
			if err := checkPointer(*op.From); err != nil {
				return nil, bad(err.Error())
			}
		default:
			return nil, bad(fmt.Sprintf("unknown op %q", op.Op))
		}
	}
	return ops, nil
}

func decodeValue(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func checkPointer(p string) error {
	if p != "" && p[0] != '/' {
		return fmt.Errorf("path %q does not start with '/'", p)
	}
	return nil
}

// splitPointer splits a JSON pointer (RFC 6901) into unescaped tokens.
func splitPointer(p string) []string {
	if p == "" {
		return nil
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks
}

// errPatch is a JSON patch that does not apply to the object: 422.
func errPatch(i int, op jsonPatchOp, msg string) error {
	return &meta.StatusError{Reason: meta.ReasonInvalid,
		Message: fmt.Sprintf("the JSON patch does not apply: operation %d (%s %s): %s", i, op.Op, *op.Path, msg)}
}

// applyJSONPatch applies ops to the JSON document doc, all or nothing.
func applyJSONPatch(doc []byte, ops []jsonPatchOp) ([]byte, error) {
	root, err := decodeValue(doc)
	if err != nil {
		return nil, meta.NewInternalError(err)
	}
	for i, op := range ops {
		path := splitPointer(*op.Path)
		var err error
		switch op.Op {
		case "add":
			root, err = pointerAdd(root, path, deepCopyJSON(op.value))
		case "remove":
			root, _, err = pointerRemove(root, path)
		case "replace":
			if _, err = pointerGet(root, path); err == nil {
				root, _, err = pointerRemove(root, path)
				if err == nil {
					root, err = pointerAdd(root, path, deepCopyJSON(op.value))
				}
			}
		case "move":
			from := splitPointer(*op.From)
			if isPrefix(from, path) && len(from) < len(path) {
				return nil, errPatch(i, op, "cannot move a value into one of its children")
			}
			var v any
			if root, v, err = pointerRemove(root, from); err == nil {
				root, err = pointerAdd(root, path, v)
			}
		case "copy":
			var v any
			if v, err = pointerGet(root, splitPointer(*op.From)); err == nil {
				root, err = pointerAdd(root, path, deepCopyJSON(v))
			}
		case "test":
			var v any
			if v, err = pointerGet(root, path); err == nil && !jsonEqual(v, op.value) {
				err = fmt.Errorf("the value is %s, not %s", mustJSON(v), mustJSON(op.value))
			}
		}
		if err != nil {
			return nil, errPatch(i, op, err.Error())
		}
	}
	return json.Marshal(root)
}

func isPrefix(a, b []string) bool {
	if len(a) > len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// jsonEqual compares two decoded JSON values, numbers by value.
func jsonEqual(a, b any) bool {
	if an, ok := a.(json.Number); ok {
		bn, ok := b.(json.Number)
		if !ok {
			return false
		}
		if an == bn {
			return true
		}
		af, err1 := an.Float64()
		bf, err2 := bn.Float64()
		return err1 == nil && err2 == nil && af == bf
	}
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for k, x := range av {
			y, ok := bv[k]
			if !ok || !jsonEqual(x, y) {
				return false
			}
		}
		return true
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if !jsonEqual(av[i], bv[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func deepCopyJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopyJSON(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopyJSON(e)
		}
		return s
	}
	return v
}

// arrayIndex parses an array index token; "-" (past the end) only when
// allowEnd.
func arrayIndex(tok string, n int, allowEnd bool) (int, error) {
	if tok == "-" && allowEnd {
		return n, nil
	}
	if tok == "" || (len(tok) > 1 && tok[0] == '0') {
		return 0, fmt.Errorf("invalid array index %q", tok)
	}
	i, err := strconv.Atoi(tok)
	if err != nil || i < 0 {
		return 0, fmt.Errorf("invalid array index %q", tok)
	}
	max := n - 1
	if allowEnd {
		max = n
	}
	if i > max {
		return 0, fmt.Errorf("array index %d out of bounds (length %d)", i, n)
	}
	return i, nil
}

func pointerGet(root any, path []string) (any, error) {
	cur := root
	for _, tok := range path {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("no member %q", tok)
			}
			cur = v
		case []any:
			i, err := arrayIndex(tok, len(c), false)
			if err != nil {
				return nil, err
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("cannot descend into a %s with %q", kindOf(cur), tok)
		}
	}
	return cur, nil
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	}
	return "value"
}

// pointerAdd adds v at path and returns the new root.
func pointerAdd(root any, path []string, v any) (any, error) {
	if len(path) == 0 {
		return v, nil
	}
	parent, err := pointerGet(root, path[:len(path)-1])
	if err != nil {
		return nil, err
	}
	last := path[len(path)-1]
	switch p := parent.(type) {
	case map[string]any:
		p[last] = v
		return root, nil
	case []any:
		i, err := arrayIndex(last, len(p), true)
		if err != nil {
			return nil, err
		}
		n := append(p[:i:i], append([]any{v}, p[i:]...)...)
		return replaceAt(root, path[:len(path)-1], n)
	}
	return nil, fmt.Errorf("cannot add to a %s", kindOf(parent))
}

// pointerRemove removes the value at path and returns the new root and
// the value.
func pointerRemove(root any, path []string) (any, any, error) {
	if len(path) == 0 {
		return nil, nil, fmt.Errorf("cannot remove the whole document")
	}
	parent, err := pointerGet(root, path[:len(path)-1])
	if err != nil {
		return nil, nil, err
	}
	last := path[len(path)-1]
	switch p := parent.(type) {
	case map[string]any:
		v, ok := p[last]
		if !ok {
			return nil, nil, fmt.Errorf("no member %q", last)
		}
		delete(p, last)
		return root, v, nil
	case []any:
		i, err := arrayIndex(last, len(p), false)
		if err != nil {
			return nil, nil, err
		}
		v := p[i]
		n := append(append([]any{}, p[:i]...), p[i+1:]...)
		root, err = replaceAt(root, path[:len(path)-1], n)
		return root, v, err
	}
	return nil, nil, fmt.Errorf("cannot remove from a %s", kindOf(parent))
}

// replaceAt puts v at path (which exists) and returns the new root.
func replaceAt(root any, path []string, v any) (any, error) {
	if len(path) == 0 {
		return v, nil
	}
	parent, err := pointerGet(root, path[:len(path)-1])
	if err != nil {
		return nil, err
	}
	last := path[len(path)-1]
	switch p := parent.(type) {
	case map[string]any:
		p[last] = v
	case []any:
		i, err := arrayIndex(last, len(p), false)
		if err != nil {
			return nil, err
		}
		p[i] = v
	}
	return root, nil
}
