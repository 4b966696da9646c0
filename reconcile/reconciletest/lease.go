package reconciletest

import (
	"context"
	"strconv"
	"sync"

	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store/meta"
)

// MemoryLeaseLock is a [reconcile.LeaseLock] held in memory, for
// candidates that run in one process: the fake of
// [reconcile.StoreLeaseLock], for tests of leader election. Its zero value
// is an absent lease.
type MemoryLeaseLock struct {
	// Name names the lease in logs.
	Name string

	mu      sync.Mutex
	rec     reconcile.LeaseRecord
	version int64 // 0: absent
}

// Get returns the record, or a NotFound error.
func (l *MemoryLeaseLock) Get(context.Context) (reconcile.LeaseRecord, string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.version == 0 {
		return reconcile.LeaseRecord{}, "", meta.NewNotFound("leases", l.Name)
	}
	return l.rec, strconv.FormatInt(l.version, 10), nil
}

// Create writes the first record, or fails with AlreadyExists.
func (l *MemoryLeaseLock) Create(_ context.Context, rec reconcile.LeaseRecord) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.version != 0 {
		return "", meta.NewAlreadyExists("leases", l.Name)
	}
	l.rec, l.version = rec, 1
	return "1", nil
}

// Update replaces the record if it is at version, or fails with Conflict.
func (l *MemoryLeaseLock) Update(_ context.Context, rec reconcile.LeaseRecord, version string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.version == 0 {
		return "", meta.NewNotFound("leases", l.Name)
	}
	if strconv.FormatInt(l.version, 10) != version {
		return "", meta.NewConflict("leases", l.Name, "the lease has changed")
	}
	l.version++
	l.rec = rec
	return strconv.FormatInt(l.version, 10), nil
}

// Describe returns "leases/" + Name.
func (l *MemoryLeaseLock) Describe() string { return "leases/" + l.Name }
