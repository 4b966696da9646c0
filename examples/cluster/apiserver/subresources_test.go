package apiserver_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/examples/cluster/apiserver"
	"github.com/governor-io/governor/store/mvcc"
)

// newBuiltinEnv serves every built-in resource.
func newBuiltinEnv(t *testing.T, mutate ...func(*apiserver.Config)) *env {
	t.Helper()
	e := &env{t: t, kv: mvcc.New(mvcc.Options{}), clock: clocktest.New(epoch)}
	cfg := apiserver.Config{KV: e.kv, Clock: e.clock}
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := apiserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	if err := apiserver.InstallBuiltins(srv); err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		e.ts.Close()
		srv.Close()
		e.kv.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

const testPod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}`

const testDeployment = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api"},"spec":{"replicas":2,
  "selector":{"matchLabels":{"app":"api"}},"template":{"metadata":{"labels":{"app":"api"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}`

func TestScaleSubresource(t *testing.T) {
	e := newBuiltinEnv(t)
	const base = "/apis/apps/v1/namespaces/ns/deployments/api"
	if r := e.do("POST", "/apis/apps/v1/namespaces/ns/deployments", testDeployment); r.code != 201 {
		t.Fatalf("%d %s", r.code, r.body)
	}
	r := e.do("GET", base+"/scale", "")
	sc := r.json(t)
	if r.code != 200 || sc["kind"] != "Scale" || sc["apiVersion"] != "autoscaling/v1" ||
		fmt.Sprint(sc["spec"]) != "map[replicas:2]" || sc["status"].(map[string]any)["selector"] != "app=api" {
		t.Fatalf("%d %s", r.code, r.body)
	}
	rv := metaOf(sc)["resourceVersion"].(string)
	if r := e.do("PUT", base+"/scale", `{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"api","resourceVersion":"`+rv+`"},"spec":{"replicas":5}}`); r.code != 200 || fmt.Sprint(r.json(t)["spec"]) != "map[replicas:5]" {
		t.Fatalf("%d %s", r.code, r.body)
	}
	if r := e.do("GET", base, ""); !strings.Contains(r.body, `"replicas":5`) {
		t.Fatalf("the deployment was not scaled: %s", r.body)
	}
	if r := e.do("PUT", base+"/scale", `{"metadata":{"name":"api","resourceVersion":"`+rv+`"},"spec":{"replicas":6}}`); r.code != 409 {
		t.Fatalf("a stale Scale: %d %s", r.code, r.body)
	}
	if r := e.do("PATCH", base+"/scale", `{"spec":{"replicas":1}}`, "Content-Type", "application/merge-patch+json"); r.code != 200 || fmt.Sprint(r.json(t)["spec"]) != "map[replicas:1]" {
		t.Fatalf("%d %s", r.code, r.body)
	}
	if r := e.do("PATCH", base+"/scale", `{"spec":{"replicas":-1}}`, "Content-Type", "application/merge-patch+json"); r.code != 422 {
		t.Fatalf("negative replicas: %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/api/v1/namespaces/ns/pods/web/scale", ""); r.code != 404 {
		t.Fatalf("pods have no scale: %d", r.code)
	}
}

func TestBindingAndEviction(t *testing.T) {
	e := newBuiltinEnv(t)
	const base = "/api/v1/namespaces/ns/pods/web"
	if r := e.do("POST", "/api/v1/namespaces/ns/pods", testPod); r.code != 201 {
		t.Fatalf("%d %s", r.code, r.body)
	}
	bind := `{"apiVersion":"v1","kind":"Binding","metadata":{"name":"web"},"target":{"kind":"Node","name":"node-1"}}`
	r := e.do("POST", base+"/binding", bind)
	if r.code != 201 || r.json(t)["status"] != "Success" {
		t.Fatalf("%d %s", r.code, r.body)
	}
	r = e.do("GET", base, "")
	if !strings.Contains(r.body, `"nodeName":"node-1"`) || !strings.Contains(r.body, `{"type":"PodScheduled","status":"True"`) {
		t.Fatalf("not bound: %s", r.body)
	}
	if r := e.do("POST", base+"/binding", bind); r.code != 409 {
		t.Fatalf("a second binding: %d %s", r.code, r.body)
	}
	if r := e.do("POST", base+"/binding", `{"metadata":{"name":"other"},"target":{"name":"n"}}`); r.code != 400 {
		t.Fatalf("a binding of another pod: %d %s", r.code, r.body)
	}
	if r := e.do("GET", base+"/binding", ""); r.code != 405 {
		t.Fatalf("GET binding: %d %s", r.code, r.body)
	}
	r = e.do("POST", base+"/eviction", `{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"web","namespace":"ns"},"deleteOptions":{"gracePeriodSeconds":0}}`)
	if r.code != 201 {
		t.Fatalf("%d %s", r.code, r.body)
	}
	if r := e.do("GET", base, ""); r.code != 404 {
		t.Fatalf("evicted pod still there: %d", r.code)
	}
	if r := e.do("POST", base+"/eviction", `{"metadata":{"name":"web"}}`); r.code != 404 {
		t.Fatalf("evicting a missing pod: %d %s", r.code, r.body)
	}
	disc := e.do("GET", "/api/v1", "").body
	for _, want := range []string{`"name":"pods/binding"`, `"name":"pods/eviction"`, `"name":"pods/status"`} {
		if !strings.Contains(disc, want) {
			t.Errorf("discovery lacks %s", want)
		}
	}
	if !strings.Contains(e.do("GET", "/apis/apps/v1", "").body, `"name":"deployments/scale","singularName":"","namespaced":true,"group":"autoscaling","version":"v1","kind":"Scale"`) {
		t.Error("discovery lacks deployments/scale")
	}
}

func TestNamespaceLifecycle(t *testing.T) {
	e := newBuiltinEnv(t, func(c *apiserver.Config) { c.CheckNamespaces = true })
	r := e.do("POST", "/api/v1/namespaces/ns/pods", testPod)
	if r.code != 404 || r.json(t)["message"] != `namespaces "ns" not found` {
		t.Fatalf("a pod in a missing namespace: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/namespaces", `{"metadata":{"name":"ns","finalizers":["example.com/hold"]}}`); r.code != 201 {
		t.Fatalf("%d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/namespaces/ns/pods", testPod); r.code != 201 {
		t.Fatalf("a pod in an existing namespace: %d %s", r.code, r.body)
	}
	if r := e.do("DELETE", "/api/v1/namespaces/ns", ""); r.code != 200 || metaOf(r.json(t))["deletionTimestamp"] == nil {
		t.Fatalf("%d %s", r.code, r.body)
	}
	r = e.do("POST", "/api/v1/namespaces/ns/pods", strings.Replace(testPod, `"web"`, `"late"`, 1))
	if r.code != 403 || r.json(t)["reason"] != "Forbidden" {
		t.Fatalf("a pod in a terminating namespace: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/nodes", `{"metadata":{"name":"n1"}}`); r.code != 201 {
		t.Fatalf("cluster-scoped objects need no namespace: %d %s", r.code, r.body)
	}
}
