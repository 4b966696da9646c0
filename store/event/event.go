// Package event records Kubernetes-shaped core/v1 Events about objects in
// a [store.Store], aggregating repeats as client-go does: an event equal
// to one recorded before (same source, object, type, reason and message)
// raises that event's count and lastTimestamp instead of making a new one,
// and many events about one object that differ only in their messages are
// combined into one.
//
// Make a Store of events with [Resource] and a [Recorder] over it, and
// record from a reconcile with the reconcile's context:
//
//	events := store.New(engine, event.Resource)
//	rec := event.NewRecorder(events, event.Options{Component: "backup-controller"})
//	_, _ = rec.Event(ctx, backup, event.TypeWarning, "BackupFailed", err.Error())
package event

import (
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
)

// The types of an [Event].
const (
	// TypeNormal is for information about things going as expected.
	TypeNormal = "Normal"
	// TypeWarning is for something that may need a look.
	TypeWarning = "Warning"
)

// Event is core/v1's Event: a report of something that happened to an
// object, with Kubernetes' JSON.
type Event struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	// InvolvedObject is the object the event is about.
	InvolvedObject ObjectReference `json:"involvedObject"`
	// Reason is a short CamelCase word for what happened.
	Reason string `json:"reason,omitempty"`
	// Message is a human-readable description.
	Message string `json:"message,omitempty"`
	// Source is the component (and host) that reported it.
	Source Source `json:"source,omitzero"`
	// FirstTimestamp is when the event was first recorded.
	FirstTimestamp meta.Time `json:"firstTimestamp,omitzero"`
	// LastTimestamp is when it was most recently recorded.
	LastTimestamp meta.Time `json:"lastTimestamp,omitzero"`
	// Count is how many times it was recorded.
	Count int32 `json:"count,omitempty"`
	// Type is [TypeNormal] or [TypeWarning].
	Type string `json:"type,omitempty"`
	// EventTime is when the event was first recorded, with microseconds.
	EventTime meta.MicroTime `json:"eventTime,omitzero"`
	// ReportingController is the component that reported it (Source's
	// component).
	ReportingController string `json:"reportingComponent"`
	// ReportingInstance identifies the reporting instance (Source's host).
	ReportingInstance string `json:"reportingInstance"`
}

// ObjectReference is core/v1's ObjectReference: enough to find an object.
type ObjectReference struct {
	Kind            string `json:"kind,omitempty"`
	Namespace       string `json:"namespace,omitempty"`
	Name            string `json:"name,omitempty"`
	UID             string `json:"uid,omitempty"`
	APIVersion      string `json:"apiVersion,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
	FieldPath       string `json:"fieldPath,omitempty"`
}

// Source is core/v1's EventSource.
type Source struct {
	Component string `json:"component,omitempty"`
	Host      string `json:"host,omitempty"`
}

// Resource describes core/v1 events to a [store.Store]. Its Validate
// refuses a type other than [TypeNormal] and [TypeWarning] and an event
// with no involved object or reason.
var Resource = store.Resource[*Event]{
	Name: "events", Kind: "Event", APIVersion: "v1", Namespaced: true,
	Validate: func(e *Event) []meta.Cause {
		var causes []meta.Cause
		if e.Type != TypeNormal && e.Type != TypeWarning {
			causes = append(causes, meta.Cause{Field: "type", Type: meta.CauseTypeFieldValueNotSupported,
				Message: `must be "Normal" or "Warning"`})
		}
		if e.InvolvedObject.Name == "" {
			causes = append(causes, meta.Cause{Field: "involvedObject.name", Type: meta.CauseTypeFieldValueRequired,
				Message: "must name the object the event is about"})
		}
		if e.Reason == "" {
			causes = append(causes, meta.Cause{Field: "reason", Type: meta.CauseTypeFieldValueRequired,
				Message: "must be set"})
		}
		return causes
	},
	Fields: map[string]func(*Event) string{
		"involvedObject.kind":      func(e *Event) string { return e.InvolvedObject.Kind },
		"involvedObject.name":      func(e *Event) string { return e.InvolvedObject.Name },
		"involvedObject.namespace": func(e *Event) string { return e.InvolvedObject.Namespace },
		"involvedObject.uid":       func(e *Event) string { return e.InvolvedObject.UID },
		"reason":                   func(e *Event) string { return e.Reason },
		"type":                     func(e *Event) string { return e.Type },
	},
}

// ReferenceTo returns a reference to obj, with the kind and apiVersion it
// carries (a [store.Store] sets them from its Resource).
func ReferenceTo(obj meta.Object) ObjectReference {
	tm, m := obj.GetTypeMeta(), obj.GetObjectMeta()
	return ObjectReference{Kind: tm.Kind, APIVersion: tm.APIVersion, Namespace: m.Namespace, Name: m.Name,
		UID: m.UID, ResourceVersion: m.ResourceVersion}
}
