package eventsv1_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/api/corev1"
	"github.com/governor-io/governor/examples/cluster/api/eventsv1"
	"github.com/governor-io/governor/store/meta"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func event() *eventsv1.Event {
	return &eventsv1.Event{ObjectMeta: meta.ObjectMeta{Name: "web.17", Namespace: "default"},
		EventTime: meta.NewMicroTime(now.Add(-2 * time.Minute)), Type: "Normal", Reason: "Scheduled", Action: "Binding",
		Note: "Successfully assigned default/web to node-1", ReportingController: "default-scheduler", ReportingInstance: "sched-1",
		Regarding: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web"}}
}

func ExampleEvents() {
	cells := eventsv1.Events.Cells(event(), now)
	fmt.Println(cells[:4]...)
	// Output: 2m Normal Scheduled pod/web
}

func TestEventValidation(t *testing.T) {
	if c := eventsv1.Events.Validate(event()); len(c) != 0 {
		t.Fatalf("valid event: %v", c)
	}
	e := event()
	e.EventTime = meta.MicroTime{}
	e.Type = "Odd"
	c := eventsv1.Events.Validate(e)
	if len(c) != 2 || c[0].Field != "eventTime" || c[1].Field != "type" {
		t.Fatalf("causes %v", c)
	}
	if got := eventsv1.Events.Fields["regarding.name"](event()); got != "web" {
		t.Fatalf("regarding.name = %q", got)
	}
}
