package corev1

import "github.com/governor-io/governor/examples/cluster/api"

// Affinity holds a pod's scheduling constraints: which nodes it may or
// prefers to run on, and which pods it wants to be near or away from.
type Affinity struct {
	NodeAffinity    *NodeAffinity    `json:"nodeAffinity,omitempty"`
	PodAffinity     *PodAffinity     `json:"podAffinity,omitempty"`
	PodAntiAffinity *PodAntiAffinity `json:"podAntiAffinity,omitempty"`
}

// NodeAffinity constrains the nodes a pod runs on by their labels and
// fields.
type NodeAffinity struct {
	// RequiredDuringSchedulingIgnoredDuringExecution must hold for the pod
	// to be scheduled on a node.
	RequiredDuringSchedulingIgnoredDuringExecution *NodeSelector `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty"`
	// PreferredDuringSchedulingIgnoredDuringExecution adds each matching
	// term's weight to a node's score.
	PreferredDuringSchedulingIgnoredDuringExecution []PreferredSchedulingTerm `json:"preferredDuringSchedulingIgnoredDuringExecution,omitempty"`
}

// NodeSelector matches a node when any of its terms does.
type NodeSelector struct {
	NodeSelectorTerms []NodeSelectorTerm `json:"nodeSelectorTerms"`
}

// NodeSelectorTerm matches a node when all its requirements do.
type NodeSelectorTerm struct {
	// MatchExpressions are requirements on the node's labels.
	MatchExpressions []NodeSelectorRequirement `json:"matchExpressions,omitempty"`
	// MatchFields are requirements on the node's fields
	// (metadata.name).
	MatchFields []NodeSelectorRequirement `json:"matchFields,omitempty"`
}

// NodeSelectorRequirement is one requirement: Key, an operator (In,
// NotIn, Exists, DoesNotExist, Gt, Lt) and values.
type NodeSelectorRequirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
}

// PreferredSchedulingTerm is a weighted node selector term.
type PreferredSchedulingTerm struct {
	Weight     int32            `json:"weight"`
	Preference NodeSelectorTerm `json:"preference"`
}

// PodAffinity attracts a pod to the topology domains (nodes, zones) of
// other pods.
type PodAffinity struct {
	RequiredDuringSchedulingIgnoredDuringExecution  []PodAffinityTerm         `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty"`
	PreferredDuringSchedulingIgnoredDuringExecution []WeightedPodAffinityTerm `json:"preferredDuringSchedulingIgnoredDuringExecution,omitempty"`
}

// PodAntiAffinity repels a pod from the topology domains of other pods.
type PodAntiAffinity struct {
	RequiredDuringSchedulingIgnoredDuringExecution  []PodAffinityTerm         `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty"`
	PreferredDuringSchedulingIgnoredDuringExecution []WeightedPodAffinityTerm `json:"preferredDuringSchedulingIgnoredDuringExecution,omitempty"`
}

// PodAffinityTerm selects pods (by labels, in some namespaces) and the
// topology key whose domains they define.
type PodAffinityTerm struct {
	LabelSelector     *api.LabelSelector `json:"labelSelector,omitempty"`
	Namespaces        []string           `json:"namespaces,omitempty"`
	TopologyKey       string             `json:"topologyKey"`
	NamespaceSelector *api.LabelSelector `json:"namespaceSelector,omitempty"`
	MatchLabelKeys    []string           `json:"matchLabelKeys,omitempty"`
	MismatchLabelKeys []string           `json:"mismatchLabelKeys,omitempty"`
}

// WeightedPodAffinityTerm is a weighted pod affinity term.
type WeightedPodAffinityTerm struct {
	Weight          int32           `json:"weight"`
	PodAffinityTerm PodAffinityTerm `json:"podAffinityTerm"`
}

// TopologySpreadConstraint bounds how unevenly matching pods may spread
// over the domains of a topology key.
type TopologySpreadConstraint struct {
	MaxSkew     int32  `json:"maxSkew"`
	TopologyKey string `json:"topologyKey"`
	// WhenUnsatisfiable is DoNotSchedule or ScheduleAnyway.
	WhenUnsatisfiable  string             `json:"whenUnsatisfiable"`
	LabelSelector      *api.LabelSelector `json:"labelSelector,omitempty"`
	MinDomains         *int32             `json:"minDomains,omitempty"`
	NodeAffinityPolicy *string            `json:"nodeAffinityPolicy,omitempty"`
	NodeTaintsPolicy   *string            `json:"nodeTaintsPolicy,omitempty"`
	MatchLabelKeys     []string           `json:"matchLabelKeys,omitempty"`
}
