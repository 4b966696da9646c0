package corev1

import (
	"encoding/json"

	"github.com/governor-io/governor/store/meta"
)

// Pod is a group of containers that run together on one node: core/v1
// Pod.
type Pod struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            PodSpec   `json:"spec,omitempty"`
	Status          PodStatus `json:"status,omitempty"`
}

// PodSpec is the desired state of a [Pod]. The fields the control plane
// acts on are modelled; the rest (security contexts, cloud volume
// sources, resource claims, ...) are kept as the JSON they were given, so that
// they round-trip unchanged.
type PodSpec struct {
	Volumes             []Volume          `json:"volumes,omitempty" patchStrategy:"merge,retainKeys" patchMergeKey:"name"`
	InitContainers      []Container       `json:"initContainers,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	Containers          []Container       `json:"containers" patchStrategy:"merge" patchMergeKey:"name"`
	EphemeralContainers []json.RawMessage `json:"ephemeralContainers,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	// RestartPolicy is Always (the default), OnFailure or Never.
	RestartPolicy                 RestartPolicy     `json:"restartPolicy,omitempty"`
	TerminationGracePeriodSeconds *int64            `json:"terminationGracePeriodSeconds,omitempty"`
	ActiveDeadlineSeconds         *int64            `json:"activeDeadlineSeconds,omitempty"`
	DNSPolicy                     string            `json:"dnsPolicy,omitempty"`
	NodeSelector                  map[string]string `json:"nodeSelector,omitempty"`
	ServiceAccountName            string            `json:"serviceAccountName,omitempty"`
	// DeprecatedServiceAccount is the old alias of ServiceAccountName.
	DeprecatedServiceAccount     string `json:"serviceAccount,omitempty"`
	AutomountServiceAccountToken *bool  `json:"automountServiceAccountToken,omitempty"`
	// NodeName is the node the pod is bound to; empty until scheduled.
	NodeName              string                 `json:"nodeName,omitempty"`
	HostNetwork           bool                   `json:"hostNetwork,omitempty"`
	HostPID               bool                   `json:"hostPID,omitempty"`
	HostIPC               bool                   `json:"hostIPC,omitempty"`
	ShareProcessNamespace *bool                  `json:"shareProcessNamespace,omitempty"`
	SecurityContext       json.RawMessage        `json:"securityContext,omitempty"`
	ImagePullSecrets      []LocalObjectReference `json:"imagePullSecrets,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	Hostname              string                 `json:"hostname,omitempty"`
	Subdomain             string                 `json:"subdomain,omitempty"`
	// Affinity holds node, pod and pod anti-affinity.
	Affinity                  *Affinity                  `json:"affinity,omitempty"`
	SchedulerName             string                     `json:"schedulerName,omitempty"`
	Tolerations               []Toleration               `json:"tolerations,omitempty"`
	HostAliases               []HostAlias                `json:"hostAliases,omitempty" patchStrategy:"merge" patchMergeKey:"ip"`
	PriorityClassName         string                     `json:"priorityClassName,omitempty"`
	Priority                  *int32                     `json:"priority,omitempty"`
	DNSConfig                 json.RawMessage            `json:"dnsConfig,omitempty"`
	ReadinessGates            []PodReadinessGate         `json:"readinessGates,omitempty"`
	RuntimeClassName          *string                    `json:"runtimeClassName,omitempty"`
	EnableServiceLinks        *bool                      `json:"enableServiceLinks,omitempty"`
	PreemptionPolicy          *string                    `json:"preemptionPolicy,omitempty"`
	Overhead                  ResourceList               `json:"overhead,omitempty"`
	TopologySpreadConstraints []TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty" patchStrategy:"merge" patchMergeKey:"topologyKey"`
	SetHostnameAsFQDN         *bool                      `json:"setHostnameAsFQDN,omitempty"`
	OS                        json.RawMessage            `json:"os,omitempty"`
	HostUsers                 *bool                      `json:"hostUsers,omitempty"`
	// SchedulingGates hold a pod back from scheduling while any is set.
	SchedulingGates    []PodSchedulingGate   `json:"schedulingGates,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	ResourceClaims     []json.RawMessage     `json:"resourceClaims,omitempty" patchStrategy:"merge,retainKeys" patchMergeKey:"name"`
	Resources          *ResourceRequirements `json:"resources,omitempty"`
	HostnameOverride   *string               `json:"hostnameOverride,omitempty"`
	SchedulingGroup    json.RawMessage       `json:"schedulingGroup,omitempty"`
	EvictionResponders []json.RawMessage     `json:"evictionResponders,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
}

// RestartPolicy says when a pod's containers are restarted.
type RestartPolicy string

// The values of [RestartPolicy].
const (
	RestartPolicyAlways    RestartPolicy = "Always"
	RestartPolicyOnFailure RestartPolicy = "OnFailure"
	RestartPolicyNever     RestartPolicy = "Never"
)

// Container is one container of a [PodSpec].
type Container struct {
	Name       string          `json:"name"`
	Image      string          `json:"image,omitempty"`
	Command    []string        `json:"command,omitempty"`
	Args       []string        `json:"args,omitempty"`
	WorkingDir string          `json:"workingDir,omitempty"`
	Ports      []ContainerPort `json:"ports,omitempty" patchStrategy:"merge" patchMergeKey:"containerPort"`
	EnvFrom    []EnvFromSource `json:"envFrom,omitempty"`
	Env        []EnvVar        `json:"env,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	// Resources are the container's requests and limits.
	Resources                ResourceRequirements `json:"resources,omitempty"`
	ResizePolicy             []json.RawMessage    `json:"resizePolicy,omitempty"`
	RestartPolicy            *string              `json:"restartPolicy,omitempty"`
	RestartPolicyRules       []json.RawMessage    `json:"restartPolicyRules,omitempty"`
	VolumeMounts             []VolumeMount        `json:"volumeMounts,omitempty" patchStrategy:"merge" patchMergeKey:"mountPath"`
	VolumeDevices            []json.RawMessage    `json:"volumeDevices,omitempty" patchStrategy:"merge" patchMergeKey:"devicePath"`
	LivenessProbe            *Probe               `json:"livenessProbe,omitempty"`
	ReadinessProbe           *Probe               `json:"readinessProbe,omitempty"`
	StartupProbe             *Probe               `json:"startupProbe,omitempty"`
	Lifecycle                *Lifecycle           `json:"lifecycle,omitempty"`
	TerminationMessagePath   string               `json:"terminationMessagePath,omitempty"`
	TerminationMessagePolicy string               `json:"terminationMessagePolicy,omitempty"`
	ImagePullPolicy          string               `json:"imagePullPolicy,omitempty"`
	SecurityContext          json.RawMessage      `json:"securityContext,omitempty"`
	Stdin                    bool                 `json:"stdin,omitempty"`
	StdinOnce                bool                 `json:"stdinOnce,omitempty"`
	TTY                      bool                 `json:"tty,omitempty"`
}

// ContainerPort is a port a container listens on.
type ContainerPort struct {
	Name          string `json:"name,omitempty"`
	HostPort      int32  `json:"hostPort,omitempty"`
	ContainerPort int32  `json:"containerPort"`
	// Protocol is TCP (the default), UDP or SCTP.
	Protocol string `json:"protocol,omitempty"`
	HostIP   string `json:"hostIP,omitempty"`
}

// EnvVar is one environment variable of a container: a value, or a
// reference to a field, a resource, a config map key or a secret key.
type EnvVar struct {
	Name      string        `json:"name"`
	Value     string        `json:"value,omitempty"`
	ValueFrom *EnvVarSource `json:"valueFrom,omitempty"`
}

// ResourceRequirements are compute resource requests and limits.
type ResourceRequirements struct {
	Limits   ResourceList      `json:"limits,omitempty"`
	Requests ResourceList      `json:"requests,omitempty"`
	Claims   []json.RawMessage `json:"claims,omitempty"`
}

// VolumeMount mounts a volume of the pod into a container.
type VolumeMount struct {
	Name              string   `json:"name"`
	ReadOnly          bool     `json:"readOnly,omitempty"`
	RecursiveReadOnly *string  `json:"recursiveReadOnly,omitempty"`
	MountPath         string   `json:"mountPath"`
	SubPath           string   `json:"subPath,omitempty"`
	MountPropagation  *string  `json:"mountPropagation,omitempty"`
	SubPathExpr       string   `json:"subPathExpr,omitempty"`
	BindMountOptions  []string `json:"bindMountOptions,omitempty"`
}

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	Name string `json:"name,omitempty"`
}

// Toleration lets a pod run on a node with a matching taint.
type Toleration struct {
	Key string `json:"key,omitempty"`
	// Operator is Exists or Equal (the default).
	Operator string `json:"operator,omitempty"`
	Value    string `json:"value,omitempty"`
	// Effect is NoSchedule, PreferNoSchedule or NoExecute; empty matches
	// all.
	Effect            string `json:"effect,omitempty"`
	TolerationSeconds *int64 `json:"tolerationSeconds,omitempty"`
}

// HostAlias is an entry of the pod's /etc/hosts.
type HostAlias struct {
	IP        string   `json:"ip"`
	Hostnames []string `json:"hostnames,omitempty"`
}

// PodReadinessGate names a pod condition that must be True for the pod to
// be ready.
type PodReadinessGate struct {
	ConditionType string `json:"conditionType"`
}

// PodSchedulingGate names one reason a pod is not yet to be scheduled.
type PodSchedulingGate struct {
	Name string `json:"name"`
}

// PodStatus is the observed state of a [Pod].
type PodStatus struct {
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Phase is Pending, Running, Succeeded, Failed or Unknown.
	Phase      PodPhase       `json:"phase,omitempty"`
	Conditions []PodCondition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
	Message    string         `json:"message,omitempty"`
	Reason     string         `json:"reason,omitempty"`
	// NominatedNodeName is where preemption made room for the pod.
	NominatedNodeName                    string                `json:"nominatedNodeName,omitempty"`
	HostIP                               string                `json:"hostIP,omitempty"`
	HostIPs                              []HostIP              `json:"hostIPs,omitempty" patchStrategy:"merge" patchMergeKey:"ip"`
	PodIP                                string                `json:"podIP,omitempty"`
	PodIPs                               []PodIP               `json:"podIPs,omitempty" patchStrategy:"merge" patchMergeKey:"ip"`
	StartTime                            *meta.Time            `json:"startTime,omitempty"`
	InitContainerStatuses                []ContainerStatus     `json:"initContainerStatuses,omitempty"`
	ContainerStatuses                    []ContainerStatus     `json:"containerStatuses,omitempty"`
	QOSClass                             string                `json:"qosClass,omitempty"`
	EphemeralContainerStatuses           []ContainerStatus     `json:"ephemeralContainerStatuses,omitempty"`
	Resize                               string                `json:"resize,omitempty"`
	ResourceClaimStatuses                []json.RawMessage     `json:"resourceClaimStatuses,omitempty" patchStrategy:"merge,retainKeys" patchMergeKey:"name"`
	ExtendedResourceClaimStatus          json.RawMessage       `json:"extendedResourceClaimStatus,omitempty"`
	AllocatedResources                   ResourceList          `json:"allocatedResources,omitempty"`
	Resources                            *ResourceRequirements `json:"resources,omitempty"`
	NodeAllocatableResourceClaimStatuses []json.RawMessage     `json:"nodeAllocatableResourceClaimStatuses,omitempty" patchStrategy:"merge" patchMergeKey:"resourceClaimName"`
	VolumeHealth                         []json.RawMessage     `json:"volumeHealth,omitempty"`
}

// PodPhase is the coarse summary of where a pod is in its life.
type PodPhase string

// The values of [PodPhase].
const (
	PodPending   PodPhase = "Pending"
	PodRunning   PodPhase = "Running"
	PodSucceeded PodPhase = "Succeeded"
	PodFailed    PodPhase = "Failed"
	PodUnknown   PodPhase = "Unknown"
)

// The pod condition types the control plane sets.
const (
	PodScheduled    = "PodScheduled"
	PodInitialized  = "Initialized"
	ContainersReady = "ContainersReady"
	PodReady        = "Ready"
)

// ConditionStatus is True, False or Unknown.
type ConditionStatus = meta.ConditionStatus

// The values of [ConditionStatus].
const (
	ConditionTrue    = meta.ConditionTrue
	ConditionFalse   = meta.ConditionFalse
	ConditionUnknown = meta.ConditionUnknown
)

// PodCondition is one condition of a pod.
type PodCondition struct {
	Type               string          `json:"type"`
	ObservedGeneration int64           `json:"observedGeneration,omitempty"`
	Status             ConditionStatus `json:"status"`
	LastProbeTime      meta.Time       `json:"lastProbeTime,omitempty"`
	LastTransitionTime meta.Time       `json:"lastTransitionTime,omitempty"`
	Reason             string          `json:"reason,omitempty"`
	Message            string          `json:"message,omitempty"`
}

// HostIP is one IP address of the pod's node.
type HostIP struct {
	IP string `json:"ip"`
}

// PodIP is one IP address of the pod.
type PodIP struct {
	IP string `json:"ip"`
}

// ContainerStatus is the observed state of one container.
type ContainerStatus struct {
	Name                     string                `json:"name"`
	State                    ContainerState        `json:"state,omitempty"`
	LastTerminationState     ContainerState        `json:"lastState,omitempty"`
	Ready                    bool                  `json:"ready"`
	RestartCount             int32                 `json:"restartCount"`
	Image                    string                `json:"image"`
	ImageID                  string                `json:"imageID"`
	ContainerID              string                `json:"containerID,omitempty"`
	Started                  *bool                 `json:"started,omitempty"`
	AllocatedResources       ResourceList          `json:"allocatedResources,omitempty"`
	Resources                *ResourceRequirements `json:"resources,omitempty"`
	VolumeMounts             []json.RawMessage     `json:"volumeMounts,omitempty" patchStrategy:"merge" patchMergeKey:"mountPath"`
	User                     json.RawMessage       `json:"user,omitempty"`
	AllocatedResourcesStatus []json.RawMessage     `json:"allocatedResourcesStatus,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	StopSignal               *string               `json:"stopSignal,omitempty"`
}

// ContainerState is one of waiting, running or terminated.
type ContainerState struct {
	Waiting    *ContainerStateWaiting    `json:"waiting,omitempty"`
	Running    *ContainerStateRunning    `json:"running,omitempty"`
	Terminated *ContainerStateTerminated `json:"terminated,omitempty"`
}

// ContainerStateWaiting is a container not yet running.
type ContainerStateWaiting struct {
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// ContainerStateRunning is a running container.
type ContainerStateRunning struct {
	StartedAt meta.Time `json:"startedAt,omitempty"`
}

// ContainerStateTerminated is a container that has exited.
type ContainerStateTerminated struct {
	ExitCode    int32     `json:"exitCode"`
	Signal      int32     `json:"signal,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Message     string    `json:"message,omitempty"`
	StartedAt   meta.Time `json:"startedAt,omitempty"`
	FinishedAt  meta.Time `json:"finishedAt,omitempty"`
	ContainerID string    `json:"containerID,omitempty"`
}

// PodTemplateSpec is the template of the pods a controller creates.
type PodTemplateSpec struct {
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            PodSpec `json:"spec,omitempty"`
}

// Binding binds a pod to a node: the body of the pods/binding
// subresource, which the scheduler posts.
type Binding struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	Target          ObjectReference `json:"target"`
}

// ObjectReference points at an object, or a field of it.
type ObjectReference struct {
	Kind            string `json:"kind,omitempty"`
	Namespace       string `json:"namespace,omitempty"`
	Name            string `json:"name,omitempty"`
	UID             string `json:"uid,omitempty"`
	APIVersion      string `json:"apiVersion,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
	FieldPath       string `json:"fieldPath,omitempty"`
}
