package main

import (
	"os/exec"
	"strings"
	"testing"
)

const crdYAML = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wg]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
    additionalPrinterColumns:
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Color, type: string, jsonPath: .spec.color}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [color]
            properties:
              replicas: {type: integer, minimum: 0, default: 1}
              color: {type: string, enum: [red, blue]}
          status:
            type: object
            properties:
              replicas: {type: integer}
`

const widgetYAML = `apiVersion: example.com/v1
kind: Widget
metadata:
  name: w1
spec:
  color: red
  shape: round
`

// TestKubectlCRDSession runs a scripted kubectl session on a CRD and its
// objects, and on a schemaless resource given by flag.
func TestKubectlCRDSession(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not installed (apt-get install kubernetes-client)")
	}
	s := startServer(t, "-storage", "memory", "-data-dir", t.TempDir(),
		"-schemaless-resource", "thirdparty.io/v1/bundles:Bundle")
	mustContain(t, "apply crd", s.kubectl(t, crdYAML, "apply", "-f", "-"), "customresourcedefinition.apiextensions.k8s.io/widgets.example.com created")
	mustContain(t, "wait", s.kubectl(t, "", "wait", "--for", "condition=established", "--timeout=30s", "crd/widgets.example.com"), "condition met")
	mustContain(t, "api-resources", s.kubectl(t, "", "api-resources", "--api-group", "example.com"), "widgets", "wg", "example.com/v1", "Widget")
	mustContain(t, "get crd", s.kubectl(t, "", "get", "crd"), "widgets.example.com")

	mustContain(t, "apply", s.kubectl(t, widgetYAML, "apply", "-f", "-"), "widget.example.com/w1 created")
	mustContain(t, "apply again", s.kubectl(t, strings.Replace(widgetYAML, "red", "blue", 1), "apply", "-f", "-"), "widget.example.com/w1 configured")
	mustContain(t, "get", s.kubectl(t, "", "get", "widgets"), "NAME", "REPLICAS", "COLOR", "AGE", "w1", "1", "blue")
	mustContain(t, "short name", s.kubectl(t, "", "get", "wg", "-o", "name"), "widget.example.com/w1")
	mustContain(t, "pruned", s.kubectl(t, "", "get", "widget", "w1", "-o", "jsonpath={.spec}"), `"color":"blue"`, `"replicas":1`)
	if out := s.kubectl(t, "", "get", "widget", "w1", "-o", "jsonpath={.spec}"); strings.Contains(out, "shape") {
		t.Fatalf("the unknown field was kept:\n%s", out)
	}
	mustContain(t, "patch merge", s.kubectl(t, "", "patch", "widget", "w1", "--type", "merge", "-p", `{"spec":{"replicas":4}}`), "widget.example.com/w1 patched")
	mustContain(t, "scale", s.kubectl(t, "", "scale", "widget", "w1", "--replicas=2"), "widget.example.com/w1 scaled")
	mustContain(t, "after scale", s.kubectl(t, "", "get", "wg", "w1"), "w1", "2", "blue")

	bad := exec.Command("kubectl", "patch", "widget", "w1", "--type", "merge", "-p", `{"spec":{"color":"green"}}`)
	bad.Env = append(bad.Environ(), "KUBECONFIG="+s.kubeconfig, "HOME="+t.TempDir())
	out, err := bad.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "spec.color") || !strings.Contains(string(out), "Unsupported value") {
		t.Fatalf("an invalid patch: %v\n%s", err, out)
	}

	mustContain(t, "schemaless", s.kubectl(t, "apiVersion: thirdparty.io/v1\nkind: Bundle\nmetadata: {name: b}\nspec: {anything: [1, two]}\n", "apply", "-f", "-"), "bundle.thirdparty.io/b created")
	mustContain(t, "schemaless get", s.kubectl(t, "", "get", "bundles", "b", "-o", "jsonpath={.spec.anything[1]}"), "two")

	mustContain(t, "delete crd", s.kubectl(t, "", "delete", "crd", "widgets.example.com"), `customresourcedefinition.apiextensions.k8s.io "widgets.example.com" deleted`)
	mustContain(t, "gone", s.kubectl(t, "", "api-resources", "--api-group", "example.com"), "NAME")
	if out := s.kubectl(t, "", "api-resources", "--api-group", "example.com"); strings.Contains(out, "widgets") {
		t.Fatalf("widgets still served:\n%s", out)
	}
}
