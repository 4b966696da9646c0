package unstructured_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/governor-io/governor/examples/cluster/api/unstructured"
)

// FuzzObject decodes arbitrary bytes: an error or an Object whose JSON
// decodes again to the same JSON, never a panic.
func FuzzObject(f *testing.F) {
	f.Add([]byte(doc))
	f.Add([]byte(`{"metadata":null,"status":1.5e300,"spec":[{}]}`))
	f.Add([]byte(`{"kind":3}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, o := range []*unstructured.Object{unstructured.New(), unstructured.NewWithStatus()} {
			if err := json.Unmarshal(data, o); err != nil {
				continue
			}
			out, err := json.Marshal(o)
			if err != nil {
				t.Fatalf("marshal of a decoded object: %v", err)
			}
			again := o.DeepCopy()
			if err := json.Unmarshal(out, again); err != nil {
				t.Fatalf("re-decode %s: %v", out, err)
			}
			out2, _ := json.Marshal(again)
			if !bytes.Equal(out, out2) {
				t.Fatalf("not stable:\n%s\n%s", out, out2)
			}
		}
	})
}
