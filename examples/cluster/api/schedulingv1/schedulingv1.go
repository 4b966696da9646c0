// Package schedulingv1 holds the scheduling.k8s.io/v1 PriorityClass,
// which maps a pod's priorityClassName to a priority, and its
// [api.Type], [PriorityClasses].
package schedulingv1

import (
	"time"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/store/meta"
)

// PriorityClass names a pod priority: scheduling.k8s.io/v1
// PriorityClass (cluster-scoped).
type PriorityClass struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	// Value is the priority of pods of this class; higher goes first.
	Value int32 `json:"value"`
	// GlobalDefault makes this the class of pods that name none.
	GlobalDefault bool   `json:"globalDefault,omitempty"`
	Description   string `json:"description,omitempty"`
	// PreemptionPolicy is PreemptLowerPriority (the default) or Never.
	PreemptionPolicy *string `json:"preemptionPolicy,omitempty"`
}

// HighestUserDefinablePriority is the largest Value a user-defined class
// may have; larger values are reserved for the system classes.
const HighestUserDefinablePriority = 1_000_000_000

// PriorityClasses describes the priorityclasses resource.
var PriorityClasses = api.Type[*PriorityClass]{
	Group: "scheduling.k8s.io", Version: "v1", Kind: "PriorityClass", Resource: "priorityclasses", Singular: "priorityclass",
	ShortNames: []string{"pc"},
	Columns: api.Columns(
		api.TableColumn{Name: "Value", Type: "integer", Description: "The integer value of this priority class."},
		api.TableColumn{Name: "Global-Default", Type: "boolean", Description: "Whether this priority class is the default one."},
		api.AgeColumn,
		api.Column("PreemptionPolicy", "The policy for preempting pods with lower priority."),
	),
	Cells: func(p *PriorityClass, now time.Time) []any {
		policy := "PreemptLowerPriority"
		if p.PreemptionPolicy != nil {
			policy = *p.PreemptionPolicy
		}
		return []any{p.Name, int64(p.Value), p.GlobalDefault, api.Age(p.CreationTimestamp, now), policy}
	},
	Default: func(p *PriorityClass) {
		if p.PreemptionPolicy == nil {
			policy := "PreemptLowerPriority"
			p.PreemptionPolicy = &policy
		}
	},
	Validate: func(p *PriorityClass) []meta.Cause {
		causes := api.ValidateObjectMeta(&p.ObjectMeta, false, api.DNS1123Subdomain)
		if p.Value > HighestUserDefinablePriority && p.Name != "system-node-critical" && p.Name != "system-cluster-critical" {
			causes = append(causes, api.Forbidden("value", "maximum allowed value of a user defined priority is 1000000000"))
		}
		if pp := p.PreemptionPolicy; pp != nil && *pp != "PreemptLowerPriority" && *pp != "Never" {
			causes = append(causes, api.NotSupported("preemptionPolicy", *pp, "Never", "PreemptLowerPriority"))
		}
		return causes
	},
	ValidateUpdate: func(o, n *PriorityClass) []meta.Cause {
		var causes []meta.Cause
		if o.Value != n.Value {
			causes = append(causes, api.Forbidden("value", "may not be changed in an update."))
		}
		if (o.PreemptionPolicy == nil) != (n.PreemptionPolicy == nil) ||
			(o.PreemptionPolicy != nil && *o.PreemptionPolicy != *n.PreemptionPolicy) {
			causes = append(causes, api.Forbidden("preemptionPolicy", "may not be changed in an update."))
		}
		return causes
	},
	New: func() *PriorityClass { return new(PriorityClass) },
}
