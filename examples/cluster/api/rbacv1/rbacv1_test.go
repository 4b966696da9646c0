package rbacv1_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/api/rbacv1"
	"github.com/governor-io/governor/store/meta"
)

func ExampleRoleBindings() {
	b := &rbacv1.RoleBinding{ObjectMeta: meta.ObjectMeta{Name: "read-pods", Namespace: "default"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "pod-reader"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "jane"},
			{Kind: "ServiceAccount", Name: "builder", Namespace: "ci"}}}
	c := rbacv1.RoleBindings.Cells(b, time.Now())
	fmt.Printf("%v|%v|%v|%v\n", c[1], c[3], c[4], c[5])
	// Output: Role/pod-reader|jane||ci/builder
}

func TestRBACValidation(t *testing.T) {
	role := &rbacv1.Role{ObjectMeta: meta.ObjectMeta{Name: "system:reader", Namespace: "default"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}
	if c := rbacv1.Roles.Validate(role); len(c) != 0 {
		t.Fatalf("valid role: %v", c)
	}
	role.Rules = append(role.Rules, rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}}, rbacv1.PolicyRule{})
	c := rbacv1.Roles.Validate(role)
	if len(c) != 4 || c[0].Field != "rules[1].nonResourceURLs" || c[1].Field != "rules[2].verbs" {
		t.Fatalf("causes %v", c)
	}
	cr := &rbacv1.ClusterRole{ObjectMeta: meta.ObjectMeta{Name: "health"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}}}}
	if c := rbacv1.ClusterRoles.Validate(cr); len(c) != 0 {
		t.Fatalf("cluster role with non-resource URL: %v", c)
	}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: meta.ObjectMeta{Name: "b"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "x"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "sa"}, {Kind: "Robot", Name: "r"}}}
	c = rbacv1.ClusterRoleBindings.Validate(crb)
	if len(c) != 3 || c[0].Field != "roleRef.kind" || c[1].Field != "subjects[0].namespace" || c[2].Field != "subjects[1].kind" {
		t.Fatalf("causes %v", c)
	}
	moved := meta.DeepCopy(crb)
	moved.RoleRef.Name = "y"
	if c := rbacv1.ClusterRoleBindings.ValidateUpdate(crb, moved); len(c) != 1 {
		t.Fatalf("roleRef change: %v", c)
	}
}
