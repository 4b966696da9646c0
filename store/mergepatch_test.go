package store_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
)

// The test cases of RFC 7386, Appendix A, and a few more.
func TestMergePatchRFC7386(t *testing.T) {
	tests := []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
		{``, `{"a":1}`, `{"a":1}`},
		{`{"n":1}`, `{"m":12345678901234567890}`, `{"m":12345678901234567890,"n":1}`},
	}
	for _, tt := range tests {
		got, err := store.MergePatch([]byte(tt.target), []byte(tt.patch))
		if err != nil {
			t.Errorf("MergePatch(%s, %s): %v", tt.target, tt.patch, err)
			continue
		}
		if !jsonEqual(t, got, []byte(tt.want)) {
			t.Errorf("MergePatch(%s, %s) = %s, want %s", tt.target, tt.patch, got, tt.want)
		}
	}
}

func TestMergePatchRejectsBadJSON(t *testing.T) {
	for _, tt := range []struct{ target, patch string }{{`{}`, `{`}, {`{}`, `{} {}`}, {`{`, `{}`}, {`{}`, ``}} {
		if _, err := store.MergePatch([]byte(tt.target), []byte(tt.patch)); !errors.Is(err, meta.ErrBadRequest) {
			t.Errorf("MergePatch(%q, %q) = %v, want BadRequest", tt.target, tt.patch, err)
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("bad JSON %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("bad JSON %s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

func FuzzMergePatch(f *testing.F) {
	f.Add([]byte(`{"a":{"b":1}}`), []byte(`{"a":{"b":null,"c":[1]}}`))
	f.Add([]byte(`[]`), []byte(`"x"`))
	f.Fuzz(func(t *testing.T, target, patch []byte) {
		out, err := store.MergePatch(target, patch)
		if err != nil {
			if !errors.Is(err, meta.ErrBadRequest) {
				t.Fatalf("error %v is not BadRequest", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("result %q is not JSON", out)
		}
		// Applying a patch twice changes nothing more (RFC 7386 patches
		// are idempotent).
		again, err := store.MergePatch(out, patch)
		if err != nil || string(again) != string(out) {
			t.Fatalf("patch not idempotent: %s then %s (%v)", out, again, err)
		}
	})
}
