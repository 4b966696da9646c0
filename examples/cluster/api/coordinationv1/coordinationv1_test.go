package coordinationv1_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/api/coordinationv1"
	"github.com/governor-io/governor/store/meta"
)

func ExampleLeases() {
	holder := "node-1"
	l := &coordinationv1.Lease{ObjectMeta: meta.ObjectMeta{Name: "node-1", Namespace: "kube-node-lease"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder}}
	fmt.Println(coordinationv1.Leases.Cells(l, time.Now())[:2], coordinationv1.Leases.GroupResource())
	// Output: [node-1 node-1] leases.coordination.k8s.io
}

func TestLeaseValidation(t *testing.T) {
	d := int32(0)
	l := &coordinationv1.Lease{ObjectMeta: meta.ObjectMeta{Name: "x", Namespace: "y"}, Spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: &d}}
	if c := coordinationv1.Leases.Validate(l); len(c) != 1 || c[0].Field != "spec.leaseDurationSeconds" {
		t.Fatalf("causes %v", c)
	}
}
