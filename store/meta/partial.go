package meta

// PartialObjectMetadata is an object reduced to its kind and metadata,
// Kubernetes' meta.k8s.io/v1 PartialObjectMetadata: what a client that
// handles objects of any type by their metadata alone (a garbage
// collector, say) reads. Any object's JSON decodes into it, its spec and
// status dropped. Unlike Kubernetes' wire form, whose kind is
// "PartialObjectMetadata", its TypeMeta names the kind of the object it
// stands for ("ReplicaSet", "apps/v1").
type PartialObjectMetadata struct {
	TypeMeta
	ObjectMeta `json:"metadata"`
}
