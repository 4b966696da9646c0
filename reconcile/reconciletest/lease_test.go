package reconciletest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/reconcile/reconciletest"
	"github.com/governor-io/governor/store/meta"
)

// The fake keeps the contract of reconcile.LeaseLock that the elector
// relies on: NotFound before the first Create, AlreadyExists after it,
// Conflict on a stale version.
func TestMemoryLeaseLockKeepsTheLeaseLockContract(t *testing.T) {
	ctx := context.Background()
	var lock reconcile.LeaseLock = &reconciletest.MemoryLeaseLock{Name: "l"}
	if _, _, err := lock.Get(ctx); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("Get of an absent lease: %v, want NotFound", err)
	}
	if _, err := lock.Update(ctx, reconcile.LeaseRecord{Holder: "a"}, "1"); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("Update of an absent lease: %v, want NotFound", err)
	}
	v1, err := lock.Create(ctx, reconcile.LeaseRecord{Holder: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Create(ctx, reconcile.LeaseRecord{Holder: "b"}); !errors.Is(err, meta.ErrAlreadyExists) {
		t.Fatalf("second Create: %v, want AlreadyExists", err)
	}
	v2, err := lock.Update(ctx, reconcile.LeaseRecord{Holder: "b"}, v1)
	if err != nil || v2 == v1 {
		t.Fatalf("Update at the current version = %q, %v", v2, err)
	}
	if _, err := lock.Update(ctx, reconcile.LeaseRecord{Holder: "c"}, v1); !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("Update at a stale version: %v, want Conflict", err)
	}
	rec, v, err := lock.Get(ctx)
	if err != nil || rec.Holder != "b" || v != v2 {
		t.Fatalf("Get = %+v, %q, %v; want holder b at %q", rec, v, err, v2)
	}
	if lock.Describe() != "leases/l" {
		t.Errorf("Describe = %q", lock.Describe())
	}
}
