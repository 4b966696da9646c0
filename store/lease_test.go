package store_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/governor-io/governor/store"
)

func TestLeaseAcquireRenewRelease(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	s := store.NewWithOptions(e.kv, store.LeaseResource(), store.Options{Clock: e.clock})
	clk := e.clock

	l, ok, err := store.TryAcquireLease(ctx, s, "ns", "leader", "alice", 15*time.Second, clk)
	if err != nil || !ok || l.Holder() != "alice" || *l.Spec.LeaseDurationSeconds != 15 || *l.Spec.LeaseTransitions != 0 {
		t.Fatalf("first acquire: %+v %v %v", l, ok, err)
	}
	if !l.HeldBy("alice", clk.Now()) || l.Free(clk.Now()) {
		t.Fatal("a fresh lease is not held")
	}
	// Bob cannot take a live lease.
	clk.Step(10 * time.Second)
	l2, ok, err := store.TryAcquireLease(ctx, s, "ns", "leader", "bob", 15*time.Second, clk)
	if err != nil || ok || l2.Holder() != "alice" {
		t.Fatalf("bob took a live lease: %v %v", ok, err)
	}
	// Alice renews: renewTime moves, acquireTime stays.
	l3, ok, err := store.TryAcquireLease(ctx, s, "ns", "leader", "alice", 15*time.Second, clk)
	if err != nil || !ok || !l3.Spec.RenewTime.Equal(clk.Now()) || !l3.Spec.AcquireTime.Equal(epoch) {
		t.Fatalf("renew: %+v %v %v", l3.Spec, ok, err)
	}
	// Once it lapses, Bob takes it and the transitions grow.
	clk.Step(15 * time.Second)
	l4, ok, err := store.TryAcquireLease(ctx, s, "ns", "leader", "bob", 15*time.Second, clk)
	if err != nil || !ok || l4.Holder() != "bob" || *l4.Spec.LeaseTransitions != 1 || !l4.Spec.AcquireTime.Equal(clk.Now()) {
		t.Fatalf("takeover: %+v %v %v", l4.Spec, ok, err)
	}
	// Alice's renewal now fails without writing.
	if _, ok, err := store.TryAcquireLease(ctx, s, "ns", "leader", "alice", 15*time.Second, clk); ok || err != nil {
		t.Fatalf("alice renewed a lost lease: %v %v", ok, err)
	}
	// Release: only the holder can; then anyone takes it at once.
	if released, err := store.ReleaseLease(ctx, s, "ns", "leader", "alice", clk); released || err != nil {
		t.Fatalf("alice released bob's lease: %v %v", released, err)
	}
	if released, err := store.ReleaseLease(ctx, s, "ns", "leader", "bob", clk); !released || err != nil {
		t.Fatalf("bob's release: %v %v", released, err)
	}
	l5, ok, err := store.TryAcquireLease(ctx, s, "ns", "leader", "alice", 15*time.Second, clk)
	if err != nil || !ok || *l5.Spec.LeaseTransitions != 2 {
		t.Fatalf("acquire after release: %+v %v %v", l5.Spec, ok, err)
	}
	// Bad arguments.
	if _, _, err := store.TryAcquireLease(ctx, s, "ns", "leader", "", time.Second, clk); !errors.Is(err, store.ErrBadRequest) {
		t.Fatalf("empty holder: %v", err)
	}
	if _, _, err := store.TryAcquireLease(ctx, s, "ns", "leader", "x", 0, clk); !errors.Is(err, store.ErrBadRequest) {
		t.Fatalf("zero duration: %v", err)
	}
}

// TestLeaseIsExclusive races candidates for an expired lease: exactly one
// wins each round.
func TestLeaseIsExclusive(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	s := store.NewWithOptions(e.kv, store.LeaseResource(), store.Options{Clock: e.clock})
	for round := range 10 {
		e.clock.Step(time.Minute) // whatever was held has lapsed
		wins := make(chan string, 4)
		errs := make(chan error, 4)
		for _, who := range []string{"a", "b", "c", "d"} {
			go func() {
				_, ok, err := store.TryAcquireLease(ctx, s, "ns", "l", who, 10*time.Second, e.clock)
				if err != nil && !errors.Is(err, store.ErrConflict) {
					errs <- err
					return
				}
				if ok {
					wins <- who
				} else {
					wins <- ""
				}
			}()
		}
		winners := 0
		for range 4 {
			select {
			case w := <-wins:
				if w != "" {
					winners++
				}
			case err := <-errs:
				t.Fatal(err)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d winners", round, winners)
		}
	}
}

func TestLeaseWireFormat(t *testing.T) {
	holder := "node-1"
	d := int32(15)
	tr := int32(2)
	now := store.NewMicroTime(time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC))
	l := &store.Lease{TypeMeta: store.TypeMeta{Kind: "Lease", APIVersion: "coordination.k8s.io/v1"},
		ObjectMeta: store.ObjectMeta{Name: "x", Namespace: "kube-system"},
		Spec:       store.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &d, AcquireTime: &now, RenewTime: &now, LeaseTransitions: &tr}}
	data, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":"x","namespace":"kube-system"},"spec":{"holderIdentity":"node-1","leaseDurationSeconds":15,"acquireTime":"2026-01-02T03:04:05.123456Z","renewTime":"2026-01-02T03:04:05.123456Z","leaseTransitions":2}}`
	if string(data) != want {
		t.Fatalf("JSON\n got %s\nwant %s", data, want)
	}
	var back store.Lease
	if err := json.Unmarshal(data, &back); err != nil || !back.Spec.RenewTime.Equal(now.Time) {
		t.Fatalf("round trip: %v %v", err, back.Spec.RenewTime)
	}
	if _, err := store.LeaseResource().Decode([]byte(`{"spec":{"renewTime":"yesterday"}}`)); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad time: %v", err)
	}
	bad := int32(-1)
	l.Spec.LeaseDurationSeconds = &bad
	e := newEnv(t)
	s := store.New(e.kv, store.LeaseResource())
	l.ResourceVersion = ""
	if _, err := s.Create(ctxT(t), l); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("negative duration: %v", err)
	}
}

func TestLeaseDeepCopy(t *testing.T) {
	name := "a"
	l := &store.Lease{Spec: store.LeaseSpec{HolderIdentity: &name}}
	lc := store.DeepCopy(l)
	*lc.Spec.HolderIdentity = "z"
	if *l.Spec.HolderIdentity != "a" {
		t.Fatal("Lease.DeepCopy shares memory")
	}
}
