package store_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
)

func TestLeaseWireFormat(t *testing.T) {
	holder := "node-1"
	d := int32(15)
	tr := int32(2)
	now := meta.NewMicroTime(time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC))
	l := &store.Lease{TypeMeta: meta.TypeMeta{Kind: "Lease", APIVersion: "coordination.k8s.io/v1"},
		ObjectMeta: meta.ObjectMeta{Name: "x", Namespace: "kube-system"},
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
	if _, err := store.LeaseResource().Decode([]byte(`{"spec":{"renewTime":"yesterday"}}`)); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("bad time: %v", err)
	}
	bad := int32(-1)
	l.Spec.LeaseDurationSeconds = &bad
	e := newEnv(t)
	s := store.New(e.kv, store.LeaseResource())
	l.ResourceVersion = ""
	if _, err := s.Create(ctxT(t), l); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("negative duration: %v", err)
	}
}

func TestLeaseDeepCopy(t *testing.T) {
	name := "a"
	l := &store.Lease{Spec: store.LeaseSpec{HolderIdentity: &name}}
	lc := meta.DeepCopy(l)
	*lc.Spec.HolderIdentity = "z"
	if *l.Spec.HolderIdentity != "a" {
		t.Fatal("Lease.DeepCopy shares memory")
	}
}
