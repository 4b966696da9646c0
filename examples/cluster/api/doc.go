// Package api describes the resources the example control plane serves.
//
// Every resource is described by one [Type] value: its group, version,
// kind and plural name, whether it is namespaced, its short names and
// categories (what `kubectl api-resources` shows), its subresources, the
// fields a field selector may name, the columns `kubectl get` prints and
// how to fill them, and how to validate an object. The API server serves
// any Type it is given, the client talks to any Type, and the store keeps
// it through [Type.StoreResource].
//
// The built-in types live in subpackages named like client-go's import
// aliases: api/corev1 (pods, nodes, services, ...), api/appsv1
// (deployments, replicasets), api/autoscalingv1 (the scale subresource's
// body), api/discoveryv1, api/coordinationv1, api/eventsv1,
// api/schedulingv1, api/rbacv1, api/admissionregistrationv1 and
// api/apiextensionsv1. Their JSON is field for field Kubernetes' own, so
// kubectl and client-go read and write them unchanged; the interop module
// (examples/cluster/interop) checks that against k8s.io/api. Package
// api/builtin lists them all for an API server to install.
//
// Every type has DeepCopy and DeepCopyInto methods, and every object
// DeepCopyObject, so meta.DeepCopy copies without reflection; they are
// generated (zz_generated_deepcopy.go) by internal/deepcopygen, which
// `go generate ./api` runs.
//
// This package imports nothing from k8s.io: the runtime binary links no
// Kubernetes module.
package api
