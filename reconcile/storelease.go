package reconcile

import (
	"context"
	"time"

	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
)

// storeLeaseLock is a LeaseLock over a Lease object in a store.
type storeLeaseLock struct {
	st              *store.Store[*store.Lease]
	namespace, name string
}

// StoreLeaseLock returns a [LeaseLock] that keeps the lease in the
// [store.Lease] object namespace/name of st, with Kubernetes'
// coordination.k8s.io/v1 Lease fields, so that every replica of a
// controller sharing the store (an embedded Raft KV, or etcd) can elect a
// leader through it.
func StoreLeaseLock(st *store.Store[*store.Lease], namespace, name string) LeaseLock {
	return &storeLeaseLock{st: st, namespace: namespace, name: name}
}

func (l *storeLeaseLock) Describe() string {
	return "leases/" + meta.NamespacedName{Namespace: l.namespace, Name: l.name}.String()
}

func (l *storeLeaseLock) Get(ctx context.Context) (LeaseRecord, string, error) {
	lease, err := l.st.Get(ctx, l.namespace, l.name)
	if err != nil {
		return LeaseRecord{}, "", err
	}
	s := lease.Spec
	rec := LeaseRecord{Holder: lease.Holder()}
	if s.LeaseDurationSeconds != nil {
		rec.Duration = time.Duration(*s.LeaseDurationSeconds) * time.Second
	}
	if s.AcquireTime != nil {
		rec.AcquireTime = s.AcquireTime.Time
	}
	if s.RenewTime != nil {
		rec.RenewTime = s.RenewTime.Time
	}
	if s.LeaseTransitions != nil {
		rec.Transitions = *s.LeaseTransitions
	}
	return rec, lease.ResourceVersion, nil
}

func (l *storeLeaseLock) toLease(rec LeaseRecord, version string) *store.Lease {
	secs := int32((rec.Duration + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	acquire, renew := meta.NewMicroTime(rec.AcquireTime), meta.NewMicroTime(rec.RenewTime)
	transitions := rec.Transitions
	lease := &store.Lease{ObjectMeta: meta.ObjectMeta{Namespace: l.namespace, Name: l.name, ResourceVersion: version}}
	lease.Spec = store.LeaseSpec{LeaseDurationSeconds: &secs, AcquireTime: &acquire, RenewTime: &renew,
		LeaseTransitions: &transitions}
	if rec.Holder != "" {
		holder := rec.Holder
		lease.Spec.HolderIdentity = &holder
	}
	return lease
}

func (l *storeLeaseLock) Create(ctx context.Context, rec LeaseRecord) (string, error) {
	out, err := l.st.Create(ctx, l.toLease(rec, ""))
	if err != nil {
		return "", err
	}
	return out.ResourceVersion, nil
}

func (l *storeLeaseLock) Update(ctx context.Context, rec LeaseRecord, version string) (string, error) {
	out, err := l.st.Update(ctx, l.toLease(rec, version))
	if err != nil {
		return "", err
	}
	return out.ResourceVersion, nil
}
