package reconciletest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
)

// The harness tests run this small ReplicaSet controller, their own, so
// that the library's tests do not depend on an example's code.

const (
	rsAPIVersion = "test.governor.io/v1"
	rsFinalizer  = "test.governor.io/pods"
)

// ReplicaSet asks for Spec.Replicas pods.
type ReplicaSet struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            ReplicaSetSpec   `json:"spec"`
	Status          ReplicaSetStatus `json:"status"`
}

// ReplicaSetSpec is the desired state of a ReplicaSet.
type ReplicaSetSpec struct {
	Replicas int32 `json:"replicas"`
}

// ReplicaSetStatus is the observed state of a ReplicaSet.
type ReplicaSetStatus struct {
	Replicas int32 `json:"replicas"`
}

// Pod is a child of a ReplicaSet.
type Pod struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            PodSpec `json:"spec"`
}

// PodSpec describes a Pod.
type PodSpec struct {
	Image string `json:"image"`
}

func SetResource() store.Resource[*ReplicaSet] {
	return store.Resource[*ReplicaSet]{Name: "replicasets", Kind: "ReplicaSet", APIVersion: rsAPIVersion, Namespaced: true}
}

func PodResource() store.Resource[*Pod] {
	return store.Resource[*Pod]{Name: "pods", Kind: "Pod", APIVersion: rsAPIVersion, Namespaced: true}
}

// Reconciler keeps Spec.Replicas pods named <set>-<i> for each set, its
// status, and a finalizer that deletes the pods before the set goes.
type Reconciler struct {
	Sets *reconcile.Client[*ReplicaSet]
	Pods *reconcile.Client[*Pod]
}

func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	set, err := r.Sets.Get(req.Namespace, req.Name)
	if errors.Is(err, meta.ErrNotFound) {
		return reconcile.Done(), nil
	}
	if err != nil {
		return reconcile.Done(), err
	}
	all, err := r.Pods.List(set.Namespace, "")
	if err != nil {
		return reconcile.Done(), err
	}
	owned := map[string]bool{}
	for _, p := range all {
		if ref := meta.ControllerOf(p); ref != nil && ref.UID == set.UID && p.DeletionTimestamp == nil {
			owned[p.Name] = true
		}
	}
	want := int(set.Spec.Replicas)
	if set.DeletionTimestamp != nil {
		want = 0
	} else if !slices.Contains(set.Finalizers, rsFinalizer) {
		set = meta.DeepCopy(set)
		meta.AddFinalizer(set, rsFinalizer)
		_, err := r.Sets.Update(ctx, set)
		return reconcile.Done(), err
	}
	wanted := map[string]bool{}
	for i := range want {
		name := fmt.Sprintf("%s-%d", set.Name, i)
		wanted[name] = true
		if owned[name] {
			continue
		}
		pod := &Pod{ObjectMeta: meta.ObjectMeta{Namespace: set.Namespace, Name: name}}
		if err := meta.SetControllerReference(set, pod); err != nil {
			return reconcile.Done(), err
		}
		if _, err := r.Pods.Create(ctx, pod); err != nil {
			return reconcile.Done(), err
		}
	}
	for name := range owned {
		if wanted[name] {
			continue
		}
		if _, err := r.Pods.Delete(ctx, set.Namespace, name, meta.DeleteOptions{}); err != nil && !errors.Is(err, meta.ErrNotFound) {
			return reconcile.Done(), err
		}
	}
	if set.DeletionTimestamp != nil {
		set = meta.DeepCopy(set)
		meta.RemoveFinalizer(set, rsFinalizer)
		_, err := r.Sets.Update(ctx, set)
		return reconcile.Done(), err
	}
	if set.Status.Replicas != int32(want) {
		set = meta.DeepCopy(set)
		set.Status.Replicas = int32(want)
		if _, err := r.Sets.UpdateStatus(ctx, set); err != nil {
			return reconcile.Done(), err
		}
	}
	return reconcile.Done(), nil
}
