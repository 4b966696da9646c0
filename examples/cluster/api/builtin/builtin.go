// Package builtin lists every built-in resource of the control plane,
// for an API server to install:
//
//	err := builtin.Install(builtin.RegistrarFunc(func(t api.Type[meta.Object]) error {
//		return apiserver.Register(srv, t)
//	}))
//
// The list is type-erased ([api.Type.Erase]) so that one generic
// instantiation serves them all; typed code (a client, a controller)
// uses the typed values of the group packages, such as corev1.Pods.
package builtin

import (
	"fmt"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/examples/cluster/api/admissionregistrationv1"
	"github.com/governor-io/governor/examples/cluster/api/apiextensionsv1"
	"github.com/governor-io/governor/examples/cluster/api/appsv1"
	"github.com/governor-io/governor/examples/cluster/api/coordinationv1"
	"github.com/governor-io/governor/examples/cluster/api/corev1"
	"github.com/governor-io/governor/examples/cluster/api/discoveryv1"
	"github.com/governor-io/governor/examples/cluster/api/eventsv1"
	"github.com/governor-io/governor/examples/cluster/api/rbacv1"
	"github.com/governor-io/governor/examples/cluster/api/schedulingv1"
	"github.com/governor-io/governor/store/meta"
)

// Registrar installs one resource; an API server implements it.
type Registrar interface {
	Register(t api.Type[meta.Object]) error
}

// RegistrarFunc adapts a function to [Registrar].
type RegistrarFunc func(t api.Type[meta.Object]) error

// Register calls f(t).
func (f RegistrarFunc) Register(t api.Type[meta.Object]) error { return f(t) }

// All returns every built-in resource, core group first, then the named
// groups in the order discovery lists them.
func All() []api.Type[meta.Object] {
	return []api.Type[meta.Object]{
		corev1.Namespaces.Erase(),
		corev1.Pods.Erase(),
		corev1.Nodes.Erase(),
		corev1.Services.Erase(),
		corev1.ConfigMaps.Erase(),
		corev1.Secrets.Erase(),
		corev1.ServiceAccounts.Erase(),
		corev1.Events.Erase(),
		appsv1.Deployments.Erase(),
		appsv1.ReplicaSets.Erase(),
		eventsv1.Events.Erase(),
		rbacv1.ClusterRoles.Erase(),
		rbacv1.ClusterRoleBindings.Erase(),
		rbacv1.Roles.Erase(),
		rbacv1.RoleBindings.Erase(),
		admissionregistrationv1.MutatingWebhookConfigurations.Erase(),
		admissionregistrationv1.ValidatingWebhookConfigurations.Erase(),
		apiextensionsv1.CustomResourceDefinitions.Erase(),
		schedulingv1.PriorityClasses.Erase(),
		coordinationv1.Leases.Erase(),
		discoveryv1.EndpointSlices.Erase(),
	}
}

// Install registers every resource of [All] with r, stopping at the
// first error.
func Install(r Registrar) error {
	for _, t := range All() {
		if err := r.Register(t); err != nil {
			return fmt.Errorf("builtin: install %s: %w", t.GroupResource(), err)
		}
	}
	return nil
}
