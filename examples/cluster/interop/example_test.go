package interop_test

import (
	"fmt"

	"github.com/governor-io/governor/examples/cluster/interop"
)

// Diff lists what a decode-and-encode trip through another type lost or
// changed; null counts as absent.
func ExampleDiff() {
	want := []byte(`{"metadata":{"name":"web","selfLink":"/x"},"spec":{"replicas":3,"paused":null}}`)
	got := []byte(`{"metadata":{"name":"web"},"spec":{"replicas":2}}`)
	diffs, _ := interop.Diff(want, got)
	for _, d := range diffs {
		fmt.Println(d)
	}
	// Output:
	// metadata.selfLink: dropped
	// spec.replicas: want 3, got 2
}
