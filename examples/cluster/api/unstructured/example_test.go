package unstructured_test

import (
	"encoding/json"
	"fmt"

	"github.com/governor-io/governor/examples/cluster/api/unstructured"
)

func Example() {
	o := unstructured.New()
	_ = json.Unmarshal([]byte(`{"apiVersion":"example.com/v1","kind":"App","metadata":{"name":"web"},"spec":{"replicas":3}}`), o)
	replicas, _ := unstructured.Lookup(o.Fields(), "spec", "replicas")
	fmt.Println(o.Kind, o.Name, replicas)
	// Output: App web 3
}
