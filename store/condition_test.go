package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/governor-io/governor/store"
)

func TestSetStatusConditionKeepsTransitionTimeUnlessStatusChanges(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	var conds []store.Condition
	if !store.SetStatusCondition(&conds, store.Condition{Type: "Ready", Status: store.ConditionFalse, Reason: "Starting", ObservedGeneration: 1}, t0) {
		t.Fatal("adding a condition reported no change")
	}
	if got := conds[0].LastTransitionTime.Time; !got.Equal(t0.Truncate(time.Second)) {
		t.Errorf("lastTransitionTime = %v, want %v", got, t0.Truncate(time.Second))
	}

	// Same status, new reason and generation: the transition time stays.
	t1 := t0.Add(time.Minute)
	if !store.SetStatusCondition(&conds, store.Condition{Type: "Ready", Status: store.ConditionFalse, Reason: "Waiting", ObservedGeneration: 2}, t1) {
		t.Fatal("changing the reason reported no change")
	}
	if c := conds[0]; !c.LastTransitionTime.Equal(t0.Truncate(time.Second)) || c.Reason != "Waiting" || c.ObservedGeneration != 2 {
		t.Errorf("condition = %+v, want reason Waiting, generation 2, transition time kept", c)
	}
	// Nothing new: no change, so nothing to write.
	if store.SetStatusCondition(&conds, store.Condition{Type: "Ready", Status: store.ConditionFalse, Reason: "Waiting", ObservedGeneration: 2}, t1.Add(time.Minute)) {
		t.Error("setting an equal condition reported a change")
	}

	// A new status moves the transition time.
	t2 := t1.Add(time.Hour)
	if !store.SetStatusCondition(&conds, store.Condition{Type: "Ready", Status: store.ConditionTrue, Reason: "Running", ObservedGeneration: 2}, t2) {
		t.Fatal("changing the status reported no change")
	}
	if c := conds[0]; !c.LastTransitionTime.Equal(t2.Truncate(time.Second)) {
		t.Errorf("lastTransitionTime = %v, want %v", c.LastTransitionTime, t2)
	}
	// An explicit transition time wins over now.
	explicit := store.NewTime(t0)
	store.SetStatusCondition(&conds, store.Condition{Type: "Ready", Status: store.ConditionFalse, LastTransitionTime: explicit}, t2)
	if !conds[0].LastTransitionTime.Equal(explicit.Time) {
		t.Errorf("lastTransitionTime = %v, want the explicit %v", conds[0].LastTransitionTime, explicit)
	}
	if len(conds) != 1 {
		t.Errorf("conditions = %+v, want one", conds)
	}
}

func TestStatusConditionQueries(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var conds []store.Condition
	store.SetStatusCondition(&conds, store.Condition{Type: "Ready", Status: store.ConditionTrue, ObservedGeneration: 3}, now)
	store.SetStatusCondition(&conds, store.Condition{Type: "Degraded", Status: store.ConditionFalse, ObservedGeneration: 2}, now)
	store.SetStatusCondition(&conds, store.Condition{Type: "Progressing", Status: store.ConditionUnknown}, now)

	for _, tc := range []struct {
		name string
		got  bool
		want bool
	}{
		{"Ready true", store.IsStatusConditionTrue(conds, "Ready"), true},
		{"Ready false", store.IsStatusConditionFalse(conds, "Ready"), false},
		{"Degraded false", store.IsStatusConditionFalse(conds, "Degraded"), true},
		{"Progressing true", store.IsStatusConditionTrue(conds, "Progressing"), false},
		{"Progressing false", store.IsStatusConditionFalse(conds, "Progressing"), false},
		{"Progressing unknown", store.IsStatusConditionPresentAndEqual(conds, "Progressing", store.ConditionUnknown), true},
		{"missing true", store.IsStatusConditionTrue(conds, "Missing"), false},
		{"missing false", store.IsStatusConditionFalse(conds, "Missing"), false},
		{"Ready current at 3", store.IsStatusConditionCurrent(conds, "Ready", 3), true},
		{"Ready current at 4", store.IsStatusConditionCurrent(conds, "Ready", 4), false},
		{"Degraded current at 3", store.IsStatusConditionCurrent(conds, "Degraded", 3), false},
		{"missing current", store.IsStatusConditionCurrent(conds, "Missing", 0), false},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if c := store.FindStatusCondition(conds, "Degraded"); c == nil || c.ObservedGeneration != 2 {
		t.Errorf("FindStatusCondition(Degraded) = %+v", c)
	}
	if store.FindStatusCondition(conds, "Missing") != nil {
		t.Error("found a missing condition")
	}
	if store.RemoveStatusCondition(&conds, "Missing") {
		t.Error("removing a missing condition reported a change")
	}
	if !store.RemoveStatusCondition(&conds, "Degraded") || len(conds) != 2 || store.FindStatusCondition(conds, "Degraded") != nil {
		t.Errorf("after removing Degraded: %+v", conds)
	}
}

func TestStatusConditionsDoNotWriteSharedArrays(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cached := make([]store.Condition, 2, 4)
	cached[0] = store.Condition{Type: "A", Status: store.ConditionTrue}
	cached[1] = store.Condition{Type: "B", Status: store.ConditionTrue}
	shallow := cached
	store.SetStatusCondition(&shallow, store.Condition{Type: "A", Status: store.ConditionFalse}, now)
	store.SetStatusCondition(&shallow, store.Condition{Type: "C", Status: store.ConditionFalse}, now)
	store.RemoveStatusCondition(&shallow, "B")
	full := cached[:cap(cached)]
	if full[0].Status != store.ConditionTrue || full[1].Type != "B" || full[2].Type != "" {
		t.Errorf("the original's array was written: %+v", full)
	}
	if len(shallow) != 2 || shallow[0].Status != store.ConditionFalse || shallow[1].Type != "C" {
		t.Errorf("conditions = %+v, want A False and C", shallow)
	}
}

func TestConditionJSONMatchesKubernetes(t *testing.T) {
	c := store.Condition{Type: "Ready", Status: store.ConditionTrue, ObservedGeneration: 7,
		LastTransitionTime: store.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), Reason: "Running", Message: "all good"}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"Ready","status":"True","observedGeneration":7,"lastTransitionTime":"2026-01-02T03:04:05Z","reason":"Running","message":"all good"}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
	var back store.Condition
	if err := json.Unmarshal(b, &back); err != nil || back != c {
		t.Errorf("round trip = %+v, %v; want %+v", back, err, c)
	}
	// Kubernetes writes reason and message even when empty.
	b, _ = json.Marshal(store.Condition{Type: "Ready", Status: store.ConditionUnknown})
	if want := `{"type":"Ready","status":"Unknown","lastTransitionTime":null,"reason":"","message":""}`; string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
}

func TestDurationJSON(t *testing.T) {
	type spec struct {
		Every store.Duration `json:"every"`
	}
	b, err := json.Marshal(spec{Every: store.Duration{Duration: 90 * time.Second}})
	if err != nil || string(b) != `{"every":"1m30s"}` {
		t.Errorf("Marshal = %s, %v; want {\"every\":\"1m30s\"}", b, err)
	}
	for in, want := range map[string]time.Duration{`"1m30s"`: 90 * time.Second, `"250ms"`: 250 * time.Millisecond, `"0s"`: 0, `"-1h"`: -time.Hour} {
		var d store.Duration
		if err := json.Unmarshal([]byte(in), &d); err != nil || d.Duration != want {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", in, d.Duration, err, want)
		}
	}
	keep := store.Duration{Duration: time.Second}
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
