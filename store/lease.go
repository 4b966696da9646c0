package store

import (
	"fmt"
	"github.com/governor-io/governor/store/meta"
)

// Lease is a lock with a time limit, kept in the store: the object that
// leader election uses. Its JSON is that of Kubernetes'
// coordination.k8s.io/v1 Lease. The store only keeps it; the algorithm
// that acquires, renews and releases it, which times a lease on each
// candidate's own clock and so tolerates clock skew, is
// [github.com/governor-io/governor/reconcile.Elector], through
// [github.com/governor-io/governor/reconcile.StoreLeaseLock].
type Lease struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            LeaseSpec `json:"spec"`
}

// LeaseSpec is the state of a [Lease].
type LeaseSpec struct {
	// HolderIdentity names the current holder; nil or empty means free.
	HolderIdentity *string `json:"holderIdentity,omitempty"`
	// LeaseDurationSeconds is how long after RenewTime the lease lapses.
	LeaseDurationSeconds *int32 `json:"leaseDurationSeconds,omitempty"`
	// AcquireTime is when the current holder took the lease.
	AcquireTime *meta.MicroTime `json:"acquireTime,omitempty"`
	// RenewTime is when the current holder last renewed it.
	RenewTime *meta.MicroTime `json:"renewTime,omitempty"`
	// LeaseTransitions counts the changes of holder.
	LeaseTransitions *int32 `json:"leaseTransitions,omitempty"`
	// Strategy and PreferredHolder are carried for wire compatibility
	// with coordinated leader election; this package does not use them.
	Strategy        *string `json:"strategy,omitempty"`
	PreferredHolder *string `json:"preferredHolder,omitempty"`
}

// DeepCopy returns a copy of l that shares no memory with it.
func (l *Lease) DeepCopy() *Lease {
	if l == nil {
		return nil
	}
	out := &Lease{TypeMeta: l.TypeMeta, ObjectMeta: copyMeta(l.ObjectMeta)}
	s := l.Spec
	out.Spec = LeaseSpec{
		HolderIdentity:       clonePtr(s.HolderIdentity),
		LeaseDurationSeconds: clonePtr(s.LeaseDurationSeconds),
		AcquireTime:          clonePtr(s.AcquireTime),
		RenewTime:            clonePtr(s.RenewTime),
		LeaseTransitions:     clonePtr(s.LeaseTransitions),
		Strategy:             clonePtr(s.Strategy),
		PreferredHolder:      clonePtr(s.PreferredHolder),
	}
	return out
}

func clonePtr[V any](p *V) *V {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func copyMeta(m meta.ObjectMeta) meta.ObjectMeta {
	out := m
	out.DeletionTimestamp = clonePtr(m.DeletionTimestamp)
	out.DeletionGracePeriodSeconds = clonePtr(m.DeletionGracePeriodSeconds)
	if m.Labels != nil {
		out.Labels = make(map[string]string, len(m.Labels))
		for k, v := range m.Labels {
			out.Labels[k] = v
		}
	}
	if m.Annotations != nil {
		out.Annotations = make(map[string]string, len(m.Annotations))
		for k, v := range m.Annotations {
			out.Annotations[k] = v
		}
	}
	if m.OwnerReferences != nil {
		out.OwnerReferences = make([]meta.OwnerReference, len(m.OwnerReferences))
		for i, r := range m.OwnerReferences {
			r.Controller = clonePtr(r.Controller)
			r.BlockOwnerDeletion = clonePtr(r.BlockOwnerDeletion)
			out.OwnerReferences[i] = r
		}
	}
	out.Finalizers = append([]string(nil), m.Finalizers...)
	if m.Finalizers == nil {
		out.Finalizers = nil
	}
	return out
}

// Holder returns the holder's identity, or "" when the lease is free.
func (l *Lease) Holder() string {
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// LeaseResource returns the descriptor of leases: namespaced, named
// "leases", kind Lease in coordination.k8s.io/v1, with validation of the
// spec and the field selector "spec.holderIdentity".
func LeaseResource() Resource[*Lease] {
	return Resource[*Lease]{
		Name:       "leases",
		Kind:       "Lease",
		APIVersion: "coordination.k8s.io/v1",
		Namespaced: true,
		New:        func() *Lease { return &Lease{} },
		Validate:   validateLease,
		Fields: map[string]func(*Lease) string{
			"spec.holderIdentity": (*Lease).Holder,
		},
	}
}

func validateLease(l *Lease) []meta.Cause {
	var causes []meta.Cause
	if d := l.Spec.LeaseDurationSeconds; d != nil && *d <= 0 {
		causes = append(causes, meta.Cause{Field: "spec.leaseDurationSeconds", Type: meta.CauseTypeFieldValueInvalid,
			Message: fmt.Sprintf("must be greater than 0, not %d", *d)})
	}
	if t := l.Spec.LeaseTransitions; t != nil && *t < 0 {
		causes = append(causes, meta.Cause{Field: "spec.leaseTransitions", Type: meta.CauseTypeFieldValueInvalid,
			Message: fmt.Sprintf("must be non-negative, not %d", *t)})
	}
	return causes
}
