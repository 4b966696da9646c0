// Package autoscalingv1 holds the autoscaling/v1 Scale: the body of the
// "scale" subresource of deployments, replica sets and custom resources
// (kubectl scale reads and writes it).
package autoscalingv1

import "github.com/governor-io/governor/store/meta"

// Scale is the replica count of a scalable object: autoscaling/v1 Scale.
type Scale struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            ScaleSpec   `json:"spec,omitempty"`
	Status          ScaleStatus `json:"status,omitempty"`
}

// ScaleSpec is the desired replica count.
type ScaleSpec struct {
	Replicas int32 `json:"replicas,omitempty"`
}

// ScaleStatus is the observed replica count and the label selector of
// the pods, in its string form.
type ScaleStatus struct {
	Replicas int32  `json:"replicas"`
	Selector string `json:"selector,omitempty"`
}

// APIVersion is the apiVersion of a Scale.
const APIVersion = "autoscaling/v1"
