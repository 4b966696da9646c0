package schema_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/governor-io/governor/examples/cluster/apiserver/schema"
)

// FuzzSchema runs prune, default and validate on arbitrary schemas and
// objects: errors or causes, never a panic.
func FuzzSchema(f *testing.F) {
	f.Add([]byte(`{"type":"object","properties":{"spec":{"type":"object","required":["a"],"properties":{"a":{"type":"integer","minimum":1,"multipleOf":0.5,"default":2},"s":{"type":"string","pattern":"^x","format":"date-time","enum":["x"]},"l":{"type":"array","uniqueItems":true,"items":{"x-kubernetes-int-or-string":true}}}}}}`),
		[]byte(`{"spec":{"a":1e400,"s":"y","l":[1,1,"a",{}],"z":null}}`))
	f.Add([]byte(`{"type":"object","x-kubernetes-preserve-unknown-fields":true,"additionalProperties":{"type":"object","x-kubernetes-embedded-resource":true},"anyOf":[{"required":["q"]}],"not":{"maxProperties":0}}`),
		[]byte(`{"m":{"kind":1},"metadata":[]}`))
	f.Fuzz(func(t *testing.T, props, obj []byte) {
		p := new(schema.Props)
		if json.Unmarshal(props, p) != nil {
			return
		}
		s, err := schema.New(p)
		if err != nil {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(obj))
		dec.UseNumber()
		var m map[string]any
		if dec.Decode(&m) != nil || m == nil {
			return
		}
		s.Prune(m)
		s.Default(m)
		_ = s.Validate(m)
	})
}
