package meta_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/governor-io/governor/store/meta"
)

func TestDeepCopy(t *testing.T) {
	yes := true
	dt := meta.NewTime(epoch)
	w := &Widget{ObjectMeta: meta.ObjectMeta{Name: "a", Labels: map[string]string{"a": "b"}, DeletionTimestamp: &dt,
		OwnerReferences: []meta.OwnerReference{{Name: "o", Controller: &yes}}, Finalizers: []string{"f"}},
		Spec: WidgetSpec{Tags: []string{"x"}}}
	c := meta.DeepCopy(w)
	c.Labels["a"] = "changed"
	c.Spec.Tags[0] = "changed"
	*c.OwnerReferences[0].Controller = false
	c.Finalizers[0] = "changed"
	c.DeletionTimestamp.Time = epoch.Add(time.Hour)
	if w.Labels["a"] != "b" || w.Spec.Tags[0] != "x" || !*w.OwnerReferences[0].Controller || w.Finalizers[0] != "f" || !w.DeletionTimestamp.Equal(epoch) {
		t.Fatal("DeepCopy shares memory with the original")
	}
	if meta.DeepCopy[*Widget](nil) != nil {
		t.Fatal("DeepCopy(nil) != nil")
	}
}

func TestTimeJSON(t *testing.T) {
	var tm meta.Time
	for in, want := range map[string]time.Time{
		`"2026-01-02T03:04:05Z"`:      epoch,
		`"2026-01-02T05:04:05+02:00"`: epoch,
		`"\u0032026-01-02T03:04:05Z"`: epoch,
		`null`:                        {},
		`""`:                          {},
	} {
		if err := json.Unmarshal([]byte(in), &tm); err != nil || !tm.Equal(want) {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", in, tm, err, want)
		}
	}
	for _, bad := range []string{`"yesterday"`, `12`, `"2026-01-02"`} {
		if err := json.Unmarshal([]byte(bad), &tm); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
	out, _ := json.Marshal(meta.NewTime(epoch.Add(1500 * time.Millisecond).In(time.FixedZone("x", 3600))))
	if string(out) != `"2026-01-02T03:04:06Z"` {
		t.Errorf("Marshal = %s", out)
	}
	mt := meta.NewMicroTime(epoch.Add(1234567 * time.Nanosecond))
	out, _ = json.Marshal(mt)
	if string(out) != `"2026-01-02T03:04:05.001234Z"` {
		t.Errorf("MicroTime Marshal = %s", out)
	}
	var back meta.MicroTime
	if err := json.Unmarshal(out, &back); err != nil || !back.Equal(mt.Time) {
		t.Errorf("MicroTime round trip: %v %v", back, err)
	}
}
