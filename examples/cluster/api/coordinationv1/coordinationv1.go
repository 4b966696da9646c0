// Package coordinationv1 describes the coordination.k8s.io/v1 leases
// resource: node heartbeats and leader election. Its type is the store's
// own [store.Lease], so Governor's leader election runs unchanged against
// an API server.
package coordinationv1

import (
	"time"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
)

// Lease is coordination.k8s.io/v1 Lease: [store.Lease].
type Lease = store.Lease

// LeaseSpec is the state of a [Lease].
type LeaseSpec = store.LeaseSpec

// Leases describes the leases resource.
var Leases = api.Type[*Lease]{
	Group: "coordination.k8s.io", Version: "v1", Kind: "Lease", Resource: "leases", Singular: "lease", Namespaced: true,
	Columns: api.Columns(api.Column("Holder", "The holder of the lease."), api.AgeColumn),
	Cells: func(l *Lease, now time.Time) []any {
		holder := ""
		if l.Spec.HolderIdentity != nil {
			holder = *l.Spec.HolderIdentity
		}
		return []any{l.Name, holder, api.Age(l.CreationTimestamp, now)}
	},
	Validate: func(l *Lease) []meta.Cause {
		causes := api.ValidateObjectMeta(&l.ObjectMeta, true, api.DNS1123Subdomain)
		if d := l.Spec.LeaseDurationSeconds; d != nil && *d <= 0 {
			causes = append(causes, api.Invalid("spec.leaseDurationSeconds", *d, "must be greater than 0"))
		}
		if t := l.Spec.LeaseTransitions; t != nil && *t < 0 {
			causes = append(causes, api.Invalid("spec.leaseTransitions", *t, "must be greater than or equal to 0"))
		}
		return causes
	},
	New: func() *Lease { return new(Lease) },
}
