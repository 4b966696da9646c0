package reconcile

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/governor-io/governor/store"
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
// [StoreLeaseLock] keeps the record in a [store.Store] of Lease objects; a
// test can implement it over anything that offers compare-and-swap.
//
// Implementations return an error matching store.ErrNotFound from Get when
// the lease does not exist, store.ErrAlreadyExists from Create when it
// does, and store.ErrConflict from Update when version is stale.
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

// MemoryLeaseLock is a [LeaseLock] held in memory, for candidates that run
// in one process (tests, mostly). Its zero value is an absent lease.
type MemoryLeaseLock struct {
	// Name names the lease in logs.
	Name string

	mu      sync.Mutex
	rec     LeaseRecord
	version int64 // 0: absent
}

// Get returns the record, or a NotFound error.
func (l *MemoryLeaseLock) Get(context.Context) (LeaseRecord, string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.version == 0 {
		return LeaseRecord{}, "", store.NewNotFound("leases", l.Name)
	}
	return l.rec, strconv.FormatInt(l.version, 10), nil
}

// Create writes the first record, or fails with AlreadyExists.
func (l *MemoryLeaseLock) Create(_ context.Context, rec LeaseRecord) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.version != 0 {
		return "", store.NewAlreadyExists("leases", l.Name)
	}
	l.rec, l.version = rec, 1
	return "1", nil
}

// Update replaces the record if it is at version, or fails with Conflict.
func (l *MemoryLeaseLock) Update(_ context.Context, rec LeaseRecord, version string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.version == 0 {
		return "", store.NewNotFound("leases", l.Name)
	}
	if strconv.FormatInt(l.version, 10) != version {
		return "", store.NewConflict("leases", l.Name, "the lease has changed")
	}
	l.version++
	l.rec = rec
	return strconv.FormatInt(l.version, 10), nil
}

// Describe returns "leases/" + Name.
func (l *MemoryLeaseLock) Describe() string { return "leases/" + l.Name }
