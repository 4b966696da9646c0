package autoscalingv1_test

import (
	"encoding/json"
	"fmt"

	"github.com/governor-io/governor/examples/cluster/api/autoscalingv1"
	"github.com/governor-io/governor/store/meta"
)

// The body kubectl scale reads from deployments/NAME/scale.
func ExampleScale() {
	s := autoscalingv1.Scale{
		TypeMeta:   meta.TypeMeta{Kind: "Scale", APIVersion: autoscalingv1.APIVersion},
		ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:       autoscalingv1.ScaleSpec{Replicas: 3},
		Status:     autoscalingv1.ScaleStatus{Replicas: 2, Selector: "app=web"},
	}
	b, _ := json.Marshal(s)
	fmt.Println(string(b))
	// Output:
	// {"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"web","namespace":"default"},"spec":{"replicas":3},"status":{"replicas":2,"selector":"app=web"}}
}
