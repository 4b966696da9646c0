package meta

import "time"

// ConditionStatus is the status of a [Condition]: True, False or Unknown.
type ConditionStatus string

// The values a [Condition]'s Status takes, as in Kubernetes.
const (
	ConditionTrue    ConditionStatus = "True"
	ConditionFalse   ConditionStatus = "False"
	ConditionUnknown ConditionStatus = "Unknown"
)

// Condition is one aspect of an object's observed state, with the fields
// and JSON of Kubernetes' metav1.Condition. Keep them in a status field,
//
//	Conditions []meta.Condition `json:"conditions,omitempty"`
//
// and change them with [SetStatusCondition] and [RemoveStatusCondition].
type Condition struct {
	// Type names the condition in CamelCase, such as "Ready". A list
	// holds at most one condition of each type.
	Type string `json:"type"`
	// Status is True, False or Unknown.
	Status ConditionStatus `json:"status"`
	// ObservedGeneration is the metadata.generation the condition was
	// set from: a condition older than the object's generation describes
	// a spec the controller has not yet acted on.
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// LastTransitionTime is when Status last changed.
	LastTransitionTime Time `json:"lastTransitionTime"`
	// Reason is a CamelCase word for the cause of the last transition.
	Reason string `json:"reason"`
	// Message is a human-readable account of the transition.
	Message string `json:"message"`
}

// SetStatusCondition puts c into *conds, replacing the condition of the
// same type, and reports whether anything changed. LastTransitionTime
// moves only when the status changes: to c.LastTransitionTime if it is
// set, else to now (pass the controller's clock's Now). Reason, message
// and observedGeneration are always taken from c.
func SetStatusCondition(conds *[]Condition, c Condition, now time.Time) (changed bool) {
	if c.LastTransitionTime.IsZero() {
		c.LastTransitionTime = NewTime(now)
	}
	for i := range *conds {
		old := &(*conds)[i]
		if old.Type != c.Type {
			continue
		}
		if old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		}
		if *old == c {
			return false
		}
		// A new array, so that a shallow copy of a cached object never
		// writes into the cache's.
		*conds = append([]Condition(nil), *conds...)
		(*conds)[i] = c
		return true
	}
	*conds = append((*conds)[:len(*conds):len(*conds)], c)
	return true
}

// RemoveStatusCondition removes the condition of type condType from
// *conds, and reports whether there was one.
func RemoveStatusCondition(conds *[]Condition, condType string) (removed bool) {
	var kept []Condition // a new array, never the (maybe shared) old one
	for _, c := range *conds {
		if c.Type == condType {
			removed = true
		} else {
			kept = append(kept, c)
		}
	}
	if removed {
		*conds = kept
	}
	return removed
}

// FindStatusCondition returns the condition of type condType in conds, or
// nil. The result points into conds.
func FindStatusCondition(conds []Condition, condType string) *Condition {
	for i := range conds {
		if conds[i].Type == condType {
			return &conds[i]
		}
	}
	return nil
}

// IsStatusConditionTrue reports whether conds has a condition of type
// condType with status True.
func IsStatusConditionTrue(conds []Condition, condType string) bool {
	return IsStatusConditionPresentAndEqual(conds, condType, ConditionTrue)
}

// IsStatusConditionFalse reports whether conds has a condition of type
// condType with status False.
func IsStatusConditionFalse(conds []Condition, condType string) bool {
	return IsStatusConditionPresentAndEqual(conds, condType, ConditionFalse)
}

// IsStatusConditionPresentAndEqual reports whether conds has a condition
// of type condType with the given status.
func IsStatusConditionPresentAndEqual(conds []Condition, condType string, status ConditionStatus) bool {
	c := FindStatusCondition(conds, condType)
	return c != nil && c.Status == status
}

// IsStatusConditionCurrent reports whether conds has a condition of type
// condType that was set from generation (an object's metadata.generation)
// or a later one: whether it describes the current spec rather than an
// older one the controller has since been asked to change.
func IsStatusConditionCurrent(conds []Condition, condType string, generation int64) bool {
	c := FindStatusCondition(conds, condType)
	return c != nil && c.ObservedGeneration >= generation
}
