// Package rbacv1 holds the rbac.authorization.k8s.io/v1 types (Role,
// ClusterRole, RoleBinding, ClusterRoleBinding) that the API server's
// authorizer reads, and their [api.Type] descriptors.
package rbacv1

import (
	"fmt"
	"strings"
	"time"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/store/meta"
)

// GroupName is the API group of the RBAC types.
const GroupName = "rbac.authorization.k8s.io"

// Role is a namespaced set of permissions: rbac.authorization.k8s.io/v1
// Role.
type Role struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	Rules           []PolicyRule `json:"rules"`
}

// ClusterRole is a cluster-wide set of permissions.
type ClusterRole struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	Rules           []PolicyRule `json:"rules"`
	// AggregationRule, when set, makes the controller fill Rules from
	// the cluster roles its selectors match.
	AggregationRule *AggregationRule `json:"aggregationRule,omitempty"`
}

// AggregationRule selects the cluster roles whose rules are aggregated.
type AggregationRule struct {
	ClusterRoleSelectors []api.LabelSelector `json:"clusterRoleSelectors,omitempty"`
}

// PolicyRule allows verbs on resources (or non-resource URLs). "*" is a
// wildcard in every list.
type PolicyRule struct {
	Verbs           []string `json:"verbs"`
	APIGroups       []string `json:"apiGroups,omitempty"`
	Resources       []string `json:"resources,omitempty"`
	ResourceNames   []string `json:"resourceNames,omitempty"`
	NonResourceURLs []string `json:"nonResourceURLs,omitempty"`
}

// RoleBinding grants a role's permissions to subjects within a
// namespace.
type RoleBinding struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	Subjects        []Subject `json:"subjects,omitempty"`
	RoleRef         RoleRef   `json:"roleRef"`
}

// ClusterRoleBinding grants a cluster role's permissions cluster-wide.
type ClusterRoleBinding struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	Subjects        []Subject `json:"subjects,omitempty"`
	RoleRef         RoleRef   `json:"roleRef"`
}

// Subject is a user, a group or a service account.
type Subject struct {
	// Kind is User, Group or ServiceAccount.
	Kind      string `json:"kind"`
	APIGroup  string `json:"apiGroup,omitempty"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// RoleRef names the Role or ClusterRole a binding grants.
type RoleRef struct {
	APIGroup string `json:"apiGroup"`
	Kind     string `json:"kind"`
	Name     string `json:"name"`
}

func validateRules(rules []PolicyRule, namespaced bool) []meta.Cause {
	var causes []meta.Cause
	for i, r := range rules {
		p := fmt.Sprintf("rules[%d]", i)
		if len(r.Verbs) == 0 {
			causes = append(causes, api.Required(p+".verbs", "verbs must contain at least one value"))
		}
		if len(r.NonResourceURLs) > 0 {
			if namespaced {
				causes = append(causes, api.Invalid(p+".nonResourceURLs", strings.Join(r.NonResourceURLs, ","),
					"namespaced rules cannot apply to non-resource URLs"))
			}
			if len(r.APIGroups) > 0 || len(r.Resources) > 0 || len(r.ResourceNames) > 0 {
				causes = append(causes, api.Invalid(p+".nonResourceURLs", strings.Join(r.NonResourceURLs, ","),
					"rules cannot apply to both regular resources and non-resource URLs"))
			}
			continue
		}
		if len(r.APIGroups) == 0 {
			causes = append(causes, api.Required(p+".apiGroups", "resource rules must supply at least one api group"))
		}
		if len(r.Resources) == 0 {
			causes = append(causes, api.Required(p+".resources", "resource rules must supply at least one resource"))
		}
	}
	return causes
}

func validateBinding(subjects []Subject, ref RoleRef, namespaced bool) []meta.Cause {
	var causes []meta.Cause
	if ref.APIGroup != GroupName {
		causes = append(causes, api.NotSupported("roleRef.apiGroup", ref.APIGroup, GroupName))
	}
	switch {
	case ref.Kind == "ClusterRole", ref.Kind == "Role" && namespaced:
	case namespaced:
		causes = append(causes, api.NotSupported("roleRef.kind", ref.Kind, "ClusterRole", "Role"))
	default:
		causes = append(causes, api.NotSupported("roleRef.kind", ref.Kind, "ClusterRole"))
	}
	if ref.Name == "" {
		causes = append(causes, api.Required("roleRef.name", ""))
	} else {
		for _, msg := range api.PathSegmentName(ref.Name, false) {
			causes = append(causes, api.Invalid("roleRef.name", ref.Name, msg))
		}
	}
	for i, s := range subjects {
		p := fmt.Sprintf("subjects[%d]", i)
		if s.Name == "" {
			causes = append(causes, api.Required(p+".name", ""))
		}
		switch s.Kind {
		case "ServiceAccount":
			if s.APIGroup != "" {
				causes = append(causes, api.NotSupported(p+".apiGroup", s.APIGroup, ""))
			}
			if !namespaced && s.Namespace == "" {
				causes = append(causes, api.Required(p+".namespace", ""))
			}
		case "User", "Group":
			if s.APIGroup != GroupName {
				causes = append(causes, api.NotSupported(p+".apiGroup", s.APIGroup, GroupName))
			}
		default:
			causes = append(causes, api.NotSupported(p+".kind", s.Kind, "Group", "ServiceAccount", "User"))
		}
	}
	return causes
}

func immutableRoleRef(o, n RoleRef) []meta.Cause {
	if o != n {
		return []meta.Cause{api.Invalid("roleRef", fmt.Sprintf("%s/%s", n.Kind, n.Name), "cannot change roleRef")}
	}
	return nil
}

// createdAt is the cell of a CREATED AT column.
func createdAt(t meta.Time) string { return t.UTC().Format(time.RFC3339) }

// bindingCells are the cells kubectl prints for a binding: the role,
// the age, and (wide) its users, groups and service accounts.
func bindingCells(name string, created meta.Time, ref RoleRef, subjects []Subject, now time.Time) []any {
	var users, groups, sas []string
	for _, s := range subjects {
		switch s.Kind {
		case "User":
			users = append(users, s.Name)
		case "Group":
			groups = append(groups, s.Name)
		case "ServiceAccount":
			sas = append(sas, s.Namespace+"/"+s.Name)
		}
	}
	return []any{name, ref.Kind + "/" + ref.Name, api.Age(created, now),
		strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", ")}
}

var bindingColumns = api.Columns(
	api.Column("Role", "Role is the role being referenced."),
	api.AgeColumn,
	api.WideColumn("Users", "Users in the roleBinding"),
	api.WideColumn("Groups", "Groups in the roleBinding"),
	api.WideColumn("ServiceAccounts", "ServiceAccounts in the roleBinding"),
)

// Roles describes the roles resource.
var Roles = api.Type[*Role]{
	Group: GroupName, Version: "v1", Kind: "Role", Resource: "roles", Singular: "role", Namespaced: true,
	Columns: api.Columns(api.CreatedAtColumn),
	Cells:   func(r *Role, _ time.Time) []any { return []any{r.Name, createdAt(r.CreationTimestamp)} },
	Validate: func(r *Role) []meta.Cause {
		return append(api.ValidateObjectMeta(&r.ObjectMeta, true, api.PathSegmentName), validateRules(r.Rules, true)...)
	},
	New: func() *Role { return new(Role) },
}

// ClusterRoles describes the clusterroles resource.
var ClusterRoles = api.Type[*ClusterRole]{
	Group: GroupName, Version: "v1", Kind: "ClusterRole", Resource: "clusterroles", Singular: "clusterrole",
	Columns: api.Columns(api.CreatedAtColumn),
	Cells:   func(r *ClusterRole, _ time.Time) []any { return []any{r.Name, createdAt(r.CreationTimestamp)} },
	Validate: func(r *ClusterRole) []meta.Cause {
		causes := append(api.ValidateObjectMeta(&r.ObjectMeta, false, api.PathSegmentName), validateRules(r.Rules, false)...)
		if a := r.AggregationRule; a != nil {
			if len(a.ClusterRoleSelectors) == 0 {
				causes = append(causes, api.Required("aggregationRule.clusterRoleSelectors", "at least one clusterRoleSelector required if aggregationRule is non-nil"))
			}
			for i := range a.ClusterRoleSelectors {
				if _, err := a.ClusterRoleSelectors[i].Selector(); err != nil {
					causes = append(causes, api.Invalid(fmt.Sprintf("aggregationRule.clusterRoleSelectors[%d]", i),
						a.ClusterRoleSelectors[i].String(), err.Error()))
				}
			}
		}
		return causes
	},
	New: func() *ClusterRole { return new(ClusterRole) },
}

// RoleBindings describes the rolebindings resource.
var RoleBindings = api.Type[*RoleBinding]{
	Group: GroupName, Version: "v1", Kind: "RoleBinding", Resource: "rolebindings", Singular: "rolebinding", Namespaced: true,
	Columns: bindingColumns,
	Cells: func(b *RoleBinding, now time.Time) []any {
		return bindingCells(b.Name, b.CreationTimestamp, b.RoleRef, b.Subjects, now)
	},
	Validate: func(b *RoleBinding) []meta.Cause {
		return append(api.ValidateObjectMeta(&b.ObjectMeta, true, api.PathSegmentName), validateBinding(b.Subjects, b.RoleRef, true)...)
	},
	ValidateUpdate: func(o, n *RoleBinding) []meta.Cause { return immutableRoleRef(o.RoleRef, n.RoleRef) },
	New:            func() *RoleBinding { return new(RoleBinding) },
}

// ClusterRoleBindings describes the clusterrolebindings resource.
var ClusterRoleBindings = api.Type[*ClusterRoleBinding]{
	Group: GroupName, Version: "v1", Kind: "ClusterRoleBinding", Resource: "clusterrolebindings", Singular: "clusterrolebinding",
	Columns: bindingColumns,
	Cells: func(b *ClusterRoleBinding, now time.Time) []any {
		return bindingCells(b.Name, b.CreationTimestamp, b.RoleRef, b.Subjects, now)
	},
	Validate: func(b *ClusterRoleBinding) []meta.Cause {
		return append(api.ValidateObjectMeta(&b.ObjectMeta, false, api.PathSegmentName), validateBinding(b.Subjects, b.RoleRef, false)...)
	},
	ValidateUpdate: func(o, n *ClusterRoleBinding) []meta.Cause { return immutableRoleRef(o.RoleRef, n.RoleRef) },
	New:            func() *ClusterRoleBinding { return new(ClusterRoleBinding) },
}
