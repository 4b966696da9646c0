package benchmarks

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/governor-io/governor/store/meta"
)

// pod is a Pod-like type for the typed Store benchmarks. Its fields and
// JSON tags follow k8s.io/api/core/v1.Pod for the fields that a typical
// controller-made pod sets, in the same order, so that it encodes to the
// same bytes as a v1.Pod (TestBenchPodMatchesKubernetesJSON checks it).
type pod struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            podSpec   `json:"spec,omitempty"`
	Status          podStatus `json:"status,omitempty"`
}

type podSpec struct {
	Volumes                       []volume          `json:"volumes,omitempty"`
	Containers                    []container       `json:"containers"`
	RestartPolicy                 string            `json:"restartPolicy,omitempty"`
	TerminationGracePeriodSeconds *int64            `json:"terminationGracePeriodSeconds,omitempty"`
	DNSPolicy                     string            `json:"dnsPolicy,omitempty"`
	NodeSelector                  map[string]string `json:"nodeSelector,omitempty"`
	ServiceAccountName            string            `json:"serviceAccountName,omitempty"`
	DeprecatedServiceAccount      string            `json:"serviceAccount,omitempty"`
	NodeName                      string            `json:"nodeName,omitempty"`
	SecurityContext               *struct{}         `json:"securityContext,omitempty"`
	SchedulerName                 string            `json:"schedulerName,omitempty"`
	Tolerations                   []toleration      `json:"tolerations,omitempty"`
	Priority                      *int32            `json:"priority,omitempty"`
	EnableServiceLinks            *bool             `json:"enableServiceLinks,omitempty"`
	PreemptionPolicy              *string           `json:"preemptionPolicy,omitempty"`
}

type volume struct {
	Name      string           `json:"name"`
	EmptyDir  *emptyDirSource  `json:"emptyDir,omitempty"`
	ConfigMap *configMapSource `json:"configMap,omitempty"`
}

type emptyDirSource struct {
	Medium string `json:"medium,omitempty"`
}

type configMapSource struct {
	Name        string `json:"name,omitempty"`
	DefaultMode *int32 `json:"defaultMode,omitempty"`
}

type container struct {
	Name                     string               `json:"name"`
	Image                    string               `json:"image,omitempty"`
	Args                     []string             `json:"args,omitempty"`
	Ports                    []containerPort      `json:"ports,omitempty"`
	Env                      []envVar             `json:"env,omitempty"`
	Resources                resourceRequirements `json:"resources,omitempty"`
	VolumeMounts             []volumeMount        `json:"volumeMounts,omitempty"`
	TerminationMessagePath   string               `json:"terminationMessagePath,omitempty"`
	TerminationMessagePolicy string               `json:"terminationMessagePolicy,omitempty"`
	ImagePullPolicy          string               `json:"imagePullPolicy,omitempty"`
}

type containerPort struct {
	Name          string `json:"name,omitempty"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol,omitempty"`
}

type envVar struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

type resourceRequirements struct {
	Limits   map[string]string `json:"limits,omitempty"`
	Requests map[string]string `json:"requests,omitempty"`
}

type volumeMount struct {
	Name      string `json:"name"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
	MountPath string `json:"mountPath"`
}

type toleration struct {
	Key               string `json:"key,omitempty"`
	Operator          string `json:"operator,omitempty"`
	Effect            string `json:"effect,omitempty"`
	TolerationSeconds *int64 `json:"tolerationSeconds,omitempty"`
}

type podStatus struct {
	Phase             string            `json:"phase,omitempty"`
	Conditions        []podCondition    `json:"conditions,omitempty"`
	HostIP            string            `json:"hostIP,omitempty"`
	HostIPs           []podIP           `json:"hostIPs,omitempty"`
	PodIP             string            `json:"podIP,omitempty"`
	PodIPs            []podIP           `json:"podIPs,omitempty"`
	StartTime         *meta.Time        `json:"startTime,omitempty"`
	ContainerStatuses []containerStatus `json:"containerStatuses,omitempty"`
	QOSClass          string            `json:"qosClass,omitempty"`
}

type podCondition struct {
	Type               string    `json:"type"`
	Status             string    `json:"status"`
	LastProbeTime      meta.Time `json:"lastProbeTime,omitempty"`
	LastTransitionTime meta.Time `json:"lastTransitionTime,omitempty"`
}

type podIP struct {
	IP string `json:"ip"`
}

type containerStatus struct {
	Name         string         `json:"name"`
	State        containerState `json:"state,omitempty"`
	LastState    containerState `json:"lastState,omitempty"`
	Ready        bool           `json:"ready"`
	RestartCount int32          `json:"restartCount"`
	Image        string         `json:"image"`
	ImageID      string         `json:"imageID"`
	ContainerID  string         `json:"containerID,omitempty"`
	Started      *bool          `json:"started,omitempty"`
}

type containerState struct {
	Running *containerStateRunning `json:"running,omitempty"`
}

type containerStateRunning struct {
	StartedAt meta.Time `json:"startedAt,omitempty"`
}

var benchEpoch = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// kubePod returns a typical v1.Pod as a ReplicaSet controller makes it and
// the scheduler binds it (about 1.3 KB of JSON): the object whose JSON the
// benchmarks use.
func kubePod(namespace, name string) *corev1.Pod {
	ptr := func(v int64) *int64 { return &v }
	yes := true
	prio := int32(0)
	policy := corev1.PreemptLowerPriority
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, GenerateName: "web-7d4b9c8f6d-", Namespace: namespace,
			Labels: map[string]string{"app": "web", "pod-template-hash": "7d4b9c8f6d"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d4b9c8f6d",
				UID: "2f6c1b0e-1d2a-4c4f-9a51-0b8a3c7e9d11", Controller: &yes, BlockOwnerDeletion: &yes}},
		},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: "web", Image: "nginx:1.27",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
				Env:   []corev1.EnvVar{{Name: "MODE", Value: "production"}},
				Resources: corev1.ResourceRequirements{
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
				},
				VolumeMounts:           []corev1.VolumeMount{{Name: "config", ReadOnly: true, MountPath: "/etc/web"}},
				TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile,
				ImagePullPolicy: corev1.PullIfNotPresent,
			}},
			RestartPolicy: corev1.RestartPolicyAlways, TerminationGracePeriodSeconds: ptr(30),
			DNSPolicy: corev1.DNSClusterFirst, ServiceAccountName: "default", DeprecatedServiceAccount: "default",
			NodeName: "node-17", SecurityContext: &corev1.PodSecurityContext{}, SchedulerName: "default-scheduler",
			Tolerations: []corev1.Toleration{
				{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(300)},
			},
			Priority: &prio, EnableServiceLinks: &yes, PreemptionPolicy: &policy,
		},
		Status: corev1.PodStatus{
			Phase:    corev1.PodPending,
			QOSClass: corev1.PodQOSBurstable,
		},
	}
}
