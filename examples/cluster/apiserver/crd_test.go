package apiserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/examples/cluster/api/apiextensionsv1"
	"github.com/governor-io/governor/examples/cluster/apiserver"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// widgetsCRD is a namespaced CRD with two versions (v1 stored), status
// and scale, printer columns, short names and categories, and a schema
// with required fields, an enum, a range and a default.
const widgetsCRD = `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
 "metadata":{"name":"widgets.example.com"},
 "spec":{"group":"example.com","scope":"Namespaced",
  "names":{"plural":"widgets","singular":"widget","kind":"Widget","shortNames":["wg"],"categories":["all"]},
  "versions":[
   {"name":"v1","served":true,"storage":true,
    "subresources":{"status":{},"scale":{"specReplicasPath":".spec.replicas","statusReplicasPath":".status.replicas","labelSelectorPath":".status.selector"}},
    "additionalPrinterColumns":[
     {"name":"Replicas","type":"integer","jsonPath":".spec.replicas"},
     {"name":"Phase","type":"string","jsonPath":".status.phase"},
     {"name":"Image","type":"string","jsonPath":".spec.image","priority":1},
     {"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}],
    "schema":{"openAPIV3Schema":{"type":"object","properties":{
     "spec":{"type":"object","required":["image"],"properties":{
      "image":{"type":"string","minLength":1},
      "replicas":{"type":"integer","minimum":0,"maximum":100,"default":1},
      "color":{"type":"string","enum":["red","blue"]},
      "extra":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}},
     "status":{"type":"object","properties":{"replicas":{"type":"integer"},"phase":{"type":"string"},"selector":{"type":"string"}}}}}}},
   {"name":"v1beta1","served":true,"storage":false,
    "schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}`

const crdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"

// newCRDEnv starts a server with the test resources and custom
// resources over kvs (a new engine when nil).
func newCRDEnv(t *testing.T, engine *mvcc.Engine, mutate ...func(*apiserver.Config)) *env {
	t.Helper()
	owned := engine == nil
	if owned {
		engine = mvcc.New(mvcc.Options{})
	}
	e := &env{t: t, kv: engine, clock: clocktest.New(epoch)}
	cfg := apiserver.Config{KV: e.kv, Clock: e.clock, MaxRequestBodyBytes: 64 << 10}
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := apiserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	if err := apiserver.Register(srv, gadgets); err != nil {
		t.Fatal(err)
	}
	if err := apiserver.InstallCustomResources(srv); err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		e.ts.Close()
		srv.Close()
		if owned {
			e.kv.Close()
		}
	})
	e.waitReady()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := apiserver.WaitCRDsSynced(ctx, srv); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) waitServed(name string, gen int64) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.WaitCustomResource(ctx, name, gen); err != nil {
		e.t.Fatalf("waiting for CRD %s at generation %d: %v", name, gen, err)
	}
}

// waitCRD follows the CRD name in the store until cond holds for it (nil
// once it is gone).
func (e *env) waitCRD(name string, cond func(*apiextensionsv1.CustomResourceDefinition) bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := store.New(e.kv, apiextensionsv1.CustomResourceDefinitions.StoreResource())
	ch, err := st.Watch(ctx, meta.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		e.t.Fatal(err)
	}
	if cur, err := st.Get(ctx, "", name); err != nil && cond(nil) || err == nil && cond(cur) {
		return
	}
	for ev := range ch {
		switch ev.Type {
		case meta.Deleted:
			if cond(nil) {
				return
			}
		case meta.Added, meta.Modified:
			if cond(ev.Object) {
				return
			}
		case meta.Error:
			e.t.Fatal(ev.Err)
		}
	}
	e.t.Fatalf("CRD %s: condition not reached: %v", name, ctx.Err())
}

func established(c *apiextensionsv1.CustomResourceDefinition) bool {
	if c == nil {
		return false
	}
	for _, cond := range c.Status.Conditions {
		if cond.Type == apiserver.CRDEstablished && cond.Status == "True" {
			return true
		}
	}
	return false
}

func (e *env) mustDo(code int, method, path, body string, header ...string) map[string]any {
	e.t.Helper()
	r := e.do(method, path, body, header...)
	if r.code != code {
		e.t.Fatalf("%s %s: %d, want %d: %s", method, path, r.code, code, r.body)
	}
	return r.json(e.t)
}

func field(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		o, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = o[p]
	}
	return cur
}

// TestCustomResources walks a CRD through its life: create, discovery,
// CRUD and watch on its objects in both versions, status and scale,
// printer columns, validation, and delete.
func TestCustomResources(t *testing.T) {
	e := newCRDEnv(t, nil)
	const objs = "/apis/example.com/v1/namespaces/ns/widgets"
	if r := e.do("GET", objs, ""); r.code != http.StatusNotFound {
		t.Fatalf("before the CRD: %d %s", r.code, r.body)
	}
	crd := e.mustDo(201, "POST", crdPath, widgetsCRD)
	if !slices.Contains(field(crd, "metadata", "finalizers").([]any), any(apiserver.CRDCleanupFinalizer)) {
		t.Fatalf("no cleanup finalizer: %v", field(crd, "metadata"))
	}
	e.waitServed("widgets.example.com", 1)
	e.waitCRD("widgets.example.com", established)

	t.Run("status", func(t *testing.T) {
		c := e.mustDo(200, "GET", crdPath+"/widgets.example.com", "")
		conds := map[string]string{}
		for _, x := range field(c, "status", "conditions").([]any) {
			conds[x.(map[string]any)["type"].(string)] = x.(map[string]any)["status"].(string)
		}
		if conds["Established"] != "True" || conds["NamesAccepted"] != "True" {
			t.Errorf("conditions %v", conds)
		}
		if field(c, "status", "acceptedNames", "kind") != "Widget" || field(c, "status", "acceptedNames", "shortNames").([]any)[0] != "wg" {
			t.Errorf("acceptedNames %v", field(c, "status", "acceptedNames"))
		}
		if sv := field(c, "status", "storedVersions").([]any); len(sv) != 1 || sv[0] != "v1" {
			t.Errorf("storedVersions %v", sv)
		}
	})

	t.Run("discovery", func(t *testing.T) {
		groups := e.mustDo(200, "GET", "/apis", "")
		found := false
		for _, g := range groups["groups"].([]any) {
			g := g.(map[string]any)
			if g["name"] == "example.com" {
				found = true
				if vs := g["versions"].([]any); len(vs) != 2 {
					t.Errorf("versions %v", vs)
				}
			}
		}
		if !found {
			t.Fatalf("example.com not in /apis: %v", groups)
		}
		l := e.mustDo(200, "GET", "/apis/example.com/v1", "")
		names := map[string]map[string]any{}
		for _, r := range l["resources"].([]any) {
			names[r.(map[string]any)["name"].(string)] = r.(map[string]any)
		}
		w := names["widgets"]
		if w == nil || w["kind"] != "Widget" || w["namespaced"] != true || w["singularName"] != "widget" ||
			w["shortNames"].([]any)[0] != "wg" || w["categories"].([]any)[0] != "all" {
			t.Errorf("widgets in discovery: %v", w)
		}
		if names["widgets/status"] == nil || field(names["widgets/scale"], "kind") != "Scale" || field(names["widgets/scale"], "group") != "autoscaling" {
			t.Errorf("subresources in discovery: %v", names)
		}
		if l := e.mustDo(200, "GET", "/apis/example.com/v1beta1", ""); len(l["resources"].([]any)) != 1 {
			t.Errorf("v1beta1 serves no status or scale: %v", l)
		}
	})

	// Create: unknown fields pruned, defaults filled, preserved subtree
	// kept.
	created := e.mustDo(201, "POST", objs, `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1","labels":{"app":"x"}},
		"spec":{"image":"nginx","unknown":1,"extra":{"any":{"thing":[1,2]}}},"top":"level"}`)
	if field(created, "spec", "replicas") != 1.0 || field(created, "spec", "unknown") != nil || created["top"] != nil ||
		field(created, "spec", "extra", "any", "thing") == nil {
		t.Fatalf("created %v", created)
	}
	rv1 := field(created, "metadata", "resourceVersion").(string)

	t.Run("invalid objects get 422 with field paths", func(t *testing.T) {
		r := e.do("POST", objs, `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"bad"},"spec":{"image":"","replicas":-1,"color":"green"}}`)
		if r.code != 422 {
			t.Fatalf("%d %s", r.code, r.body)
		}
		st := r.json(t)
		var fields []string
		for _, c := range field(st, "details", "causes").([]any) {
			fields = append(fields, c.(map[string]any)["field"].(string))
		}
		slices.Sort(fields)
		if want := []string{"spec.color", "spec.image", "spec.replicas"}; !slices.Equal(fields, want) {
			t.Errorf("causes %v, want fields %v: %s", fields, want, r.body)
		}
		if st["reason"] != "Invalid" || !strings.Contains(st["message"].(string), `"bad" is invalid: spec.color`) {
			t.Errorf("status %v", st)
		}
		r = e.do("POST", objs, `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"bad"},"spec":{}}`)
		if r.code != 422 || !strings.Contains(r.body, `"field":"spec.image"`) || !strings.Contains(r.body, "Required value") {
			t.Errorf("missing required: %d %s", r.code, r.body)
		}
		if r := e.do("PATCH", objs+"/w1", `{"spec":{"replicas":101}}`, "Content-Type", "application/merge-patch+json"); r.code != 422 ||
			!strings.Contains(r.body, "spec.replicas in body should be less than or equal to 100") {
			t.Errorf("patch out of range: %d %s", r.code, r.body)
		}
		if r := e.do("PATCH", objs+"/w1", `{"spec":{"replicas":2}}`, "Content-Type", "application/strategic-merge-patch+json"); r.code != 415 {
			t.Errorf("strategic merge patch on a custom resource: %d %s", r.code, r.body)
		}
		if r := e.do("POST", objs, `{"apiVersion":"example.com/v2","kind":"Widget","metadata":{"name":"v2"},"spec":{"image":"x"}}`); r.code != 400 {
			t.Errorf("wrong apiVersion: %d %s", r.code, r.body)
		}
	})

	// A watch from the create sees the next changes.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+objs+"?watch=true&resourceVersion="+rv1, nil)
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := bufio.NewScanner(resp.Body)
	next := func() (string, map[string]any) {
		t.Helper()
		if !events.Scan() {
			t.Fatalf("watch ended: %v", events.Err())
		}
		var ev struct {
			Type   string         `json:"type"`
			Object map[string]any `json:"object"`
		}
		if err := json.Unmarshal(events.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		return ev.Type, ev.Object
	}

	// Update through v1beta1: same objects, that version's apiVersion.
	beta := e.mustDo(200, "GET", "/apis/example.com/v1beta1/namespaces/ns/widgets/w1", "")
	if beta["apiVersion"] != "example.com/v1beta1" {
		t.Fatalf("v1beta1 get: %v", beta)
	}
	updated := e.mustDo(200, "PATCH", objs+"/w1", `{"spec":{"color":"red"},"status":{"phase":"Ignored"}}`, "Content-Type", "application/merge-patch+json")
	if field(updated, "spec", "color") != "red" || field(updated, "status") != nil || field(updated, "metadata", "generation") != 2.0 {
		t.Fatalf("patch: %v", updated)
	}
	if typ, obj := next(); typ != "MODIFIED" || field(obj, "spec", "color") != "red" {
		t.Fatalf("watch: %s %v", typ, obj)
	}

	t.Run("status subresource", func(t *testing.T) {
		cur := e.mustDo(200, "GET", objs+"/w1", "")
		cur["status"] = map[string]any{"phase": "Running", "replicas": 2, "selector": "app=x", "junk": true}
		cur["spec"].(map[string]any)["image"] = "ignored"
		body, _ := json.Marshal(cur)
		out := e.mustDo(200, "PUT", objs+"/w1/status", string(body))
		if field(out, "status", "phase") != "Running" || field(out, "status", "junk") != nil || field(out, "spec", "image") != "nginx" ||
			field(out, "metadata", "generation") != 2.0 {
			t.Fatalf("status update: %v", out)
		}
		if typ, obj := next(); typ != "MODIFIED" || field(obj, "status", "phase") != "Running" {
			t.Fatalf("watch: %s %v", typ, obj)
		}
		if r := e.do("GET", "/apis/example.com/v1beta1/namespaces/ns/widgets/w1/status", ""); r.code != 404 {
			t.Errorf("v1beta1 has no status subresource: %d", r.code)
		}
	})

	t.Run("scale subresource", func(t *testing.T) {
		sc := e.mustDo(200, "GET", objs+"/w1/scale", "")
		if sc["kind"] != "Scale" || sc["apiVersion"] != "autoscaling/v1" || field(sc, "spec", "replicas") != 1.0 ||
			field(sc, "status", "replicas") != 2.0 || field(sc, "status", "selector") != "app=x" {
			t.Fatalf("scale: %v", sc)
		}
		sc = e.mustDo(200, "PATCH", objs+"/w1/scale", `{"spec":{"replicas":5}}`, "Content-Type", "application/merge-patch+json")
		if field(sc, "spec", "replicas") != 5.0 {
			t.Fatalf("scale patch: %v", sc)
		}
		if o := e.mustDo(200, "GET", objs+"/w1", ""); field(o, "spec", "replicas") != 5.0 {
			t.Fatalf("after scale: %v", o)
		}
		if typ, obj := next(); typ != "MODIFIED" || field(obj, "spec", "replicas") != 5.0 {
			t.Fatalf("watch: %s %v", typ, obj)
		}
		rv := field(sc, "metadata", "resourceVersion").(string)
		put := `{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"w1","namespace":"ns","resourceVersion":"` + rv + `"},"spec":{"replicas":3}}`
		if sc := e.mustDo(200, "PUT", objs+"/w1/scale", put); field(sc, "spec", "replicas") != 3.0 {
			t.Fatalf("scale put: %v", sc)
		}
		if r := e.do("PUT", objs+"/w1/scale", put); r.code != 409 {
			t.Errorf("stale scale put: %d %s", r.code, r.body)
		}
		if r := e.do("PATCH", objs+"/w1/scale", `{"spec":{"replicas":-1}}`, "Content-Type", "application/merge-patch+json"); r.code != 422 {
			t.Errorf("negative replicas: %d %s", r.code, r.body)
		}
		next() // the PUT
	})

	t.Run("printer columns", func(t *testing.T) {
		e.clock.Step(5 * time.Minute)
		tbl := e.mustDo(200, "GET", objs, "", "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
		var cols []string
		for _, c := range tbl["columnDefinitions"].([]any) {
			cols = append(cols, c.(map[string]any)["name"].(string))
		}
		if want := []string{"Name", "Replicas", "Phase", "Image", "Age"}; !slices.Equal(cols, want) {
			t.Errorf("columns %v, want %v", cols, want)
		}
		if p := tbl["columnDefinitions"].([]any)[3].(map[string]any)["priority"]; p != 1.0 {
			t.Errorf("Image priority %v", p)
		}
		cells := tbl["rows"].([]any)[0].(map[string]any)["cells"].([]any)
		if want := []any{"w1", 3.0, "Running", "nginx", "5m"}; !slices.Equal(cells, want) {
			t.Errorf("cells %v, want %v", cells, want)
		}
		// v1beta1 has no columns: NAME and AGE.
		tbl = e.mustDo(200, "GET", "/apis/example.com/v1beta1/namespaces/ns/widgets", "", "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
		if cells := tbl["rows"].([]any)[0].(map[string]any)["cells"].([]any); len(cells) != 2 || cells[1] != "5m" {
			t.Errorf("v1beta1 cells %v", cells)
		}
	})

	t.Run("names in use are refused", func(t *testing.T) {
		conflict := strings.NewReplacer(`"widgets.example.com"`, `"gadgets.example.dev"`, `"group":"example.com"`, `"group":"example.dev"`,
			`"plural":"widgets"`, `"plural":"gadgets"`).Replace(widgetsCRD)
		if r := e.do("POST", crdPath, conflict); r.code != 422 || !strings.Contains(r.body, `"field":"spec.names.plural"`) {
			t.Errorf("plural of a served resource: %d %s", r.code, r.body)
		}
		short := strings.NewReplacer(`"widgets.example.com"`, `"things.example.com"`, `"plural":"widgets"`, `"plural":"things"`,
			`"singular":"widget"`, `"singular":"thing"`, `"kind":"Widget"`, `"kind":"Thing"`).Replace(widgetsCRD)
		if r := e.do("POST", crdPath, short); r.code != 422 || !strings.Contains(r.body, `"field":"spec.names.shortNames[0]"`) {
			t.Errorf("short name of a served resource: %d %s", r.code, r.body)
		}
	})

	// Delete the CRD: its endpoints go, its objects go, open watches end.
	e.mustDo(200, "DELETE", crdPath+"/widgets.example.com", "")
	e.waitCRD("widgets.example.com", func(c *apiextensionsv1.CustomResourceDefinition) bool { return c == nil })
	for events.Scan() {
	}
	if r := e.do("GET", objs+"/w1", ""); r.code != 404 {
		t.Errorf("object after the CRD's deletion: %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/apis/example.com/v1", ""); r.code != 404 {
		t.Errorf("discovery after the CRD's deletion: %d %s", r.code, r.body)
	}
	if m := e.do("GET", "/metrics", "").body; strings.Contains(m, `apiserver_storage_objects{resource="widgets.example.com"}`) {
		t.Error("the deleted resource's apiserver_storage_objects series is left")
	}
	if strings.Contains(e.do("GET", "/apis", "").body, "example.com\"") {
		t.Error("the group is still in /apis")
	}
	resp2, err := e.kv.Range(ctx, kv.RangeRequest{Key: "/registry/widgets.example.com/", End: kv.PrefixEnd("/registry/widgets.example.com/")})
	if err != nil || len(resp2.KVs) != 0 {
		t.Errorf("stored objects left: %v %v", resp2, err)
	}
	// A new CRD of the same name starts empty.
	e.mustDo(201, "POST", crdPath, widgetsCRD)
	e.waitServed("widgets.example.com", 1)
	if l := e.mustDo(200, "GET", objs, ""); len(l["items"].([]any)) != 0 {
		t.Errorf("items after re-creating the CRD: %v", l["items"])
	}
}

// TestClusterScopedCRDAndRestart serves a cluster-scoped CRD, then a new
// server over the same KV serves it with no request.
func TestClusterScopedCRDAndRestart(t *testing.T) {
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	const gizmos = `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"gizmos.example.com"},
	 "spec":{"group":"example.com","scope":"Cluster","names":{"plural":"gizmos","kind":"Gizmo"},
	  "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","properties":{"size":{"type":"integer"}}}}}}}]}}`
	func() {
		e := newCRDEnv(t, engine)
		e.mustDo(201, "POST", crdPath, gizmos)
		e.waitServed("gizmos.example.com", 1)
		o := e.mustDo(201, "POST", "/apis/example.com/v1/gizmos", `{"apiVersion":"example.com/v1","kind":"Gizmo","metadata":{"name":"g1"},"spec":{"size":3,"x":1},"status":{"kept":true}}`)
		if field(o, "metadata", "namespace") != nil || field(o, "spec", "x") != nil {
			t.Fatalf("created %v", o)
		}
		// Without a status subresource, status is pruned like any field
		// (this schema has none) and updated with the object.
		if field(o, "status") != nil {
			t.Fatalf("status not pruned: %v", o)
		}
		if r := e.do("GET", "/apis/example.com/v1/namespaces/ns/gizmos/g1", ""); r.code != 404 {
			t.Errorf("a cluster-scoped object in a namespace: %d", r.code)
		}
		tbl := e.mustDo(200, "GET", "/apis/example.com/v1/gizmos", "", "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
		if cells := tbl["rows"].([]any)[0].(map[string]any)["cells"].([]any); len(cells) != 2 || cells[0] != "g1" {
			t.Errorf("NAME/AGE cells %v", cells)
		}
		e.ts.Close()
		e.srv.Close()
	}()
	e := newCRDEnv(t, engine)
	e.waitServed("gizmos.example.com", 1)
	if o := e.mustDo(200, "GET", "/apis/example.com/v1/gizmos/g1", ""); field(o, "spec", "size") != 3.0 {
		t.Fatalf("after restart: %v", o)
	}
}

// TestSchemalessResources serves resources named in Config.Schemaless:
// every field is kept, list and watch work.
func TestSchemalessResources(t *testing.T) {
	r, err := apiserver.ParseSchemalessResource("thirdparty.io/v1alpha1/bundles")
	if err != nil {
		t.Fatal(err)
	}
	e := newCRDEnv(t, nil, func(c *apiserver.Config) { c.Schemaless = []apiserver.SchemalessResource{r} })
	const base = "/apis/thirdparty.io/v1alpha1/namespaces/ns/bundles"
	o := e.mustDo(201, "POST", base, `{"apiVersion":"thirdparty.io/v1alpha1","kind":"Bundle","metadata":{"name":"b"},"spec":{"anything":{"goes":[1,"two"]},"big":12345678901234567890}}`)
	if field(o, "spec", "anything", "goes") == nil {
		t.Fatalf("fields dropped: %v", o)
	}
	raw := e.do("GET", base+"/b", "").body
	if !strings.Contains(raw, "12345678901234567890") {
		t.Errorf("big integer not kept exactly: %s", raw)
	}
	l := e.mustDo(200, "GET", base, "")
	if len(l["items"].([]any)) != 1 || l["kind"] != "BundleList" {
		t.Errorf("list %v", l)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+base+"?watch=true&timeoutSeconds=5", nil)
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	if !sc.Scan() || !strings.Contains(sc.Text(), `"type":"ADDED"`) || !strings.Contains(sc.Text(), `"goes"`) {
		t.Errorf("watch: %s", sc.Text())
	}
}

func TestParseSchemalessResource(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want apiserver.SchemalessResource
		bad  bool
	}{
		{in: "example.com/v1/widgets", want: apiserver.SchemalessResource{Group: "example.com", Version: "v1", Resource: "widgets", Kind: "Widget", Namespaced: true}},
		{in: "example.com/v1/gizmos:Gizmo:Cluster", want: apiserver.SchemalessResource{Group: "example.com", Version: "v1", Resource: "gizmos", Kind: "Gizmo"}},
		{in: "v1/things:Thing", want: apiserver.SchemalessResource{Version: "v1", Resource: "things", Kind: "Thing", Namespaced: true}},
		{in: "widgets", bad: true},
		{in: "a/b/c/d", bad: true},
		{in: "example.com/v1/Widgets", bad: true},
		{in: "example.com/v1/widgets:A:B:C", bad: true},
		{in: "example.com/v1/widgets:A:B", bad: true},
	} {
		got, err := apiserver.ParseSchemalessResource(tc.in)
		if tc.bad != (err != nil) || !tc.bad && got != tc.want {
			t.Errorf("ParseSchemalessResource(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

// TestCRDNamesTakenLater: a stored CRD whose resource the server comes to
// serve otherwise (here a schemaless resource at start-up) is not served
// and gets NamesAccepted=False.
func TestCRDNamesTakenLater(t *testing.T) {
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	func() {
		e := newCRDEnv(t, engine)
		e.mustDo(201, "POST", crdPath, widgetsCRD)
		e.waitServed("widgets.example.com", 1)
		e.waitCRD("widgets.example.com", established)
		e.ts.Close()
		e.srv.Close()
	}()
	r, _ := apiserver.ParseSchemalessResource("example.com/v1/widgets:Widget")
	e := newCRDEnv(t, engine, func(c *apiserver.Config) { c.Schemaless = []apiserver.SchemalessResource{r} })
	e.waitCRD("widgets.example.com", func(c *apiextensionsv1.CustomResourceDefinition) bool {
		for _, cond := range c.Status.Conditions {
			if cond.Type == apiserver.CRDNamesAccepted && cond.Status == "False" {
				return strings.Contains(cond.Message, "spec.names.plural") && !established(c)
			}
		}
		return false
	})
	if r := e.do("GET", "/apis/example.com/v1beta1/namespaces/ns/widgets", ""); r.code != 404 {
		t.Errorf("the CRD's other version is served: %d", r.code)
	}
}

// TestCRDNewVersion: a CRD update that adds a version serves it, and
// objects written in one version read in the other.
func TestCRDNewVersion(t *testing.T) {
	e := newCRDEnv(t, nil)
	e.mustDo(201, "POST", crdPath, widgetsCRD)
	e.waitServed("widgets.example.com", 1)
	e.mustDo(201, "POST", "/apis/example.com/v1/namespaces/ns/widgets", `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"image":"x"}}`)
	patch := `[{"op":"add","path":"/spec/versions/-","value":{"name":"v2","served":true,"storage":false,"schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}]`
	e.mustDo(200, "PATCH", crdPath+"/widgets.example.com", patch, "Content-Type", "application/json-patch+json")
	e.waitServed("widgets.example.com", 2)
	for _, g := range e.mustDo(200, "GET", "/apis", "")["groups"].([]any) {
		if g := g.(map[string]any); g["name"] == "example.com" {
			var vs []string
			for _, v := range g["versions"].([]any) {
				vs = append(vs, v.(map[string]any)["version"].(string))
			}
			if want := []string{"v2", "v1", "v1beta1"}; !slices.Equal(vs, want) || field(g, "preferredVersion", "version") != "v2" {
				t.Errorf("versions %v (want %v), preferred %v", vs, want, g["preferredVersion"])
			}
		}
	}
	o := e.mustDo(200, "GET", "/apis/example.com/v2/namespaces/ns/widgets/w", "")
	if o["apiVersion"] != "example.com/v2" || field(o, "spec", "image") != "x" {
		t.Fatalf("v2 get: %v", o)
	}
	e.mustDo(200, "PATCH", "/apis/example.com/v2/namespaces/ns/widgets/w", `{"spec":{"free":"form"}}`, "Content-Type", "application/merge-patch+json")
	// Read through v1: its schema prunes on write, not on read.
	if o := e.mustDo(200, "GET", "/apis/example.com/v1/namespaces/ns/widgets/w", ""); o["apiVersion"] != "example.com/v1" || field(o, "spec", "image") != "x" {
		t.Fatalf("v1 get: %v", o)
	}
}
