package replicaset

import (
	"fmt"

	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
)

// APIVersion is the group and version of the demo's types.
const APIVersion = "quickstart.governor.io/v1"

// Finalizer keeps a deleted ReplicaSet in the store until the controller
// has deleted its pods.
const Finalizer = "quickstart.governor.io/pods"

// ReplicaSet asks for Spec.Replicas pods built from Spec.Template.
type ReplicaSet struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            ReplicaSetSpec   `json:"spec"`
	Status          ReplicaSetStatus `json:"status"`
}

// ReplicaSetSpec is the desired state of a [ReplicaSet].
type ReplicaSetSpec struct {
	// Replicas is the number of pods wanted.
	Replicas int32 `json:"replicas"`
	// Template is copied into every pod.
	Template PodSpec `json:"template"`
}

// ReplicaSetStatus is the observed state of a [ReplicaSet].
type ReplicaSetStatus struct {
	// Replicas is the number of pods the set owns.
	Replicas int32 `json:"replicas"`
	// ObservedGeneration is the generation of the spec last acted on.
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// Pod is a child of a [ReplicaSet]. Nothing runs it: it stands for
// whatever a real controller would create.
type Pod struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            PodSpec `json:"spec"`
}

// PodSpec describes a [Pod].
type PodSpec struct {
	// Image names what the pod would run.
	Image string `json:"image"`
}

// SetResource describes ReplicaSets to a [store.Store].
func SetResource() store.Resource[*ReplicaSet] {
	return store.Resource[*ReplicaSet]{
		Name: "replicasets", Kind: "ReplicaSet", APIVersion: APIVersion, Namespaced: true,
		New: func() *ReplicaSet { return &ReplicaSet{} },
		Validate: func(rs *ReplicaSet) []meta.Cause {
			if rs.Spec.Replicas < 0 {
				return []meta.Cause{{Field: "spec.replicas", Message: fmt.Sprintf("must be non-negative, not %d", rs.Spec.Replicas)}}
			}
			return nil
		},
	}
}

// PodResource describes Pods to a [store.Store].
func PodResource() store.Resource[*Pod] {
	return store.Resource[*Pod]{
		Name: "pods", Kind: "Pod", APIVersion: APIVersion, Namespaced: true,
		New: func() *Pod { return &Pod{} },
	}
}
