package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/governor-io/governor/clock"
)

// Lease is a lock with a time limit, kept in the store: the object that
// leader election uses. Its JSON is that of Kubernetes'
// coordination.k8s.io/v1 Lease. Acquire and renew it with [TryAcquireLease]
// and give it up with [ReleaseLease]; both are single compare-and-swap
// writes through the resourceVersion, so two candidates can never both
// believe they hold it.
type Lease struct {
	TypeMeta
	ObjectMeta `json:"metadata"`
	Spec       LeaseSpec `json:"spec"`
}

// LeaseSpec is the state of a [Lease].
type LeaseSpec struct {
	// HolderIdentity names the current holder; nil or empty means free.
	HolderIdentity *string `json:"holderIdentity,omitempty"`
	// LeaseDurationSeconds is how long after RenewTime the lease lapses.
	LeaseDurationSeconds *int32 `json:"leaseDurationSeconds,omitempty"`
	// AcquireTime is when the current holder took the lease.
	AcquireTime *MicroTime `json:"acquireTime,omitempty"`
	// RenewTime is when the current holder last renewed it.
	RenewTime *MicroTime `json:"renewTime,omitempty"`
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

func copyMeta(m ObjectMeta) ObjectMeta {
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
		out.OwnerReferences = make([]OwnerReference, len(m.OwnerReferences))
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

// ExpiresAt returns when the lease lapses unless renewed: RenewTime plus
// LeaseDurationSeconds. It returns the zero time for a lease that was
// never renewed.
func (l *Lease) ExpiresAt() time.Time {
	if l.Spec.RenewTime == nil || l.Spec.RenewTime.IsZero() {
		return time.Time{}
	}
	var d int32
	if l.Spec.LeaseDurationSeconds != nil {
		d = *l.Spec.LeaseDurationSeconds
	}
	return l.Spec.RenewTime.Add(time.Duration(d) * time.Second)
}

// HeldBy reports whether holder holds the lease at now: it is the holder
// and the lease has not lapsed.
func (l *Lease) HeldBy(holder string, now time.Time) bool {
	return holder != "" && l.Holder() == holder && now.Before(l.ExpiresAt())
}

// Free reports whether anyone may take the lease at now: it has no holder
// or has lapsed.
func (l *Lease) Free(now time.Time) bool {
	return l.Holder() == "" || !now.Before(l.ExpiresAt())
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

func validateLease(l *Lease) []Cause {
	var causes []Cause
	if d := l.Spec.LeaseDurationSeconds; d != nil && *d <= 0 {
		causes = append(causes, Cause{Field: "spec.leaseDurationSeconds", Type: CauseTypeFieldValueInvalid,
			Message: fmt.Sprintf("must be greater than 0, not %d", *d)})
	}
	if t := l.Spec.LeaseTransitions; t != nil && *t < 0 {
		causes = append(causes, Cause{Field: "spec.leaseTransitions", Type: CauseTypeFieldValueInvalid,
			Message: fmt.Sprintf("must be non-negative, not %d", *t)})
	}
	return causes
}

// TryAcquireLease makes one attempt to acquire or renew the lease
// namespace/name for holder, for duration (rounded up to whole seconds),
// with times from clk. It reports whether holder holds the lease
// afterwards, and returns the lease as stored.
//
//   - If the lease does not exist it is created, held by holder.
//   - If holder holds it, RenewTime moves to now (a renewal).
//   - If it is free or has lapsed (RenewTime + duration is not after now),
//     holder takes it: AcquireTime and RenewTime become now, and
//     LeaseTransitions grows when the holder changes.
//   - If another holder holds it and it has not lapsed, nothing is
//     written and the result is false.
//
// The write is conditional on the resourceVersion read, so a concurrent
// candidate makes it fail rather than both succeed: the result is then
// false with a Conflict error (errors.Is(err, ErrConflict)), and the
// election loop simply tries again on its next tick. A renewal that
// fails that way means holder may have lost the lease; it must stop acting
// as leader once the lease it last wrote expires.
func TryAcquireLease(ctx context.Context, s *Store[*Lease], namespace, name, holder string, duration time.Duration, clk clock.Clock) (*Lease, bool, error) {
	if holder == "" {
		return nil, false, NewBadRequest("lease holder identity must be non-empty")
	}
	secs := int32((duration + time.Second - 1) / time.Second)
	if duration <= 0 || secs <= 0 {
		return nil, false, NewBadRequest(fmt.Sprintf("lease duration must be positive, not %v", duration))
	}
	now := NewMicroTime(clk.Now())
	cur, err := s.Get(ctx, namespace, name)
	if errors.Is(err, ErrNotFound) {
		zero := int32(0)
		l := &Lease{ObjectMeta: ObjectMeta{Namespace: namespace, Name: name}}
		l.Spec = LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs,
			AcquireTime: &now, RenewTime: &now, LeaseTransitions: &zero}
		created, err := s.Create(ctx, l)
		if errors.Is(err, ErrAlreadyExists) {
			return nil, false, NewConflict(s.res.Name, namespace+"/"+name, "another candidate created the lease first")
		}
		if err != nil {
			return nil, false, err
		}
		return created, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	prev := cur.Holder()
	switch {
	case prev == holder && holder != "":
		cur.Spec.RenewTime = &now
		cur.Spec.LeaseDurationSeconds = &secs
		if cur.Spec.AcquireTime == nil {
			cur.Spec.AcquireTime = &now
		}
	case cur.Free(now.Time):
		transitions := int32(0)
		if cur.Spec.LeaseTransitions != nil {
			transitions = *cur.Spec.LeaseTransitions
		}
		if prev != holder {
			transitions++
		}
		cur.Spec.HolderIdentity = &holder
		cur.Spec.AcquireTime = &now
		cur.Spec.RenewTime = &now
		cur.Spec.LeaseDurationSeconds = &secs
		cur.Spec.LeaseTransitions = &transitions
	default:
		return cur, false, nil
	}
	updated, err := s.Update(ctx, cur)
	if err != nil {
		return nil, false, err
	}
	return updated, true, nil
}

// ReleaseLease gives up the lease namespace/name if holder holds it, so
// that another candidate can take it at once instead of waiting for it to
// lapse. It clears the holder and sets RenewTime to now (from clk), with a
// conditional write. It returns true when it released the lease, false
// when holder did not hold it; a Conflict error means the lease changed
// under it.
func ReleaseLease(ctx context.Context, s *Store[*Lease], namespace, name, holder string, clk clock.Clock) (bool, error) {
	cur, err := s.Get(ctx, namespace, name)
	if err != nil {
		return false, err
	}
	if holder == "" || cur.Holder() != holder {
		return false, nil
	}
	now := NewMicroTime(clk.Now())
	cur.Spec.HolderIdentity = nil
	cur.Spec.RenewTime = &now
	if _, err := s.Update(ctx, cur); err != nil {
		return false, err
	}
	return true, nil
}
