package corev1

import (
	"encoding/json"
	"reflect"
)

// Volume is a named volume of a pod, which containers mount. The sources
// a node agent can provide here (emptyDir, hostPath, configMap, secret,
// downwardAPI, projected, persistentVolumeClaim) are modelled; the cloud
// and network ones are kept as the JSON they were given.
type Volume struct {
	Name         string `json:"name"`
	VolumeSource `json:",inline"`
}

// VolumeSource is where a volume's files come from: exactly one field is
// set.
type VolumeSource struct {
	HostPath              *HostPathVolumeSource              `json:"hostPath,omitempty"`
	EmptyDir              *EmptyDirVolumeSource              `json:"emptyDir,omitempty"`
	GCEPersistentDisk     json.RawMessage                    `json:"gcePersistentDisk,omitempty"`
	AWSElasticBlockStore  json.RawMessage                    `json:"awsElasticBlockStore,omitempty"`
	GitRepo               json.RawMessage                    `json:"gitRepo,omitempty"`
	Secret                *SecretVolumeSource                `json:"secret,omitempty"`
	NFS                   json.RawMessage                    `json:"nfs,omitempty"`
	ISCSI                 json.RawMessage                    `json:"iscsi,omitempty"`
	Glusterfs             json.RawMessage                    `json:"glusterfs,omitempty"`
	PersistentVolumeClaim *PersistentVolumeClaimVolumeSource `json:"persistentVolumeClaim,omitempty"`
	RBD                   json.RawMessage                    `json:"rbd,omitempty"`
	FlexVolume            json.RawMessage                    `json:"flexVolume,omitempty"`
	Cinder                json.RawMessage                    `json:"cinder,omitempty"`
	CephFS                json.RawMessage                    `json:"cephfs,omitempty"`
	Flocker               json.RawMessage                    `json:"flocker,omitempty"`
	DownwardAPI           *DownwardAPIVolumeSource           `json:"downwardAPI,omitempty"`
	FC                    json.RawMessage                    `json:"fc,omitempty"`
	AzureFile             json.RawMessage                    `json:"azureFile,omitempty"`
	ConfigMap             *ConfigMapVolumeSource             `json:"configMap,omitempty"`
	VsphereVolume         json.RawMessage                    `json:"vsphereVolume,omitempty"`
	Quobyte               json.RawMessage                    `json:"quobyte,omitempty"`
	AzureDisk             json.RawMessage                    `json:"azureDisk,omitempty"`
	PhotonPersistentDisk  json.RawMessage                    `json:"photonPersistentDisk,omitempty"`
	Projected             *ProjectedVolumeSource             `json:"projected,omitempty"`
	PortworxVolume        json.RawMessage                    `json:"portworxVolume,omitempty"`
	ScaleIO               json.RawMessage                    `json:"scaleIO,omitempty"`
	StorageOS             json.RawMessage                    `json:"storageos,omitempty"`
	CSI                   json.RawMessage                    `json:"csi,omitempty"`
	Ephemeral             json.RawMessage                    `json:"ephemeral,omitempty"`
	Image                 json.RawMessage                    `json:"image,omitempty"`
}

// HostPathVolumeSource mounts a path of the node.
type HostPathVolumeSource struct {
	Path string  `json:"path"`
	Type *string `json:"type,omitempty"`
}

// EmptyDirVolumeSource is a directory that lives as long as the pod.
type EmptyDirVolumeSource struct {
	// Medium is "" (the node's disk) or "Memory".
	Medium    string    `json:"medium,omitempty"`
	SizeLimit *Quantity `json:"sizeLimit,omitempty"`
	Mode      *int32    `json:"mode,omitempty"`
}

// SecretVolumeSource projects a secret's keys as files.
type SecretVolumeSource struct {
	SecretName  string      `json:"secretName,omitempty"`
	Items       []KeyToPath `json:"items,omitempty"`
	DefaultMode *int32      `json:"defaultMode,omitempty"`
	Optional    *bool       `json:"optional,omitempty"`
	DefaultUser *int64      `json:"defaultUser,omitempty"`
}

// ConfigMapVolumeSource projects a config map's keys as files.
type ConfigMapVolumeSource struct {
	LocalObjectReference `json:",inline"`
	Items                []KeyToPath `json:"items,omitempty"`
	DefaultMode          *int32      `json:"defaultMode,omitempty"`
	Optional             *bool       `json:"optional,omitempty"`
	DefaultUser          *int64      `json:"defaultUser,omitempty"`
}

// KeyToPath maps one key to a file path in the volume.
type KeyToPath struct {
	Key  string `json:"key"`
	Path string `json:"path"`
	Mode *int32 `json:"mode,omitempty"`
	User *int64 `json:"user,omitempty"`
}

// PersistentVolumeClaimVolumeSource mounts a claimed persistent volume.
type PersistentVolumeClaimVolumeSource struct {
	ClaimName string `json:"claimName"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
}

// DownwardAPIVolumeSource writes fields of the pod as files.
type DownwardAPIVolumeSource struct {
	Items       []DownwardAPIVolumeFile `json:"items,omitempty"`
	DefaultMode *int32                  `json:"defaultMode,omitempty"`
	DefaultUser *int64                  `json:"defaultUser,omitempty"`
}

// DownwardAPIVolumeFile is one file of a downward API volume.
type DownwardAPIVolumeFile struct {
	Path             string                 `json:"path"`
	FieldRef         *ObjectFieldSelector   `json:"fieldRef,omitempty"`
	ResourceFieldRef *ResourceFieldSelector `json:"resourceFieldRef,omitempty"`
	Mode             *int32                 `json:"mode,omitempty"`
	User             *int64                 `json:"user,omitempty"`
}

// ProjectedVolumeSource merges several sources into one directory (the
// service account token volume is one).
type ProjectedVolumeSource struct {
	Sources     []VolumeProjection `json:"sources"`
	DefaultMode *int32             `json:"defaultMode,omitempty"`
	DefaultUser *int64             `json:"defaultUser,omitempty"`
}

// VolumeProjection is one source of a projected volume.
type VolumeProjection struct {
	Secret              *SecretProjection              `json:"secret,omitempty"`
	DownwardAPI         *DownwardAPIProjection         `json:"downwardAPI,omitempty"`
	ConfigMap           *ConfigMapProjection           `json:"configMap,omitempty"`
	ServiceAccountToken *ServiceAccountTokenProjection `json:"serviceAccountToken,omitempty"`
	ClusterTrustBundle  json.RawMessage                `json:"clusterTrustBundle,omitempty"`
	PodCertificate      json.RawMessage                `json:"podCertificate,omitempty"`
}

// SecretProjection projects a secret's keys.
type SecretProjection struct {
	LocalObjectReference `json:",inline"`
	Items                []KeyToPath `json:"items,omitempty"`
	Optional             *bool       `json:"optional,omitempty"`
}

// ConfigMapProjection projects a config map's keys.
type ConfigMapProjection struct {
	LocalObjectReference `json:",inline"`
	Items                []KeyToPath `json:"items,omitempty"`
	Optional             *bool       `json:"optional,omitempty"`
}

// DownwardAPIProjection projects fields of the pod.
type DownwardAPIProjection struct {
	Items []DownwardAPIVolumeFile `json:"items,omitempty"`
}

// ServiceAccountTokenProjection projects a token of the pod's service
// account.
type ServiceAccountTokenProjection struct {
	Audience          string `json:"audience,omitempty"`
	ExpirationSeconds *int64 `json:"expirationSeconds,omitempty"`
	Path              string `json:"path"`
	User              *int64 `json:"user,omitempty"`
}

// count returns how many sources are set.
func (s *VolumeSource) count() int {
	n := 0
	v := reflect.ValueOf(s).Elem()
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); !f.IsZero() && !(f.Kind() == reflect.Slice && f.Len() == 0) {
			n++
		}
	}
	return n
}
