package appsv1

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/examples/cluster/api/corev1"
	"github.com/governor-io/governor/store/meta"
)

// ReplicaSets describes the replicasets resource, with its status and
// scale subresources.
var ReplicaSets = api.Type[*ReplicaSet]{
	Group: "apps", Version: "v1", Kind: "ReplicaSet", Resource: "replicasets", Singular: "replicaset", Namespaced: true,
	ShortNames:   []string{"rs"},
	Categories:   []string{"all"},
	Subresources: []string{"status", "scale"},
	Fields: map[string]func(*ReplicaSet) string{
		"status.replicas": func(r *ReplicaSet) string { return strconv.Itoa(int(r.Status.Replicas)) },
	},
	Columns: api.Columns(
		api.TableColumn{Name: "Desired", Type: "integer", Description: "Replicas is the number of desired pods."},
		api.TableColumn{Name: "Current", Type: "integer", Description: "Replicas is the most recently observed number of replicas."},
		api.TableColumn{Name: "Ready", Type: "integer", Description: "The number of ready replicas for this replica set."},
		api.AgeColumn,
		api.WideColumn("Containers", "Names of each container in the template."),
		api.WideColumn("Images", "Images referenced by each container in the template."),
		api.WideColumn("Selector", "A label query over pods that should match the replica count."),
	),
	Cells: func(r *ReplicaSet, now time.Time) []any {
		names, images := containerCells(&r.Spec.Template.Spec)
		return []any{r.Name, int64(replicas(r.Spec.Replicas)), int64(r.Status.Replicas), int64(r.Status.ReadyReplicas),
			api.Age(r.CreationTimestamp, now), names, images, selectorCell(r.Spec.Selector)}
	},
	Default: func(r *ReplicaSet) {
		if r.Spec.Replicas == nil {
			r.Spec.Replicas = ptr(int32(1))
		}
		corev1.DefaultPodSpec(&r.Spec.Template.Spec)
	},
	Validate: func(r *ReplicaSet) []meta.Cause {
		causes := api.ValidateObjectMeta(&r.ObjectMeta, true, api.DNS1123Subdomain)
		return append(causes, validateWorkload(r.Spec.Replicas, r.Spec.Selector, &r.Spec.Template, r.Spec.MinReadySeconds)...)
	},
	ValidateUpdate: func(o, n *ReplicaSet) []meta.Cause {
		return immutableSelector(o.Spec.Selector, n.Spec.Selector)
	},
	Scale: &api.ScaleAccess[*ReplicaSet]{
		SpecReplicas:    func(r *ReplicaSet) int32 { return replicas(r.Spec.Replicas) },
		SetSpecReplicas: func(r *ReplicaSet, n int32) { r.Spec.Replicas = &n },
		StatusReplicas:  func(r *ReplicaSet) int32 { return r.Status.Replicas },
		Selector:        func(r *ReplicaSet) string { return r.Spec.Selector.String() },
	},
	New: func() *ReplicaSet { return new(ReplicaSet) },
}

// Deployments describes the deployments resource, with its status and
// scale subresources.
var Deployments = api.Type[*Deployment]{
	Group: "apps", Version: "v1", Kind: "Deployment", Resource: "deployments", Singular: "deployment", Namespaced: true,
	ShortNames:   []string{"deploy"},
	Categories:   []string{"all"},
	Subresources: []string{"status", "scale"},
	Columns: api.Columns(
		api.Column("Ready", "Number of the pod with ready state"),
		api.TableColumn{Name: "Up-to-date", Type: "string", Description: "Total number of non-terminated pods targeted by this deployment that have the desired template spec."},
		api.TableColumn{Name: "Available", Type: "string", Description: "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."},
		api.AgeColumn,
		api.WideColumn("Containers", "Names of each container in the template."),
		api.WideColumn("Images", "Images referenced by each container in the template."),
		api.WideColumn("Selector", "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment."),
	),
	Cells: func(d *Deployment, now time.Time) []any {
		names, images := containerCells(&d.Spec.Template.Spec)
		return []any{d.Name, fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, replicas(d.Spec.Replicas)),
			int64(d.Status.UpdatedReplicas), int64(d.Status.AvailableReplicas), api.Age(d.CreationTimestamp, now),
			names, images, selectorCell(d.Spec.Selector)}
	},
	Default: func(d *Deployment) {
		if d.Spec.Replicas == nil {
			d.Spec.Replicas = ptr(int32(1))
		}
		s := &d.Spec.Strategy
		if s.Type == "" {
			s.Type = RollingUpdateDeploymentStrategyType
		}
		if s.Type == RollingUpdateDeploymentStrategyType {
			if s.RollingUpdate == nil {
				s.RollingUpdate = &RollingUpdateDeployment{}
			}
			if s.RollingUpdate.MaxUnavailable == nil {
				s.RollingUpdate.MaxUnavailable = ptr(api.FromString("25%"))
			}
			if s.RollingUpdate.MaxSurge == nil {
				s.RollingUpdate.MaxSurge = ptr(api.FromString("25%"))
			}
		}
		if d.Spec.RevisionHistoryLimit == nil {
			d.Spec.RevisionHistoryLimit = ptr(int32(10))
		}
		if d.Spec.ProgressDeadlineSeconds == nil {
			d.Spec.ProgressDeadlineSeconds = ptr(int32(600))
		}
		corev1.DefaultPodSpec(&d.Spec.Template.Spec)
	},
	Validate: func(d *Deployment) []meta.Cause {
		causes := api.ValidateObjectMeta(&d.ObjectMeta, true, api.DNS1123Subdomain)
		causes = append(causes, validateWorkload(d.Spec.Replicas, d.Spec.Selector, &d.Spec.Template, d.Spec.MinReadySeconds)...)
		switch d.Spec.Strategy.Type {
		case "", RollingUpdateDeploymentStrategyType:
			if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
				causes = append(causes, validateSurge("spec.strategy.rollingUpdate.maxUnavailable", ru.MaxUnavailable)...)
				causes = append(causes, validateSurge("spec.strategy.rollingUpdate.maxSurge", ru.MaxSurge)...)
				if isZero(ru.MaxUnavailable) && isZero(ru.MaxSurge) {
					causes = append(causes, api.Invalid("spec.strategy.rollingUpdate.maxUnavailable", ru.MaxUnavailable.String(),
						"may not be 0 when `maxSurge` is 0"))
				}
			}
		case RecreateDeploymentStrategyType:
			if d.Spec.Strategy.RollingUpdate != nil {
				causes = append(causes, api.Forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"))
			}
		default:
			causes = append(causes, api.NotSupported("spec.strategy.type", d.Spec.Strategy.Type, "Recreate", "RollingUpdate"))
		}
		if d.Spec.ProgressDeadlineSeconds != nil && *d.Spec.ProgressDeadlineSeconds <= d.Spec.MinReadySeconds {
			causes = append(causes, api.Invalid("spec.progressDeadlineSeconds", *d.Spec.ProgressDeadlineSeconds,
				"must be greater than minReadySeconds"))
		}
		return causes
	},
	ValidateUpdate: func(o, n *Deployment) []meta.Cause {
		return immutableSelector(o.Spec.Selector, n.Spec.Selector)
	},
	Scale: &api.ScaleAccess[*Deployment]{
		SpecReplicas:    func(d *Deployment) int32 { return replicas(d.Spec.Replicas) },
		SetSpecReplicas: func(d *Deployment, n int32) { d.Spec.Replicas = &n },
		StatusReplicas:  func(d *Deployment) int32 { return d.Status.Replicas },
		Selector:        func(d *Deployment) string { return d.Spec.Selector.String() },
	},
	New: func() *Deployment { return new(Deployment) },
}

func ptr[T any](v T) *T { return &v }

// replicas reads a replica count, nil meaning 1.
func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

func isZero(v *api.IntOrString) bool {
	if v == nil {
		return false
	}
	n, err := v.ScaledValue(100, true)
	return err == nil && n == 0
}

func validateSurge(field string, v *api.IntOrString) []meta.Cause {
	if v == nil {
		return nil
	}
	if v.IsString {
		n, err := v.ScaledValue(100, false)
		if err != nil {
			return []meta.Cause{api.Invalid(field, v.StrVal, "a valid percent string must be a numeric string followed by an ending '%'")}
		}
		if n < 0 || n > 100 {
			return []meta.Cause{api.Invalid(field, v.StrVal, "must not be greater than 100%")}
		}
		return nil
	}
	if v.IntVal < 0 {
		return []meta.Cause{api.Invalid(field, v.IntVal, "must be greater than or equal to 0")}
	}
	return nil
}

// validateWorkload checks what replica sets and deployments share: a
// non-negative replica count, a non-empty selector that the template's
// labels match, and a valid template.
func validateWorkload(replicas *int32, sel *api.LabelSelector, tpl *corev1.PodTemplateSpec, minReady int32) []meta.Cause {
	var causes []meta.Cause
	if replicas != nil && *replicas < 0 {
		causes = append(causes, api.Invalid("spec.replicas", *replicas, "must be greater than or equal to 0"))
	}
	if minReady < 0 {
		causes = append(causes, api.Invalid("spec.minReadySeconds", minReady, "must be greater than or equal to 0"))
	}
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		causes = append(causes, api.Required("spec.selector", ""), api.Invalid("spec.selector", "null", "empty selector is invalid for deployment"))
	} else if s, err := sel.Selector(); err != nil {
		causes = append(causes, api.Invalid("spec.selector", sel.String(), err.Error()))
	} else if !s.Matches(tpl.Labels) {
		causes = append(causes, api.Invalid("spec.template.metadata.labels", labelsString(tpl.Labels),
			"`selector` does not match template `labels`"))
	}
	causes = append(causes, api.ValidateLabels(tpl.Labels, "spec.template.metadata.labels")...)
	causes = append(causes, corev1.ValidatePodSpec(&tpl.Spec, "spec.template.spec")...)
	if p := tpl.Spec.RestartPolicy; p != "" && p != corev1.RestartPolicyAlways {
		causes = append(causes, api.NotSupported("spec.template.spec.restartPolicy", string(p), "Always"))
	}
	return causes
}

func immutableSelector(o, n *api.LabelSelector) []meta.Cause {
	if o.String() != n.String() {
		return []meta.Cause{api.Invalid("spec.selector", n.String(), "field is immutable")}
	}
	return nil
}

func labelsString(l map[string]string) string {
	return (&api.LabelSelector{MatchLabels: l}).String()
}

func selectorCell(s *api.LabelSelector) string {
	if str := s.String(); str != "" {
		return str
	}
	return "<none>"
}

func containerCells(spec *corev1.PodSpec) (names, images string) {
	var n, i []string
	for _, c := range spec.Containers {
		n = append(n, c.Name)
		i = append(i, c.Image)
	}
	return strings.Join(n, ","), strings.Join(i, ",")
}
