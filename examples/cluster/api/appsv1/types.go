// Package appsv1 holds the apps/v1 workload types, ReplicaSet and
// Deployment, and their [api.Type] descriptors.
package appsv1

import (
	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/examples/cluster/api/corev1"
	"github.com/governor-io/governor/store/meta"
)

// ReplicaSet keeps a number of identical pods running: apps/v1
// ReplicaSet.
type ReplicaSet struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            ReplicaSetSpec   `json:"spec,omitempty"`
	Status          ReplicaSetStatus `json:"status,omitempty"`
}

// ReplicaSetSpec is the desired state of a [ReplicaSet].
type ReplicaSetSpec struct {
	// Replicas is the desired number of pods; nil means 1.
	Replicas        *int32                 `json:"replicas,omitempty"`
	MinReadySeconds int32                  `json:"minReadySeconds,omitempty"`
	Selector        *api.LabelSelector     `json:"selector"`
	Template        corev1.PodTemplateSpec `json:"template,omitempty"`
}

// ReplicaSetStatus is the observed state of a [ReplicaSet].
type ReplicaSetStatus struct {
	Replicas             int32                 `json:"replicas"`
	FullyLabeledReplicas int32                 `json:"fullyLabeledReplicas,omitempty"`
	ReadyReplicas        int32                 `json:"readyReplicas,omitempty"`
	AvailableReplicas    int32                 `json:"availableReplicas,omitempty"`
	TerminatingReplicas  *int32                `json:"terminatingReplicas,omitempty"`
	ObservedGeneration   int64                 `json:"observedGeneration,omitempty"`
	Conditions           []ReplicaSetCondition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// ReplicaSetCondition is one condition of a replica set.
type ReplicaSetCondition struct {
	Type               string                 `json:"type"`
	Status             corev1.ConditionStatus `json:"status"`
	LastTransitionTime meta.Time              `json:"lastTransitionTime,omitempty"`
	Reason             string                 `json:"reason,omitempty"`
	Message            string                 `json:"message,omitempty"`
}

// Deployment rolls out a pod template through replica sets: apps/v1
// Deployment.
type Deployment struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            DeploymentSpec   `json:"spec,omitempty"`
	Status          DeploymentStatus `json:"status,omitempty"`
}

// DeploymentSpec is the desired state of a [Deployment].
type DeploymentSpec struct {
	// Replicas is the desired number of pods; nil means 1.
	Replicas *int32                 `json:"replicas,omitempty"`
	Selector *api.LabelSelector     `json:"selector"`
	Template corev1.PodTemplateSpec `json:"template"`
	// Strategy is how old pods are replaced by new ones.
	Strategy                DeploymentStrategy `json:"strategy,omitempty" patchStrategy:"retainKeys"`
	MinReadySeconds         int32              `json:"minReadySeconds,omitempty"`
	RevisionHistoryLimit    *int32             `json:"revisionHistoryLimit,omitempty"`
	Paused                  bool               `json:"paused,omitempty"`
	ProgressDeadlineSeconds *int32             `json:"progressDeadlineSeconds,omitempty"`
}

// DeploymentStrategy is Recreate or RollingUpdate.
type DeploymentStrategy struct {
	Type          string                   `json:"type,omitempty"`
	RollingUpdate *RollingUpdateDeployment `json:"rollingUpdate,omitempty"`
}

// The values of [DeploymentStrategy.Type].
const (
	RecreateDeploymentStrategyType      = "Recreate"
	RollingUpdateDeploymentStrategyType = "RollingUpdate"
)

// RollingUpdateDeployment bounds a rolling update: how many pods may be
// missing and how many extra, as numbers or percentages.
type RollingUpdateDeployment struct {
	MaxUnavailable *api.IntOrString `json:"maxUnavailable,omitempty"`
	MaxSurge       *api.IntOrString `json:"maxSurge,omitempty"`
}

// DeploymentStatus is the observed state of a [Deployment].
type DeploymentStatus struct {
	ObservedGeneration  int64                 `json:"observedGeneration,omitempty"`
	Replicas            int32                 `json:"replicas,omitempty"`
	UpdatedReplicas     int32                 `json:"updatedReplicas,omitempty"`
	ReadyReplicas       int32                 `json:"readyReplicas,omitempty"`
	AvailableReplicas   int32                 `json:"availableReplicas,omitempty"`
	UnavailableReplicas int32                 `json:"unavailableReplicas,omitempty"`
	TerminatingReplicas *int32                `json:"terminatingReplicas,omitempty"`
	Conditions          []DeploymentCondition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
	CollisionCount      *int32                `json:"collisionCount,omitempty"`
}

// DeploymentCondition is one condition of a deployment ("Available",
// "Progressing", "ReplicaFailure").
type DeploymentCondition struct {
	Type               string                 `json:"type"`
	Status             corev1.ConditionStatus `json:"status"`
	LastUpdateTime     meta.Time              `json:"lastUpdateTime,omitempty"`
	LastTransitionTime meta.Time              `json:"lastTransitionTime,omitempty"`
	Reason             string                 `json:"reason,omitempty"`
	Message            string                 `json:"message,omitempty"`
}
