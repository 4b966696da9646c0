package meta_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/governor-io/governor/store/meta"
)

func TestSetStatusConditionKeepsTransitionTimeUnlessStatusChanges(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	var conds []meta.Condition
	if !meta.SetStatusCondition(&conds, meta.Condition{Type: "Ready", Status: meta.ConditionFalse, Reason: "Starting", ObservedGeneration: 1}, t0) {
		t.Fatal("adding a condition reported no change")
	}
	if got := conds[0].LastTransitionTime.Time; !got.Equal(t0.Truncate(time.Second)) {
		t.Errorf("lastTransitionTime = %v, want %v", got, t0.Truncate(time.Second))
	}

	// Same status, new reason and generation: the transition time stays.
	t1 := t0.Add(time.Minute)
	if !meta.SetStatusCondition(&conds, meta.Condition{Type: "Ready", Status: meta.ConditionFalse, Reason: "Waiting", ObservedGeneration: 2}, t1) {
		t.Fatal("changing the reason reported no change")
	}
	if c := conds[0]; !c.LastTransitionTime.Equal(t0.Truncate(time.Second)) || c.Reason != "Waiting" || c.ObservedGeneration != 2 {
		t.Errorf("condition = %+v, want reason Waiting, generation 2, transition time kept", c)
	}
	// Nothing new: no change, so nothing to write.
	if meta.SetStatusCondition(&conds, meta.Condition{Type: "Ready", Status: meta.ConditionFalse, Reason: "Waiting", ObservedGeneration: 2}, t1.Add(time.Minute)) {
		t.Error("setting an equal condition reported a change")
	}

	// A new status moves the transition time.
	t2 := t1.Add(time.Hour)
	if !meta.SetStatusCondition(&conds, meta.Condition{Type: "Ready", Status: meta.ConditionTrue, Reason: "Running", ObservedGeneration: 2}, t2) {
		t.Fatal("changing the status reported no change")
	}
	if c := conds[0]; !c.LastTransitionTime.Equal(t2.Truncate(time.Second)) {
		t.Errorf("lastTransitionTime = %v, want %v", c.LastTransitionTime, t2)
	}
	// An explicit transition time wins over now.
	explicit := meta.NewTime(t0)
	meta.SetStatusCondition(&conds, meta.Condition{Type: "Ready", Status: meta.ConditionFalse, LastTransitionTime: explicit}, t2)
	if !conds[0].LastTransitionTime.Equal(explicit.Time) {
		t.Errorf("lastTransitionTime = %v, want the explicit %v", conds[0].LastTransitionTime, explicit)
	}
	if len(conds) != 1 {
		t.Errorf("conditions = %+v, want one", conds)
	}
}

func TestStatusConditionQueries(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var conds []meta.Condition
	meta.SetStatusCondition(&conds, meta.Condition{Type: "Ready", Status: meta.ConditionTrue, ObservedGeneration: 3}, now)
	meta.SetStatusCondition(&conds, meta.Condition{Type: "Degraded", Status: meta.ConditionFalse, ObservedGeneration: 2}, now)
	meta.SetStatusCondition(&conds, meta.Condition{Type: "Progressing", Status: meta.ConditionUnknown}, now)

	for _, tc := range []struct {
		name string
		got  bool
		want bool
	}{
		{"Ready true", meta.IsStatusConditionTrue(conds, "Ready"), true},
		{"Ready false", meta.IsStatusConditionFalse(conds, "Ready"), false},
		{"Degraded false", meta.IsStatusConditionFalse(conds, "Degraded"), true},
		{"Progressing true", meta.IsStatusConditionTrue(conds, "Progressing"), false},
		{"Progressing false", meta.IsStatusConditionFalse(conds, "Progressing"), false},
		{"Progressing unknown", meta.IsStatusConditionPresentAndEqual(conds, "Progressing", meta.ConditionUnknown), true},
		{"missing true", meta.IsStatusConditionTrue(conds, "Missing"), false},
		{"missing false", meta.IsStatusConditionFalse(conds, "Missing"), false},
		{"Ready current at 3", meta.IsStatusConditionCurrent(conds, "Ready", 3), true},
		{"Ready current at 4", meta.IsStatusConditionCurrent(conds, "Ready", 4), false},
		{"Degraded current at 3", meta.IsStatusConditionCurrent(conds, "Degraded", 3), false},
		{"missing current", meta.IsStatusConditionCurrent(conds, "Missing", 0), false},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if c := meta.FindStatusCondition(conds, "Degraded"); c == nil || c.ObservedGeneration != 2 {
		t.Errorf("FindStatusCondition(Degraded) = %+v", c)
	}
	if meta.FindStatusCondition(conds, "Missing") != nil {
		t.Error("found a missing condition")
	}
	if meta.RemoveStatusCondition(&conds, "Missing") {
		t.Error("removing a missing condition reported a change")
	}
	if !meta.RemoveStatusCondition(&conds, "Degraded") || len(conds) != 2 || meta.FindStatusCondition(conds, "Degraded") != nil {
		t.Errorf("after removing Degraded: %+v", conds)
	}
}

func TestStatusConditionsDoNotWriteSharedArrays(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cached := make([]meta.Condition, 2, 4)
	cached[0] = meta.Condition{Type: "A", Status: meta.ConditionTrue}
	cached[1] = meta.Condition{Type: "B", Status: meta.ConditionTrue}
	shallow := cached
	meta.SetStatusCondition(&shallow, meta.Condition{Type: "A", Status: meta.ConditionFalse}, now)
	meta.SetStatusCondition(&shallow, meta.Condition{Type: "C", Status: meta.ConditionFalse}, now)
	meta.RemoveStatusCondition(&shallow, "B")
	full := cached[:cap(cached)]
	if full[0].Status != meta.ConditionTrue || full[1].Type != "B" || full[2].Type != "" {
		t.Errorf("the original's array was written: %+v", full)
	}
	if len(shallow) != 2 || shallow[0].Status != meta.ConditionFalse || shallow[1].Type != "C" {
		t.Errorf("conditions = %+v, want A False and C", shallow)
	}
}

func TestConditionJSONMatchesKubernetes(t *testing.T) {
	c := meta.Condition{Type: "Ready", Status: meta.ConditionTrue, ObservedGeneration: 7,
		LastTransitionTime: meta.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), Reason: "Running", Message: "all good"}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"Ready","status":"True","observedGeneration":7,"lastTransitionTime":"2026-01-02T03:04:05Z","reason":"Running","message":"all good"}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
	var back meta.Condition
	if err := json.Unmarshal(b, &back); err != nil || back != c {
		t.Errorf("round trip = %+v, %v; want %+v", back, err, c)
	}
	// Kubernetes writes reason and message even when empty.
	b, _ = json.Marshal(meta.Condition{Type: "Ready", Status: meta.ConditionUnknown})
	if want := `{"type":"Ready","status":"Unknown","lastTransitionTime":null,"reason":"","message":""}`; string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
}

func TestDurationJSON(t *testing.T) {
	type spec struct {
		Every meta.Duration `json:"every"`
	}
	b, err := json.Marshal(spec{Every: meta.Duration{Duration: 90 * time.Second}})
	if err != nil || string(b) != `{"every":"1m30s"}` {
		t.Errorf("Marshal = %s, %v; want {\"every\":\"1m30s\"}", b, err)
	}
	for in, want := range map[string]time.Duration{`"1m30s"`: 90 * time.Second, `"250ms"`: 250 * time.Millisecond, `"0s"`: 0, `"-1h"`: -time.Hour} {
		var d meta.Duration
		if err := json.Unmarshal([]byte(in), &d); err != nil || d.Duration != want {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", in, d.Duration, err, want)
		}
	}
	keep := meta.Duration{Duration: time.Second}
	if err := json.Unmarshal([]byte(`null`), &keep); err != nil || keep.Duration != time.Second {
		t.Errorf("Unmarshal(null) = %v, %v; want 1s kept", keep.Duration, err)
	}
	for _, bad := range []string{`90`, `"ninety"`, `""`, `{}`} {
		var s spec
		if err := json.Unmarshal([]byte(`{"every":`+bad+`}`), &s); err == nil {
			t.Errorf("Unmarshal(%s) = %v, want an error", bad, s.Every)
		}
	}
}
