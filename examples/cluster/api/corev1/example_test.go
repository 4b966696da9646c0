package corev1_test

import (
	"fmt"
	"time"

	"github.com/governor-io/governor/examples/cluster/api/corev1"
	"github.com/governor-io/governor/store/meta"
)

// The row kubectl prints for a running pod, and its -o wide columns.
func ExamplePods() {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	pod := &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "default", CreationTimestamp: meta.NewTime(now.Add(-5 * time.Minute))},
		Spec:       corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "nginx", Image: "nginx:1.27"}}},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning,
			PodIP: "10.0.0.7",
			ContainerStatuses: []corev1.ContainerStatus{{Name: "nginx", Ready: true, RestartCount: 0,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}},
		},
	}
	for i, col := range corev1.Pods.Columns {
		fmt.Printf("%s=%v ", col.Name, corev1.Pods.Cells(pod, now)[i])
	}
	fmt.Println()
	// Output:
	// Name=web Ready=1/1 Status=Running Restarts=0 Age=5m IP=10.0.0.7 Node=node-1 Nominated Node=<none> Readiness Gates=<none>
}

// Quantities are kept as written and read on demand.
func ExampleQuantity() {
	cpu, _ := corev1.Quantity("250m").MilliValue()
	mem, _ := corev1.Quantity("1Gi").Value()
	fmt.Println(cpu, mem)
	// Output: 250 1073741824
}
