package schedulingv1_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/api/schedulingv1"
	"github.com/governor-io/governor/store/meta"
)

func ExamplePriorityClasses() {
	pc := &schedulingv1.PriorityClass{ObjectMeta: meta.ObjectMeta{Name: "high"}, Value: 1000}
	schedulingv1.PriorityClasses.Default(pc)
	c := schedulingv1.PriorityClasses.Cells(pc, time.Now())
	fmt.Println(c[0], c[1], c[2], c[4])
	// Output: high 1000 false PreemptLowerPriority
}

func TestPriorityClassValidation(t *testing.T) {
	pc := &schedulingv1.PriorityClass{ObjectMeta: meta.ObjectMeta{Name: "huge"}, Value: 2_000_000_000}
	if c := schedulingv1.PriorityClasses.Validate(pc); len(c) != 1 || c[0].Field != "value" {
		t.Fatalf("causes %v", c)
	}
	pc.Name = "system-node-critical"
	if c := schedulingv1.PriorityClasses.Validate(pc); len(c) != 0 {
		t.Fatalf("system class: %v", c)
	}
	changed := meta.DeepCopy(pc)
	changed.Value = 5
	if c := schedulingv1.PriorityClasses.ValidateUpdate(pc, changed); len(c) != 1 {
		t.Fatalf("value change: %v", c)
	}
}
