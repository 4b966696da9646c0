package schema_test

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/governor-io/governor/examples/cluster/apiserver/schema"
)

// Example prunes, defaults and validates a custom object as the API
// server does on create.
func Example() {
	var props schema.Props
	_ = json.Unmarshal([]byte(`{"type":"object","properties":{"spec":{"type":"object","required":["image"],"properties":{
		"image":{"type":"string","minLength":1},
		"replicas":{"type":"integer","minimum":0,"default":1}}}}}`), &props)
	s, err := schema.New(&props)
	if err != nil {
		fmt.Println(err)
		return
	}
	dec := json.NewDecoder(strings.NewReader(`{"apiVersion":"example.com/v1","kind":"App","metadata":{"name":"web"},
		"spec":{"image":"","colour":"blue"}}`))
	dec.UseNumber()
	var obj map[string]any
	_ = dec.Decode(&obj)

	fmt.Println("pruned:", s.Prune(obj))
	s.Default(obj)
	spec, _ := json.Marshal(obj["spec"])
	fmt.Println("spec:", string(spec))
	for _, c := range s.Validate(obj) {
		fmt.Printf("%s: %s\n", c.Field, c.Message)
	}
	// Output:
	// pruned: [spec.colour]
	// spec: {"image":"","replicas":1}
	// spec.image: Invalid value: "": spec.image in body should be at least 1 chars long
}
