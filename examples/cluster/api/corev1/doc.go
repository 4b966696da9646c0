// Package corev1 holds the core/v1 types the control plane serves (Pod,
// Node, Namespace, Service, ConfigMap, Secret, ServiceAccount, Event, and
// the Binding body of the pods/binding subresource) and one [api.Type]
// per resource: [Pods], [Nodes], [Namespaces], [Services], [ConfigMaps],
// [Secrets], [ServiceAccounts] and [Events].
//
// The JSON of every type is field for field that of k8s.io/api/core/v1.
// Fields the control plane acts on are modelled as Go fields; the rest of
// a pod spec (security contexts, cloud volume sources, resource claims, ...)
// is kept as [encoding/json.RawMessage], so that it round-trips
// unchanged. Struct tags carry Kubernetes' patchStrategy and
// patchMergeKey, which a strategic merge patch reads.
package corev1
