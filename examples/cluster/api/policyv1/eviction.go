// Package policyv1 holds the policy/v1 Eviction: the body of the pods'
// "eviction" subresource (kubectl drain posts it).
package policyv1

import (
	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/store/meta"
)

// Eviction asks the API server to delete a pod, honouring its
// disruption budget: policy/v1 Eviction. Its name and namespace are the
// pod's.
type Eviction struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	// DeleteOptions shape the deletion of the pod.
	DeleteOptions *api.DeleteOptions `json:"deleteOptions,omitempty"`
}

// APIVersion is the apiVersion of an Eviction.
const APIVersion = "policy/v1"
