package meta_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/governor-io/governor/store/meta"
)

// A controller records what it observed as conditions. The transition
// time moves only when a condition's status changes, and the change report
// tells the controller whether a status write is needed.
func ExampleSetStatusCondition() {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var conds []meta.Condition

	meta.SetStatusCondition(&conds, meta.Condition{Type: "Ready", Status: meta.ConditionFalse,
		Reason: "Starting", ObservedGeneration: 1}, now)
	changed := meta.SetStatusCondition(&conds, meta.Condition{Type: "Ready", Status: meta.ConditionFalse,
		Reason: "Starting", ObservedGeneration: 1}, now.Add(time.Minute))
	fmt.Println("write needed:", changed)

	meta.SetStatusCondition(&conds, meta.Condition{Type: "Ready", Status: meta.ConditionTrue,
		Reason: "Running", ObservedGeneration: 2}, now.Add(time.Hour))
	fmt.Println("ready:", meta.IsStatusConditionTrue(conds, "Ready"),
		"current for generation 2:", meta.IsStatusConditionCurrent(conds, "Ready", 2))
	b, _ := json.Marshal(conds)
	fmt.Println(string(b))
	// Output:
	// write needed: false
	// ready: true current for generation 2: true
	// [{"type":"Ready","status":"True","observedGeneration":2,"lastTransitionTime":"2026-01-02T04:04:05Z","reason":"Running","message":""}]
}

// Duration fields in specs read and write as Kubernetes' do.
func ExampleDuration() {
	var spec struct {
		Schedule meta.Duration `json:"schedule"`
	}
	_ = json.Unmarshal([]byte(`{"schedule":"1h30m"}`), &spec)
	fmt.Println(spec.Schedule.Minutes())
	b, _ := json.Marshal(spec)
	fmt.Println(string(b))
	// Output:
	// 90
	// {"schedule":"1h30m0s"}
}
