// Package eventsv1 holds the events.k8s.io/v1 Event, the newer form of
// core/v1 Event that client-go's event recorder writes, and its
// [api.Type], [Events].
//
// Kubernetes keeps both event APIs in one storage and converts between
// them; here each API has its own (store resources "events" and
// "events.events.k8s.io"), so an event written through one is not listed
// through the other.
package eventsv1

import (
	"time"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/examples/cluster/api/corev1"
	"github.com/governor-io/governor/store/meta"
)

// Event reports something that happened to an object: events.k8s.io/v1
// Event.
type Event struct {
	meta.TypeMeta
	meta.ObjectMeta          `json:"metadata"`
	EventTime                meta.MicroTime          `json:"eventTime"`
	Series                   *EventSeries            `json:"series,omitempty"`
	ReportingController      string                  `json:"reportingController,omitempty"`
	ReportingInstance        string                  `json:"reportingInstance,omitempty"`
	Action                   string                  `json:"action,omitempty"`
	Reason                   string                  `json:"reason,omitempty"`
	Regarding                corev1.ObjectReference  `json:"regarding,omitempty"`
	Related                  *corev1.ObjectReference `json:"related,omitempty"`
	Note                     string                  `json:"note,omitempty"`
	Type                     string                  `json:"type,omitempty"`
	DeprecatedSource         corev1.EventSource      `json:"deprecatedSource,omitempty"`
	DeprecatedFirstTimestamp meta.Time               `json:"deprecatedFirstTimestamp,omitempty"`
	DeprecatedLastTimestamp  meta.Time               `json:"deprecatedLastTimestamp,omitempty"`
	DeprecatedCount          int32                   `json:"deprecatedCount,omitempty"`
}

// EventSeries counts repeats of an event.
type EventSeries struct {
	Count            int32          `json:"count"`
	LastObservedTime meta.MicroTime `json:"lastObservedTime"`
}

// Events describes the events.k8s.io/v1 events resource.
var Events = api.Type[*Event]{
	Group: "events.k8s.io", Version: "v1", Kind: "Event", Resource: "events", Singular: "event", Namespaced: true,
	ShortNames: []string{"ev"},
	Fields: map[string]func(*Event) string{
		"regarding.kind":            func(e *Event) string { return e.Regarding.Kind },
		"regarding.namespace":       func(e *Event) string { return e.Regarding.Namespace },
		"regarding.name":            func(e *Event) string { return e.Regarding.Name },
		"regarding.uid":             func(e *Event) string { return e.Regarding.UID },
		"regarding.apiVersion":      func(e *Event) string { return e.Regarding.APIVersion },
		"regarding.resourceVersion": func(e *Event) string { return e.Regarding.ResourceVersion },
		"regarding.fieldPath":       func(e *Event) string { return e.Regarding.FieldPath },
		"reason":                    func(e *Event) string { return e.Reason },
		"reportingController":       func(e *Event) string { return e.ReportingController },
		"type":                      func(e *Event) string { return e.Type },
	},
	Columns: corev1.EventColumns,
	Cells: func(e *Event, now time.Time) []any {
		first := e.DeprecatedFirstTimestamp.Time
		if first.IsZero() {
			first = e.EventTime.Time
		}
		last, count := e.DeprecatedLastTimestamp.Time, e.DeprecatedCount
		if e.Series != nil {
			last, count = e.Series.LastObservedTime.Time, e.Series.Count
		} else if count == 0 {
			count = 1
		}
		source := e.ReportingController
		if source == "" {
			source = e.DeprecatedSource.Component
		}
		return corev1.EventCells(e.Name, e.Type, e.Reason, e.Note, e.Regarding, source, first, last, count, now)
	},
	Validate: func(e *Event) []meta.Cause {
		causes := api.ValidateObjectMeta(&e.ObjectMeta, true, api.DNS1123Subdomain)
		if e.EventTime.IsZero() {
			causes = append(causes, api.Required("eventTime", ""))
		}
		if e.Type != "Normal" && e.Type != "Warning" {
			causes = append(causes, api.NotSupported("type", e.Type, "Normal", "Warning"))
		}
		if e.ReportingController == "" {
			causes = append(causes, api.Required("reportingController", ""))
		}
		if e.ReportingInstance == "" {
			causes = append(causes, api.Required("reportingInstance", ""))
		}
		if e.Action == "" {
			causes = append(causes, api.Required("action", ""))
		}
		if e.Reason == "" {
			causes = append(causes, api.Required("reason", ""))
		}
		if len(e.Note) > 1024 {
			causes = append(causes, meta.Cause{Type: meta.CauseTypeFieldValueTooLong, Field: "note",
				Message: "Too long: may not be more than 1024 bytes"})
		}
		return causes
	},
	New: func() *Event { return new(Event) },
}
