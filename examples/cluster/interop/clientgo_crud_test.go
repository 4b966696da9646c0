package interop_test

import (
	"context"
	"encoding/json"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"
)

func testPod(name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "app", Image: "nginx:1.27", Env: []corev1.EnvVar{{Name: "A", Value: "1"}}},
			{Name: "sidecar", Image: "busybox:1.36"},
		}},
	}
}

// TestClientGoTypedPodCRUD drives every verb of client-go's typed pods
// client, speaking JSON, and checks what each answers.
func TestClientGoTypedPodCRUD(t *testing.T) {
	ts := startServer(t, memoryStorage)
	ctx := testContext(t)
	pods := ts.clientset(t).CoreV1().Pods("default")

	created, err := pods.Create(ctx, testPod("web", map[string]string{"app": "web"}), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.UID == "" || created.ResourceVersion == "" || created.CreationTimestamp.IsZero() {
		t.Fatalf("create answered %+v, want uid, resourceVersion and creationTimestamp set", created.ObjectMeta)
	}
	if _, err := pods.Create(ctx, testPod("web", nil), metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	if _, err := pods.Create(ctx, testPod("other", map[string]string{"app": "other"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	got, err := pods.Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.UID != created.UID || got.Spec.Containers[0].Image != "nginx:1.27" {
		t.Fatalf("get answered %s %s, want %s nginx:1.27", got.UID, got.Spec.Containers[0].Image, created.UID)
	}
	if _, err := pods.Get(ctx, "missing", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get missing: %v, want NotFound", err)
	}

	list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(list.Items) != 1 || list.Items[0].Name != "web" || list.ResourceVersion == "" {
		t.Fatalf("list app=web answered %d items at RV %q, want web", len(list.Items), list.ResourceVersion)
	}
	all, err := pods.List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=other"})
	if err != nil || len(all.Items) != 1 || all.Items[0].Name != "other" {
		t.Fatalf("list metadata.name=other: %v %v", all, err)
	}

	got.Labels["tier"] = "front"
	updated, err := pods.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if updated.Labels["tier"] != "front" || updated.ResourceVersion == got.ResourceVersion {
		t.Fatalf("update answered labels %v at RV %s", updated.Labels, updated.ResourceVersion)
	}
	// The stale object gets Kubernetes' 409.
	if _, err := pods.Update(ctx, got, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("update with a stale resourceVersion: %v, want Conflict", err)
	}

	updated.Status.Phase = corev1.PodRunning
	updated.Status.PodIP = "10.0.0.7"
	status, err := pods.UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("updateStatus: %v", err)
	}
	if status.Status.Phase != corev1.PodRunning || status.Status.PodIP != "10.0.0.7" {
		t.Fatalf("updateStatus answered %+v", status.Status)
	}

	merged, err := pods.Patch(ctx, "web", types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"tier":null,"track":"stable"}}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("merge patch: %v", err)
	}
	if _, ok := merged.Labels["tier"]; ok || merged.Labels["track"] != "stable" {
		t.Fatalf("merge patch answered labels %v, want tier removed and track=stable", merged.Labels)
	}

	jsonPatched, err := pods.Patch(ctx, "web", types.JSONPatchType,
		[]byte(`[{"op":"test","path":"/metadata/labels/track","value":"stable"},{"op":"replace","path":"/spec/containers/1/image","value":"busybox:1.37"}]`),
		metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("json patch: %v", err)
	}
	if img := jsonPatched.Spec.Containers[1].Image; img != "busybox:1.37" {
		t.Fatalf("json patch answered sidecar image %q", img)
	}
	if _, err := pods.Patch(ctx, "web", types.JSONPatchType,
		[]byte(`[{"op":"test","path":"/metadata/labels/track","value":"canary"}]`), metav1.PatchOptions{}); err == nil || apierrors.ReasonForError(err) == metav1.StatusReasonInternalError {
		t.Fatalf("json patch with a failing test op: %v, want a 4xx", err)
	}

	// A strategic merge patch merges containers by name: only the app
	// container's image changes and its env keeps A.
	strategic, err := pods.Patch(ctx, "web", types.StrategicMergePatchType,
		[]byte(`{"spec":{"containers":[{"name":"app","image":"nginx:1.28"}]}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("strategic merge patch: %v", err)
	}
	if c := strategic.Spec.Containers; len(c) != 2 || c[0].Image != "nginx:1.28" || len(c[0].Env) != 1 || c[1].Image != "busybox:1.37" {
		t.Fatalf("strategic merge patch answered containers %+v", c)
	}
	if strategic.Status.Phase != corev1.PodRunning {
		t.Fatalf("a patch of the main resource lost the status: %+v", strategic.Status)
	}

	if err := pods.Delete(ctx, "web", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: ptr(types.UID("not-the-uid"))}}); !apierrors.IsConflict(err) {
		t.Fatalf("delete with a wrong uid precondition: %v, want Conflict", err)
	}
	if err := pods.Delete(ctx, "web", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &created.UID}}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := pods.Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get after delete: %v, want NotFound", err)
	}
	if err := pods.Delete(ctx, "web", metav1.DeleteOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("second delete: %v, want NotFound", err)
	}
	left, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil || len(left.Items) != 1 || left.Items[0].Name != "other" {
		t.Fatalf("list after delete: %v %v, want other only", left, err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestClientGoDeploymentScale creates an apps/v1 Deployment with
// client-go and reads and writes its scale subresource.
func TestClientGoDeploymentScale(t *testing.T) {
	ts := startServer(t, memoryStorage)
	ctx := testContext(t)
	deployments := ts.clientset(t).AppsV1().Deployments("default")

	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}}},
			},
		},
	}
	created, err := deployments.Create(ctx, d, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if *created.Spec.Replicas != 2 {
		t.Fatalf("create answered replicas %d", *created.Spec.Replicas)
	}

	scale, err := deployments.GetScale(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get scale: %v", err)
	}
	if scale.Spec.Replicas != 2 || scale.Name != "web" || scale.ResourceVersion == "" {
		t.Fatalf("get scale answered %+v", scale)
	}
	scale.Spec.Replicas = 5
	if _, err := deployments.UpdateScale(ctx, "web", scale, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update scale: %v", err)
	}
	got, err := deployments.Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *got.Spec.Replicas != 5 {
		t.Fatalf("after scaling to 5 the deployment has %d replicas", *got.Spec.Replicas)
	}
	// The scale read before the write is stale now.
	scale.Spec.Replicas = 1
	if _, err := deployments.UpdateScale(ctx, "web", scale, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("update scale with a stale resourceVersion: %v, want Conflict", err)
	}
	applied, err := deployments.UpdateScale(ctx, "web",
		&autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}, Spec: autoscalingv1.ScaleSpec{Replicas: 3}},
		metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update scale without a resourceVersion: %v", err)
	}
	if applied.Spec.Replicas != 3 {
		t.Fatalf("update scale answered %+v", applied.Spec)
	}
	if err := deployments.Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
}

// TestClientGoRetryOnConflict races two writers deterministically: the
// first attempt of retry.RetryOnConflict writes an object that another
// client changed behind its back, gets 409 Conflict, and the second
// attempt, on a fresh read, keeps both changes.
func TestClientGoRetryOnConflict(t *testing.T) {
	ts := startServer(t, memoryStorage)
	ctx := testContext(t)
	mine := ts.clientset(t).CoreV1().ConfigMaps("default")
	theirs := ts.clientset(t).CoreV1().ConfigMaps("default")

	if _, err := mine.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"},
		Data: map[string]string{"a": "1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	attempts := 0
	var conflicts []error
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		attempts++
		cm, err := mine.Get(ctx, "settings", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if attempts == 1 {
			// The other writer gets in between our read and our write.
			other := cm.DeepCopy()
			other.Data["b"] = "2"
			if _, err := theirs.Update(ctx, other, metav1.UpdateOptions{}); err != nil {
				t.Errorf("the other writer: %v", err)
			}
		}
		cm.Data["c"] = "3"
		_, err = mine.Update(ctx, cm, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			conflicts = append(conflicts, err)
		}
		return err
	})
	if err != nil {
		t.Fatalf("RetryOnConflict: %v", err)
	}
	if attempts != 2 || len(conflicts) != 1 {
		t.Fatalf("%d attempts with conflicts %v, want 2 attempts and one conflict", attempts, conflicts)
	}
	want := `Operation cannot be fulfilled on configmaps "settings": the object has been modified; please apply your changes to the latest version and try again`
	if msg := conflicts[0].Error(); msg != want {
		t.Errorf("conflict message %q, want %q", msg, want)
	}
	got, err := mine.Get(ctx, "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Data["a"] != "1" || got.Data["b"] != "2" || got.Data["c"] != "3" {
		t.Fatalf("data %v, want both writers' keys", got.Data)
	}
}

// TestClientGoDynamic drives client-go's dynamic client on a built-in
// resource: create, get, list, update, merge patch, delete of
// unstructured objects.
func TestClientGoDynamic(t *testing.T) {
	ts := startServer(t, memoryStorage)
	ctx := testContext(t)
	gvr := schema.GroupVersionResource{Group: "", Version: "v1", Resource: "configmaps"}
	cms := ts.dynamic(t).Resource(gvr).Namespace("default")

	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "cfg", "labels": map[string]any{"app": "web"}},
		"data":     map[string]any{"k": "v"},
	}}
	created, err := cms.Create(ctx, obj, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.GetUID() == "" || created.GetNamespace() != "default" || created.GetKind() != "ConfigMap" {
		t.Fatalf("create answered %v", created.Object)
	}
	got, err := cms.Get(ctx, "cfg", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if v, _, _ := unstructured.NestedString(got.Object, "data", "k"); v != "v" {
		t.Fatalf("get answered data.k %q", v)
	}
	list, err := cms.List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(list.Items) != 1 || list.Items[0].GetName() != "cfg" || list.GetResourceVersion() == "" || list.GetKind() != "ConfigMapList" {
		t.Fatalf("list answered %s with %d items at RV %q", list.GetKind(), len(list.Items), list.GetResourceVersion())
	}
	if err := unstructured.SetNestedField(got.Object, "w", "data", "k"); err != nil {
		t.Fatal(err)
	}
	updated, err := cms.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if v, _, _ := unstructured.NestedString(updated.Object, "data", "k"); v != "w" {
		t.Fatalf("update answered data.k %q", v)
	}
	if _, err := cms.Update(ctx, got, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("update with a stale resourceVersion: %v, want Conflict", err)
	}
	patch, _ := json.Marshal(map[string]any{"data": map[string]any{"k2": "x"}})
	patched, err := cms.Patch(ctx, "cfg", types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("merge patch: %v", err)
	}
	if data, _, _ := unstructured.NestedStringMap(patched.Object, "data"); data["k"] != "w" || data["k2"] != "x" {
		t.Fatalf("merge patch answered data %v", data)
	}
	if err := cms.Delete(ctx, "cfg", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := cms.Get(ctx, "cfg", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get after delete: %v, want NotFound", err)
	}
}

// widgetsCRD is a namespaced CustomResourceDefinition with a structural
// schema and the status and scale subresources.
func widgetsCRD() *apiextv1.CustomResourceDefinition {
	return &apiextv1.CustomResourceDefinition{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition"},
		ObjectMeta: metav1.ObjectMeta{Name: "widgets.example.com"},
		Spec: apiextv1.CustomResourceDefinitionSpec{
			Group: "example.com",
			Scope: apiextv1.NamespaceScoped,
			Names: apiextv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", Kind: "Widget",
				ListKind: "WidgetList", ShortNames: []string{"wg"}},
			Versions: []apiextv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextv1.CustomResourceValidation{OpenAPIV3Schema: &apiextv1.JSONSchemaProps{
					Type: "object",
					Properties: map[string]apiextv1.JSONSchemaProps{
						"spec": {Type: "object", Required: []string{"image"}, Properties: map[string]apiextv1.JSONSchemaProps{
							"image":    {Type: "string", MinLength: ptr(int64(1))},
							"replicas": {Type: "integer", Minimum: ptr(0.0)},
						}},
						"status": {Type: "object", Properties: map[string]apiextv1.JSONSchemaProps{
							"replicas": {Type: "integer"},
						}},
					},
				}},
				Subresources: &apiextv1.CustomResourceSubresources{
					Status: &apiextv1.CustomResourceSubresourceStatus{},
					Scale: &apiextv1.CustomResourceSubresourceScale{SpecReplicasPath: ".spec.replicas",
						StatusReplicasPath: ".status.replicas"},
				},
			}},
		},
	}
}

// createCRD creates crd with the dynamic client and waits, on a watch,
// for its Established condition, as a client-go user does.
func createCRD(ctx context.Context, t *testing.T, dc dynamic.Interface, crd *apiextv1.CustomResourceDefinition) {
	t.Helper()
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(crd)
	if err != nil {
		t.Fatal(err)
	}
	crds := dc.Resource(apiextv1.SchemeGroupVersion.WithResource("customresourcedefinitions"))
	created, err := crds.Create(ctx, &unstructured.Unstructured{Object: u}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create CRD: %v", err)
	}
	w, err := crds.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + crd.Name, ResourceVersion: created.GetResourceVersion()})
	if err != nil {
		t.Fatalf("watch CRD: %v", err)
	}
	defer w.Stop()
	for cur := created; ; {
		var got apiextv1.CustomResourceDefinition
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(cur.Object, &got); err != nil {
			t.Fatal(err)
		}
		for _, c := range got.Status.Conditions {
			if c.Type == apiextv1.Established && c.Status == apiextv1.ConditionTrue {
				return
			}
		}
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("the CRD watch ended before Established")
			}
			if cur, ok = ev.Object.(*unstructured.Unstructured); !ok {
				t.Fatalf("CRD watch event %s: %T", ev.Type, ev.Object)
			}
		case <-ctx.Done():
			t.Fatal("the CRD never became Established")
		}
	}
}

// TestClientGoDynamicCustomResource creates a CRD and drives its objects
// with client-go's dynamic client: create (unknown fields pruned), get,
// list, update, merge patch, the status and scale subresources, schema
// validation, watch and delete.
func TestClientGoDynamicCustomResource(t *testing.T) {
	ts := startServer(t, memoryStorage)
	ctx := testContext(t)
	dc := ts.dynamic(t)
	createCRD(ctx, t, dc, widgetsCRD())
	widgets := dc.Resource(schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}).Namespace("default")

	w, err := widgets.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	defer w.Stop()

	created, err := widgets.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w1", "labels": map[string]any{"app": "x"}},
		"spec":     map[string]any{"image": "nginx", "replicas": int64(1), "unknown": "dropped"},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(created.Object, "spec", "unknown"); found || created.GetUID() == "" {
		t.Fatalf("create answered %v, want spec.unknown pruned and a uid", created.Object)
	}
	if _, err := widgets.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "bad"},
		"spec":     map[string]any{"image": "", "replicas": int64(-1)},
	}}, metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
		t.Fatalf("create of an invalid widget: %v, want Invalid", err)
	}

	got, err := widgets.Get(ctx, "w1", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	list, err := widgets.List(ctx, metav1.ListOptions{LabelSelector: "app=x"})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(list.Items) != 1 || list.Items[0].GetName() != "w1" || list.GetKind() != "WidgetList" {
		t.Fatalf("list answered %s with %d items", list.GetKind(), len(list.Items))
	}

	if err := unstructured.SetNestedField(got.Object, "nginx:1.28", "spec", "image"); err != nil {
		t.Fatal(err)
	}
	updated, err := widgets.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if _, err := widgets.Update(ctx, got, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("update with a stale resourceVersion: %v, want Conflict", err)
	}
	patched, err := widgets.Patch(ctx, "w1", types.MergePatchType, []byte(`{"spec":{"replicas":2}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("merge patch: %v", err)
	}
	if r, _, _ := unstructured.NestedInt64(patched.Object, "spec", "replicas"); r != 2 {
		t.Fatalf("merge patch answered spec.replicas %d", r)
	}

	// The status subresource writes status only; the main resource
	// ignores status.
	if err := unstructured.SetNestedField(patched.Object, int64(2), "status", "replicas"); err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(patched.Object, "ignored", "spec", "image"); err != nil {
		t.Fatal(err)
	}
	status, err := widgets.UpdateStatus(ctx, patched, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("updateStatus: %v", err)
	}
	if r, _, _ := unstructured.NestedInt64(status.Object, "status", "replicas"); r != 2 {
		t.Fatalf("updateStatus answered status.replicas %d", r)
	}
	if img, _, _ := unstructured.NestedString(status.Object, "spec", "image"); img != "nginx:1.28" {
		t.Fatalf("updateStatus changed spec.image to %q", img)
	}

	scale, err := widgets.Get(ctx, "w1", metav1.GetOptions{}, "scale")
	if err != nil {
		t.Fatalf("get scale: %v", err)
	}
	if r, _, _ := unstructured.NestedInt64(scale.Object, "spec", "replicas"); r != 2 || scale.GetKind() != "Scale" {
		t.Fatalf("scale %v", scale.Object)
	}
	if err := unstructured.SetNestedField(scale.Object, int64(4), "spec", "replicas"); err != nil {
		t.Fatal(err)
	}
	if _, err := widgets.Update(ctx, scale, metav1.UpdateOptions{}, "scale"); err != nil {
		t.Fatalf("update scale: %v", err)
	}

	if err := widgets.Delete(ctx, "w1", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := widgets.Get(ctx, "w1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get after delete: %v, want NotFound", err)
	}

	// The watch saw every write, in order.
	wantTypes := []string{"ADDED", "MODIFIED", "MODIFIED", "MODIFIED", "MODIFIED", "DELETED"}
	wantRVs := []string{created.GetResourceVersion(), updated.GetResourceVersion(), patched.GetResourceVersion(), status.GetResourceVersion(), "", ""}
	for i, typ := range wantTypes {
		select {
		case ev := <-w.ResultChan():
			u, ok := ev.Object.(*unstructured.Unstructured)
			if !ok || string(ev.Type) != typ || wantRVs[i] != "" && u.GetResourceVersion() != wantRVs[i] {
				t.Fatalf("watch event %d: %s %v, want %s at %q", i, ev.Type, ev.Object, typ, wantRVs[i])
			}
			if i == 4 {
				if r, _, _ := unstructured.NestedInt64(u.Object, "spec", "replicas"); r != 4 {
					t.Fatalf("after the scale write spec.replicas is %d", r)
				}
			}
		case <-ctx.Done():
			t.Fatalf("the watch saw %d of %d events", i, len(wantTypes))
		}
	}
}
