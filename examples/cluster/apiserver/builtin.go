package apiserver

import (
	"errors"

	"github.com/governor-io/governor/examples/cluster/api/appsv1"
	"github.com/governor-io/governor/examples/cluster/api/corev1"
)

// InstallBuiltins registers every built-in resource of package api's
// group packages: core/v1 namespaces, pods, nodes, services, configmaps,
// secrets, serviceaccounts and events, and apps/v1 deployments and
// replicasets.
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
	)
}
