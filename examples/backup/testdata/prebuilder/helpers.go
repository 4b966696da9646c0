package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"reflect"
	"slices"
	"time"

	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store"
)

// What an operator had to write itself before issue 12: a Duration for
// its spec, a Condition type and its setter, Kubernetes-shaped Events with
// aggregation of repeats, finalizer and owner helpers, and a status update
// that retries on Conflict.

// Duration is a time.Duration that encodes as "1m30s".
type Duration struct{ time.Duration }

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	var err error
	d.Duration, err = time.ParseDuration(s)
	return err
}

// Condition is metav1.Condition's JSON.
type Condition struct {
	Type               string     `json:"type"`
	Status             string     `json:"status"`
	ObservedGeneration int64      `json:"observedGeneration,omitempty"`
	LastTransitionTime store.Time `json:"lastTransitionTime"`
	Reason             string     `json:"reason"`
	Message            string     `json:"message"`
}

// setCondition sets c in conds, keeping its transition time when its
// status did not change.
func setCondition(conds *[]Condition, c Condition, now time.Time) {
	c.LastTransitionTime = store.NewTime(now)
	for i, old := range *conds {
		if old.Type == c.Type {
			if old.Status == c.Status {
				c.LastTransitionTime = old.LastTransitionTime
			}
			*conds = slices.Clone(*conds)
			(*conds)[i] = c
			return
		}
	}
	*conds = append(slices.Clip(*conds), c)
}

// Event is core/v1's Event.
type Event struct {
	store.TypeMeta
	store.ObjectMeta `json:"metadata"`
	InvolvedObject   ObjectReference `json:"involvedObject"`
	Reason           string          `json:"reason,omitempty"`
	Message          string          `json:"message,omitempty"`
	Source           EventSource     `json:"source,omitzero"`
	FirstTimestamp   store.Time      `json:"firstTimestamp,omitzero"`
	LastTimestamp    store.Time      `json:"lastTimestamp,omitzero"`
	Count            int32           `json:"count,omitempty"`
	Type             string          `json:"type,omitempty"`
}

// ObjectReference is core/v1's ObjectReference.
type ObjectReference struct {
	Kind       string `json:"kind,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name,omitempty"`
	UID        string `json:"uid,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
}

// EventSource is core/v1's EventSource.
type EventSource struct {
	Component string `json:"component,omitempty"`
}

// EventResource describes Events to a [store.Store].
var EventResource = store.Resource[*Event]{Name: "events", Kind: "Event", APIVersion: "v1", Namespaced: true}

// recordEvent records an event about b, adding to the count of an equal
// one recorded before.
func recordEvent(ctx context.Context, events *store.Store[*Event], now time.Time, b *Backup, typ, reason, message string) error {
	h := fnv.New64a()
	fmt.Fprint(h, b.UID, typ, reason, message)
	name := fmt.Sprintf("%s.%x", b.Name, h.Sum64())
	_, err := events.GuaranteedUpdate(ctx, b.Namespace, name, func(e *Event) (*Event, error) {
		e.Count++
		e.LastTimestamp = store.NewTime(now)
		return e, nil
	})
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	_, err = events.Create(ctx, &Event{ObjectMeta: store.ObjectMeta{Namespace: b.Namespace, Name: name},
		InvolvedObject: ObjectReference{Kind: b.Kind, APIVersion: b.APIVersion, Namespace: b.Namespace, Name: b.Name, UID: b.UID},
		Reason:         reason, Message: message, Source: EventSource{Component: "backup"}, Type: typ, Count: 1,
		FirstTimestamp: store.NewTime(now), LastTimestamp: store.NewTime(now)})
	return err
}

// hasFinalizer reports whether obj has f.
func hasFinalizer(obj store.Object, f string) bool {
	return slices.Contains(obj.GetObjectMeta().Finalizers, f)
}

// setFinalizer adds or removes f on b, writing only when that changes it.
func setFinalizer(ctx context.Context, c *reconcile.Client[*Backup], b *Backup, f string, want bool) (*Backup, error) {
	if hasFinalizer(b, f) == want {
		return b, nil
	}
	return c.GuaranteedUpdate(ctx, b.Namespace, b.Name, func(b *Backup) (*Backup, error) {
		b.Finalizers = slices.DeleteFunc(slices.Clone(b.Finalizers), func(s string) bool { return s == f })
		if want {
			b.Finalizers = append(b.Finalizers, f)
		}
		return b, nil
	})
}

// controlledBy reports whether obj's controller reference names owner.
func controlledBy(obj store.Object, owner *Backup) bool {
	for _, ref := range obj.GetObjectMeta().OwnerReferences {
		if ref.Controller != nil && *ref.Controller {
			return ref.UID == owner.UID
		}
	}
	return false
}

// updateStatus applies mutate to a copy of b's status and writes it when it
// changed, retrying on Conflict with the latest version from the store.
func updateStatus(ctx context.Context, c *reconcile.Client[*Backup], b *Backup, mutate func(*Backup)) error {
	for {
		cp := store.DeepCopy(b)
		mutate(cp)
		if reflect.DeepEqual(cp.Status, b.Status) {
			return nil
		}
		_, err := c.UpdateStatus(ctx, cp)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		if b, err = c.Store().Get(ctx, b.Namespace, b.Name); err != nil {
			return err
		}
	}
}
