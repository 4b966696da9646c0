package apiserver

import (
	"errors"

	"github.com/governor-io/governor/examples/cluster/api/admissionregistrationv1"
	"github.com/governor-io/governor/examples/cluster/api/appsv1"
	"github.com/governor-io/governor/examples/cluster/api/coordinationv1"
	"github.com/governor-io/governor/examples/cluster/api/corev1"
	"github.com/governor-io/governor/examples/cluster/api/discoveryv1"
	"github.com/governor-io/governor/examples/cluster/api/eventsv1"
	"github.com/governor-io/governor/examples/cluster/api/rbacv1"
	"github.com/governor-io/governor/examples/cluster/api/schedulingv1"
)

// InstallBuiltins registers every built-in resource of package api's
// group packages (the list of api/builtin), each with its own Go type:
// the store finds a type's status and spec through that type, and
// strategic merge patch its patch merge keys, so the typed values are
// registered rather than api/builtin's type-erased ones.
func InstallBuiltins(s *Server) error {
	return errors.Join(
		Register(s, corev1.Namespaces),
		Register(s, corev1.Pods),
		Register(s, corev1.Nodes),
		Register(s, corev1.Services),
		Register(s, corev1.ConfigMaps),
		Register(s, corev1.Secrets),
		Register(s, corev1.ServiceAccounts),
		Register(s, corev1.Events),
		Register(s, appsv1.Deployments),
		Register(s, appsv1.ReplicaSets),
		Register(s, eventsv1.Events),
		Register(s, rbacv1.ClusterRoles),
		Register(s, rbacv1.ClusterRoleBindings),
		Register(s, rbacv1.Roles),
		Register(s, rbacv1.RoleBindings),
		Register(s, admissionregistrationv1.MutatingWebhookConfigurations),
		Register(s, admissionregistrationv1.ValidatingWebhookConfigurations),
		InstallCustomResources(s),
		Register(s, schedulingv1.PriorityClasses),
		Register(s, coordinationv1.Leases),
		Register(s, discoveryv1.EndpointSlices),
	)
}
