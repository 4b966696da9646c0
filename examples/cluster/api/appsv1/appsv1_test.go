package appsv1_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/examples/cluster/api/appsv1"
	"github.com/governor-io/governor/examples/cluster/api/corev1"
	"github.com/governor-io/governor/store/meta"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func deployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "default", CreationTimestamp: meta.NewTime(now.Add(-time.Hour))},
		Spec: appsv1.DeploymentSpec{
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: meta.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx:1.27"}, {Name: "log", Image: "busybox"}}},
			},
		},
	}
}

func ExampleDeployments() {
	d := deployment()
	appsv1.Deployments.Default(d)
	d.Status = appsv1.DeploymentStatus{ReadyReplicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}
	fmt.Println(appsv1.Deployments.Cells(d, now))
	fmt.Println(appsv1.Deployments.Scale.Selector(d), d.Spec.Strategy.RollingUpdate.MaxSurge)
	// Output:
	// [web 1/1 1 1 60m nginx,log nginx:1.27,busybox app=web]
	// app=web 25%
}

func TestDeploymentDefaultsAndValidation(t *testing.T) {
	d := deployment()
	appsv1.Deployments.Default(d)
	if *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != "RollingUpdate" || *d.Spec.RevisionHistoryLimit != 10 ||
		*d.Spec.ProgressDeadlineSeconds != 600 || d.Spec.Template.Spec.RestartPolicy != "Always" {
		t.Fatalf("defaults %+v", d.Spec)
	}
	if causes := appsv1.Deployments.Validate(d); len(causes) != 0 {
		t.Fatalf("valid deployment rejected: %v", causes)
	}
	zero := api.FromInt(0)
	for _, tc := range []struct {
		name  string
		edit  func(*appsv1.Deployment)
		field string
	}{
		{"no selector", func(d *appsv1.Deployment) { d.Spec.Selector = nil }, "spec.selector"},
		{"selector mismatch", func(d *appsv1.Deployment) { d.Spec.Template.Labels = map[string]string{"app": "api"} }, "spec.template.metadata.labels"},
		{"negative replicas", func(d *appsv1.Deployment) { n := int32(-1); d.Spec.Replicas = &n }, "spec.replicas"},
		{"both zero", func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: &zero, MaxUnavailable: &zero}
		}, "spec.strategy.rollingUpdate.maxUnavailable"},
		{"bad strategy", func(d *appsv1.Deployment) { d.Spec.Strategy = appsv1.DeploymentStrategy{Type: "Blue"} }, "spec.strategy.type"},
		{"restart never", func(d *appsv1.Deployment) { d.Spec.Template.Spec.RestartPolicy = "Never" }, "spec.template.spec.restartPolicy"},
		{"no image", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "" }, "spec.template.spec.containers[0].image"},
	} {
		q := meta.DeepCopy(d)
		tc.edit(q)
		causes := appsv1.Deployments.Validate(q)
		if len(causes) == 0 || causes[0].Field != tc.field {
			t.Errorf("%s: causes %v, want field %s", tc.name, causes, tc.field)
		}
	}
	changed := meta.DeepCopy(d)
	changed.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": "other"}}
	if causes := appsv1.Deployments.ValidateUpdate(d, changed); len(causes) != 1 {
		t.Fatalf("selector change allowed: %v", causes)
	}
}

func TestScaleAccess(t *testing.T) {
	rs := &appsv1.ReplicaSet{Spec: appsv1.ReplicaSetSpec{Selector: &api.LabelSelector{MatchLabels: map[string]string{"a": "b"}}},
		Status: appsv1.ReplicaSetStatus{Replicas: 2}}
	s := appsv1.ReplicaSets.Scale
	if s.SpecReplicas(rs) != 1 {
		t.Fatalf("nil replicas read as %d, want 1", s.SpecReplicas(rs))
	}
	s.SetSpecReplicas(rs, 5)
	if *rs.Spec.Replicas != 5 || s.StatusReplicas(rs) != 2 || s.Selector(rs) != "a=b" {
		t.Fatalf("scale view %d %d %q", *rs.Spec.Replicas, s.StatusReplicas(rs), s.Selector(rs))
	}
	cells := appsv1.ReplicaSets.Cells(rs, now)
	if cells[1] != int64(5) || cells[2] != int64(2) {
		t.Fatalf("replica set cells %v", cells)
	}
}
