package corev1

import (
	"encoding/json"
	"github.com/governor-io/governor/examples/cluster/api"

	"github.com/governor-io/governor/store/meta"
)

// Namespace is a scope for names: core/v1 Namespace.
type Namespace struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            NamespaceSpec   `json:"spec,omitempty"`
	Status          NamespaceStatus `json:"status,omitempty"`
}

// NamespaceSpec holds the finalizers that must run before a namespace
// goes away ("kubernetes").
type NamespaceSpec struct {
	Finalizers []string `json:"finalizers,omitempty"`
}

// NamespaceStatus is Active or Terminating, with conditions.
type NamespaceStatus struct {
	Phase      NamespacePhase       `json:"phase,omitempty"`
	Conditions []NamespaceCondition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// NamespacePhase is the phase of a namespace.
type NamespacePhase string

// The values of [NamespacePhase].
const (
	NamespaceActive      NamespacePhase = "Active"
	NamespaceTerminating NamespacePhase = "Terminating"
)

// NamespaceCondition is one condition of a namespace.
type NamespaceCondition struct {
	Type               string          `json:"type"`
	Status             ConditionStatus `json:"status"`
	LastTransitionTime meta.Time       `json:"lastTransitionTime,omitempty"`
	Reason             string          `json:"reason,omitempty"`
	Message            string          `json:"message,omitempty"`
}

// Node is a machine that runs pods: core/v1 Node.
type Node struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            NodeSpec   `json:"spec,omitempty"`
	Status          NodeStatus `json:"status,omitempty"`
}

// NodeSpec is the desired state of a [Node].
type NodeSpec struct {
	PodCIDR    string   `json:"podCIDR,omitempty"`
	PodCIDRs   []string `json:"podCIDRs,omitempty" patchStrategy:"merge"`
	ProviderID string   `json:"providerID,omitempty"`
	// Unschedulable keeps new pods off the node (kubectl cordon).
	Unschedulable       bool            `json:"unschedulable,omitempty"`
	Taints              []Taint         `json:"taints,omitempty"`
	ConfigSource        json.RawMessage `json:"configSource,omitempty"`
	DoNotUseExternalID  string          `json:"externalID,omitempty"`
	PodPreemptionPolicy json.RawMessage `json:"podPreemptionPolicy,omitempty"`
}

// Taint repels pods that do not tolerate it.
type Taint struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
	// Effect is NoSchedule, PreferNoSchedule or NoExecute.
	Effect    string     `json:"effect"`
	TimeAdded *meta.Time `json:"timeAdded,omitempty"`
}

// NodeStatus is the observed state of a [Node].
type NodeStatus struct {
	Capacity         ResourceList        `json:"capacity,omitempty"`
	Allocatable      ResourceList        `json:"allocatable,omitempty"`
	Phase            string              `json:"phase,omitempty"`
	Conditions       []NodeCondition     `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
	Addresses        []NodeAddress       `json:"addresses,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
	DaemonEndpoints  NodeDaemonEndpoints `json:"daemonEndpoints,omitempty"`
	NodeInfo         NodeSystemInfo      `json:"nodeInfo,omitempty"`
	Images           []json.RawMessage   `json:"images,omitempty"`
	VolumesInUse     []string            `json:"volumesInUse,omitempty"`
	VolumesAttached  []json.RawMessage   `json:"volumesAttached,omitempty"`
	Config           json.RawMessage     `json:"config,omitempty"`
	RuntimeHandlers  []json.RawMessage   `json:"runtimeHandlers,omitempty"`
	Features         json.RawMessage     `json:"features,omitempty"`
	DeclaredFeatures []string            `json:"declaredFeatures,omitempty"`
}

// NodeCondition is one condition of a node ("Ready", "MemoryPressure",
// ...).
type NodeCondition struct {
	Type               string          `json:"type"`
	Status             ConditionStatus `json:"status"`
	LastHeartbeatTime  meta.Time       `json:"lastHeartbeatTime,omitempty"`
	LastTransitionTime meta.Time       `json:"lastTransitionTime,omitempty"`
	Reason             string          `json:"reason,omitempty"`
	Message            string          `json:"message,omitempty"`
}

// NodeReady is the condition type of a node's readiness.
const NodeReady = "Ready"

// NodeAddress is one address of a node.
type NodeAddress struct {
	// Type is Hostname, InternalIP, ExternalIP, InternalDNS or
	// ExternalDNS.
	Type    string `json:"type"`
	Address string `json:"address"`
}

// NodeDaemonEndpoints are the ports of the node agent.
type NodeDaemonEndpoints struct {
	KubeletEndpoint DaemonEndpoint `json:"kubeletEndpoint,omitempty"`
}

// DaemonEndpoint is one port. Its JSON key is "Port", capitalized, as in
// Kubernetes.
type DaemonEndpoint struct {
	Port int32 `json:"Port"`
}

// NodeSystemInfo describes the node's software.
type NodeSystemInfo struct {
	MachineID               string          `json:"machineID"`
	SystemUUID              string          `json:"systemUUID"`
	BootID                  string          `json:"bootID"`
	KernelVersion           string          `json:"kernelVersion"`
	OSImage                 string          `json:"osImage"`
	ContainerRuntimeVersion string          `json:"containerRuntimeVersion"`
	KubeletVersion          string          `json:"kubeletVersion"`
	KubeProxyVersion        string          `json:"kubeProxyVersion"`
	OperatingSystem         string          `json:"operatingSystem"`
	Architecture            string          `json:"architecture"`
	Swap                    json.RawMessage `json:"swap,omitempty"`
	RunningInUserNamespace  *bool           `json:"runningInUserNamespace,omitempty"`
}

// Service gives a set of pods one virtual address: core/v1 Service.
type Service struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            ServiceSpec   `json:"spec,omitempty"`
	Status          ServiceStatus `json:"status,omitempty"`
}

// ServiceSpec is the desired state of a [Service].
type ServiceSpec struct {
	Ports []ServicePort `json:"ports,omitempty" patchStrategy:"merge" patchMergeKey:"port"`
	// Selector picks the service's pods by label; nil means the
	// endpoints are managed by hand.
	Selector   map[string]string `json:"selector,omitempty"`
	ClusterIP  string            `json:"clusterIP,omitempty"`
	ClusterIPs []string          `json:"clusterIPs,omitempty"`
	// Type is ClusterIP (the default), NodePort, LoadBalancer or
	// ExternalName.
	Type                          string          `json:"type,omitempty"`
	ExternalIPs                   []string        `json:"externalIPs,omitempty"`
	SessionAffinity               string          `json:"sessionAffinity,omitempty"`
	LoadBalancerIP                string          `json:"loadBalancerIP,omitempty"`
	LoadBalancerSourceRanges      []string        `json:"loadBalancerSourceRanges,omitempty"`
	ExternalName                  string          `json:"externalName,omitempty"`
	ExternalTrafficPolicy         string          `json:"externalTrafficPolicy,omitempty"`
	HealthCheckNodePort           int32           `json:"healthCheckNodePort,omitempty"`
	PublishNotReadyAddresses      bool            `json:"publishNotReadyAddresses,omitempty"`
	SessionAffinityConfig         json.RawMessage `json:"sessionAffinityConfig,omitempty"`
	IPFamilies                    []string        `json:"ipFamilies,omitempty"`
	IPFamilyPolicy                *string         `json:"ipFamilyPolicy,omitempty"`
	AllocateLoadBalancerNodePorts *bool           `json:"allocateLoadBalancerNodePorts,omitempty"`
	LoadBalancerClass             *string         `json:"loadBalancerClass,omitempty"`
	InternalTrafficPolicy         *string         `json:"internalTrafficPolicy,omitempty"`
	TrafficDistribution           *string         `json:"trafficDistribution,omitempty"`
}

// The values of [ServiceSpec.Type].
const (
	ServiceTypeClusterIP    = "ClusterIP"
	ServiceTypeNodePort     = "NodePort"
	ServiceTypeLoadBalancer = "LoadBalancer"
	ServiceTypeExternalName = "ExternalName"
)

// ServicePort is one port of a service.
type ServicePort struct {
	Name        string  `json:"name,omitempty"`
	Protocol    string  `json:"protocol,omitempty"`
	AppProtocol *string `json:"appProtocol,omitempty"`
	Port        int32   `json:"port"`
	// TargetPort is the pods' port: a number or a container port's name.
	TargetPort api.IntOrString `json:"targetPort,omitempty"`
	NodePort   int32           `json:"nodePort,omitempty"`
}

// ServiceStatus is the observed state of a [Service].
type ServiceStatus struct {
	LoadBalancer LoadBalancerStatus `json:"loadBalancer,omitempty"`
	Conditions   []meta.Condition   `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// LoadBalancerStatus lists a load balancer's ingress points.
type LoadBalancerStatus struct {
	Ingress []LoadBalancerIngress `json:"ingress,omitempty"`
}

// LoadBalancerIngress is one ingress point of a load balancer.
type LoadBalancerIngress struct {
	IP       string            `json:"ip,omitempty"`
	Hostname string            `json:"hostname,omitempty"`
	IPMode   *string           `json:"ipMode,omitempty"`
	Ports    []json.RawMessage `json:"ports,omitempty"`
}

// ConfigMap holds configuration data: core/v1 ConfigMap.
type ConfigMap struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	Immutable       *bool             `json:"immutable,omitempty"`
	Data            map[string]string `json:"data,omitempty"`
	BinaryData      map[string][]byte `json:"binaryData,omitempty"`
}

// Secret holds sensitive data: core/v1 Secret. Data is base64 in JSON.
type Secret struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	Immutable       *bool             `json:"immutable,omitempty"`
	Data            map[string][]byte `json:"data,omitempty"`
	// StringData is write-only: the API server merges it into Data.
	StringData map[string]string `json:"stringData,omitempty"`
	// Type is "Opaque" by default.
	Type string `json:"type,omitempty"`
}

// ServiceAccount is an identity for the processes of pods: core/v1
// ServiceAccount.
type ServiceAccount struct {
	meta.TypeMeta
	meta.ObjectMeta              `json:"metadata,omitempty"`
	Secrets                      []ObjectReference      `json:"secrets,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	ImagePullSecrets             []LocalObjectReference `json:"imagePullSecrets,omitempty"`
	AutomountServiceAccountToken *bool                  `json:"automountServiceAccountToken,omitempty"`
}

// Event reports something that happened to an object: core/v1 Event.
type Event struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	InvolvedObject  ObjectReference `json:"involvedObject"`
	Reason          string          `json:"reason,omitempty"`
	Message         string          `json:"message,omitempty"`
	Source          EventSource     `json:"source,omitempty"`
	FirstTimestamp  meta.Time       `json:"firstTimestamp,omitempty"`
	LastTimestamp   meta.Time       `json:"lastTimestamp,omitempty"`
	Count           int32           `json:"count,omitempty"`
	// Type is Normal or Warning.
	Type                string           `json:"type,omitempty"`
	EventTime           meta.MicroTime   `json:"eventTime,omitempty"`
	Series              *EventSeries     `json:"series,omitempty"`
	Action              string           `json:"action,omitempty"`
	Related             *ObjectReference `json:"related,omitempty"`
	ReportingController string           `json:"reportingComponent"`
	ReportingInstance   string           `json:"reportingInstance"`
}

// EventSource names the component that reported an event.
type EventSource struct {
	Component string `json:"component,omitempty"`
	Host      string `json:"host,omitempty"`
}

// EventSeries counts repeats of an event.
type EventSeries struct {
	Count            int32          `json:"count,omitempty"`
	LastObservedTime meta.MicroTime `json:"lastObservedTime,omitempty"`
}
