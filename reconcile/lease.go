package reconcile

import (
	"context"
	"time"
)

// LeaseRecord is the state of a leader lease as an [Elector] reads and
// writes it.
type LeaseRecord struct {
	// Holder is the identity of the leader, or "" when the lease is free.
	Holder string
	// Duration is how long the lease lasts after its last renewal, as
	// observed by the other candidates on their own clocks.
	Duration time.Duration
	// AcquireTime is when the holder acquired the lease.
	AcquireTime time.Time
	// RenewTime is when the holder last renewed it.
	RenewTime time.Time
	// Transitions counts the changes of holder.
	Transitions int32
}

// LeaseLock reads and writes one lease record with optimistic concurrency.
// [StoreLeaseLock] keeps the record in a [store.Store] of Lease objects;
// [github.com/governor-io/governor/reconcile/reconciletest.MemoryLeaseLock]
// keeps it in memory, for tests. Anything that offers compare-and-swap can
// implement it.
//
// Implementations return an error matching meta.ErrNotFound from Get when
// the lease does not exist, meta.ErrAlreadyExists from Create when it
// does, and meta.ErrConflict from Update when version is stale.
type LeaseLock interface {
	// Get returns the record and an opaque version for Update.
	Get(ctx context.Context) (LeaseRecord, string, error)
	// Create writes the first record.
	Create(ctx context.Context, rec LeaseRecord) (string, error)
	// Update replaces the record if it is still at version.
	Update(ctx context.Context, rec LeaseRecord, version string) (string, error)
	// Describe names the lock in logs, such as "leases/kube-system/my-controller".
	Describe() string
}
