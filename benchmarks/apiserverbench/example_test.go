package apiserverbench_test

import (
	"fmt"

	"github.com/governor-io/governor/benchmarks/apiserverbench"
)

// The published sizes and the quick mode.
func ExampleConfig_Scale() {
	full := apiserverbench.Full()
	quick := full.Scale(10)
	fmt.Println(full.Clients, full.Pods, full.Watchers, full.RSSPods)
	fmt.Println(quick.Clients, quick.Pods, quick.Watchers, quick.RSSPods)
	// Output:
	// 64 10000 1000 50000
	// 64 1000 100 5000
}
