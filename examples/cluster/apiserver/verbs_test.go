package apiserver_test

import (
	"fmt"
	"github.com/governor-io/governor/examples/cluster/apiserver"
	"net/http"
	"strings"
	"testing"
)

const (
	tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
	conflictMsg = `Operation cannot be fulfilled on widgets "a": the object has been modified; please apply your changes to the latest version and try again`
)

// Each case is one request against a namespace holding widget "a" (size
// 1, label app=x) and the status it must get.
func TestErrorsAreStatuses(t *testing.T) {
	e := newEnv(t)
	a := e.create("ns", "a", 1, map[string]string{"app": "x"})
	e.create("ns", "b", 1, nil)
	big := `{"metadata":{"name":"big"},"spec":{"size":1},"pad":"` + strings.Repeat("x", 70<<10) + `"}`
	for _, tc := range []struct {
		name, method, path, body string
		header                   []string
		code                     int
		reason, message          string
	}{
		{"unknown resource", "GET", "/api/v1/namespaces/ns/nothings", "", nil, 404, "NotFound", "the server could not find the requested resource"},
		{"unknown group", "GET", "/apis/nope.dev/v1/things", "", nil, 404, "NotFound", ""},
		{"unknown subresource", "GET", "/api/v1/namespaces/ns/widgets/a/scale", "", nil, 404, "NotFound", ""},
		{"too many segments", "GET", "/api/v1/namespaces/ns/widgets/a/status/x", "", nil, 404, "NotFound", ""},
		{"cluster-scoped under a namespace", "GET", "/apis/example.dev/v1/namespaces/ns/gadgets", "", nil, 404, "NotFound", ""},
		{"unknown path", "GET", "/nope", "", nil, 404, "NotFound", ""},
		{"missing object", "GET", "/api/v1/namespaces/ns/widgets/zz", "", nil, 404, "NotFound", `widgets "zz" not found`},
		{"protobuf body", "POST", "/api/v1/namespaces/ns/widgets", `{}`, []string{"Content-Type", "application/vnd.kubernetes.protobuf"}, 415, "UnsupportedMediaType", ""},
		{"yaml body", "PUT", "/api/v1/namespaces/ns/widgets/a", `{}`, []string{"Content-Type", "application/yaml"}, 415, "UnsupportedMediaType", ""},
		{"protobuf only accepted", "GET", "/api/v1/namespaces/ns/widgets", "", []string{"Accept", "application/vnd.kubernetes.protobuf"}, 406, "NotAcceptable", ""},
		{"malformed JSON", "POST", "/api/v1/namespaces/ns/widgets", `{"metadata":`, nil, 400, "BadRequest", ""},
		{"not an object", "POST", "/api/v1/namespaces/ns/widgets", `[1,2]`, nil, 400, "BadRequest", ""},
		{"empty body", "POST", "/api/v1/namespaces/ns/widgets", ``, []string{"Content-Type", "application/json"}, 400, "BadRequest", ""},
		{"wrong kind", "POST", "/api/v1/namespaces/ns/widgets", `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p"}}`, nil, 400, "BadRequest", ""},
		{"wrong apiVersion", "POST", "/api/v1/namespaces/ns/widgets", `{"kind":"Widget","apiVersion":"apps/v1","metadata":{"name":"p"}}`, nil, 400, "BadRequest", ""},
		{"wrong field type", "POST", "/api/v1/namespaces/ns/widgets", `{"metadata":{"name":"p"},"spec":{"size":"big"}}`, nil, 400, "BadRequest", ""},
		{"strict unknown field", "POST", "/api/v1/namespaces/ns/widgets?fieldValidation=Strict", `{"metadata":{"name":"p"},"spec":{"size":1,"colour":"red"}}`, nil, 400, "BadRequest", ""},
		{"namespace mismatch", "POST", "/api/v1/namespaces/ns/widgets", `{"metadata":{"name":"p","namespace":"other"}}`, nil, 400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request"},
		{"name mismatch on update", "PUT", "/api/v1/namespaces/ns/widgets/a", `{"metadata":{"name":"b","resourceVersion":"1"}}`, nil, 400, "BadRequest", "the name of the object (b) does not match the name on the URL (a)"},
		{"oversized body", "POST", "/api/v1/namespaces/ns/widgets", big, nil, 413, "RequestEntityTooLarge", "Request entity too large: limit is 65536"},
		{"invalid object", "POST", "/api/v1/namespaces/ns/widgets", `{"metadata":{"name":"neg"},"spec":{"size":-1}}`, nil, 422, "Invalid", `Widget "neg" is invalid: spec.size: must be non-negative`},
		{"invalid name", "POST", "/api/v1/namespaces/ns/widgets", `{"metadata":{"name":"a/b"}}`, nil, 400, "BadRequest", ""},
		{"bad namespace", "GET", "/api/v1/namespaces/Bad_NS/widgets", "", nil, 400, "BadRequest", ""},
		{"already exists", "POST", "/api/v1/namespaces/ns/widgets", `{"metadata":{"name":"a"}}`, nil, 409, "AlreadyExists", `widgets "a" already exists`},
		{"stale update", "PUT", "/api/v1/namespaces/ns/widgets/a", `{"metadata":{"name":"a","resourceVersion":"1000"},"spec":{"size":3}}`, nil, 409, "Conflict", conflictMsg},
		{"stale merge patch", "PATCH", "/api/v1/namespaces/ns/widgets/a", `{"metadata":{"resourceVersion":"1000"}}`, []string{"Content-Type", "application/merge-patch+json"}, 409, "Conflict", ""},
		{"stale delete precondition", "DELETE", "/api/v1/namespaces/ns/widgets/a", `{"preconditions":{"resourceVersion":"1000"}}`, nil, 409, "Conflict", ""},
		{"uid delete precondition", "DELETE", "/api/v1/namespaces/ns/widgets/a", `{"preconditions":{"uid":"nope"}}`, nil, 409, "Conflict", ""},
		{"bad propagation policy", "DELETE", "/api/v1/namespaces/ns/widgets/a", `{"propagationPolicy":"Sideways"}`, nil, 422, "Invalid", ""},
		{"negative grace period", "DELETE", "/api/v1/namespaces/ns/widgets/a?gracePeriodSeconds=-1", "", nil, 422, "Invalid", ""},
		{"bad dryRun", "POST", "/api/v1/namespaces/ns/widgets?dryRun=Some", `{"metadata":{"name":"d"}}`, nil, 400, "BadRequest", ""},
		{"apply patch", "PATCH", "/api/v1/namespaces/ns/widgets/a", `{}`, []string{"Content-Type", "application/apply-patch+yaml"}, 415, "UnsupportedMediaType", ""},
		{"unknown patch type", "PATCH", "/api/v1/namespaces/ns/widgets/a", `{}`, []string{"Content-Type", "text/plain"}, 415, "UnsupportedMediaType", ""},
		{"bad JSON patch", "PATCH", "/api/v1/namespaces/ns/widgets/a", `{"op":"add"}`, []string{"Content-Type", "application/json-patch+json"}, 400, "BadRequest", ""},
		{"JSON patch test fails", "PATCH", "/api/v1/namespaces/ns/widgets/a", `[{"op":"test","path":"/spec/size","value":2}]`, []string{"Content-Type", "application/json-patch+json"}, 422, "Invalid", ""},
		{"JSON patch renames", "PATCH", "/api/v1/namespaces/ns/widgets/a", `[{"op":"replace","path":"/metadata/name","value":"b"}]`, []string{"Content-Type", "application/json-patch+json"}, 422, "Invalid", ""},
		{"patch of a missing object", "PATCH", "/api/v1/namespaces/ns/widgets/zz", `{}`, []string{"Content-Type", "application/merge-patch+json"}, 404, "NotFound", `widgets "zz" not found`},
		{"bad label selector", "GET", "/api/v1/namespaces/ns/widgets?labelSelector=a%20in%20(", "", nil, 400, "BadRequest", ""},
		{"unknown field selector", "GET", "/api/v1/namespaces/ns/widgets?fieldSelector=spec.colour%3Dred", "", nil, 400, "BadRequest", ""},
		{"bad limit", "GET", "/api/v1/namespaces/ns/widgets?limit=x", "", nil, 400, "BadRequest", ""},
		{"bad resourceVersion", "GET", "/api/v1/namespaces/ns/widgets?resourceVersion=x", "", nil, 400, "BadRequest", ""},
		{"match without resourceVersion", "GET", "/api/v1/namespaces/ns/widgets?resourceVersionMatch=NotOlderThan", "", nil, 422, "Invalid", ""},
		{"exact 0", "GET", "/api/v1/namespaces/ns/widgets?resourceVersion=0&resourceVersionMatch=Exact", "", nil, 422, "Invalid", ""},
		{"unknown match", "GET", "/api/v1/namespaces/ns/widgets?resourceVersion=1&resourceVersionMatch=Newest", "", nil, 422, "Invalid", ""},
		{"sendInitialEvents on a list", "GET", "/api/v1/namespaces/ns/widgets?sendInitialEvents=true", "", nil, 422, "Invalid", ""},
		{"sendInitialEvents without bookmarks", "GET", "/api/v1/namespaces/ns/widgets?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan", "", nil, 422, "Invalid", ""},
		{"bad continue", "GET", "/api/v1/namespaces/ns/widgets?limit=1&continue=zzz", "", nil, 400, "BadRequest", ""},
		{"exact compacted", "GET", "/api/v1/namespaces/ns/widgets?resourceVersion=1&resourceVersionMatch=Exact", "", nil, 410, "Expired", ""},
		{"method on a collection", "PUT", "/api/v1/namespaces/ns/widgets", `{}`, nil, 405, "MethodNotAllowed", ""},
		{"create across namespaces", "POST", "/api/v1/widgets", `{}`, nil, 405, "MethodNotAllowed", ""},
		{"delete of status", "DELETE", "/api/v1/namespaces/ns/widgets/a/status", "", nil, 405, "MethodNotAllowed", ""},
		{"post to discovery", "POST", "/api/v1", `{}`, nil, 405, "MethodNotAllowed", ""},
		{"post to healthz", "POST", "/healthz", `{}`, nil, 405, "MethodNotAllowed", ""},
		{"namespaced object without namespace", "GET", "/api/v1/widgets/a", "", nil, 404, "NotFound", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "exact compacted" {
				if err := e.kv.Compact(t.Context(), 2); err != nil {
					t.Fatal(err)
				}
			}
			r := e.do(tc.method, tc.path, tc.body, tc.header...)
			if r.code != tc.code {
				t.Fatalf("code %d, want %d: %s", r.code, tc.code, r.body)
			}
			st := r.json(t)
			if st["kind"] != "Status" || st["apiVersion"] != "v1" || st["status"] != "Failure" {
				t.Fatalf("not a failure Status: %s", r.body)
			}
			if st["reason"] != tc.reason || st["code"] != float64(tc.code) {
				t.Fatalf("reason %v code %v, want %s %d: %s", st["reason"], st["code"], tc.reason, tc.code, r.body)
			}
			if tc.message != "" && st["message"] != tc.message {
				t.Fatalf("message %q, want %q", st["message"], tc.message)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
		})
	}
	if got := e.do("GET", "/api/v1/namespaces/ns/widgets/a", ""); !strings.Contains(got.body, `"resourceVersion":"`+a.ResourceVersion+`"`) {
		t.Fatalf("widget a changed: %s", got.body)
	}
}

func TestCreate(t *testing.T) {
	e := newEnv(t)
	t.Run("sets metadata and answers 201", func(t *testing.T) {
		r := e.do("POST", "/api/v1/namespaces/ns/widgets", `{"metadata":{"name":"a"},"spec":{"size":2}}`)
		if r.code != 201 {
			t.Fatalf("%d %s", r.code, r.body)
		}
		m := metaOf(r.json(t))
		if m["namespace"] != "ns" || m["uid"] == nil || m["resourceVersion"] == nil || m["creationTimestamp"] != "2026-01-02T03:04:05Z" {
			t.Fatalf("metadata %v", m)
		}
		if k := r.json(t)["kind"]; k != "Widget" {
			t.Fatalf("kind %v", k)
		}
	})
	t.Run("generateName", func(t *testing.T) {
		r := e.do("POST", "/api/v1/namespaces/ns/widgets", `{"metadata":{"generateName":"gen-"}}`)
		if r.code != 201 || !strings.HasPrefix(nameOf(r.json(t)), "gen-") || len(nameOf(r.json(t))) != 9 {
			t.Fatalf("%d %s", r.code, r.body)
		}
	})
	t.Run("dryRun stores nothing", func(t *testing.T) {
		r := e.do("POST", "/api/v1/namespaces/ns/widgets?dryRun=All", `{"metadata":{"name":"dry"},"spec":{"size":2}}`)
		if r.code != 201 || nameOf(r.json(t)) != "dry" || metaOf(r.json(t))["uid"] == nil {
			t.Fatalf("%d %s", r.code, r.body)
		}
		if _, ok := metaOf(r.json(t))["resourceVersion"]; ok {
			t.Fatalf("a dry run has a resourceVersion: %s", r.body)
		}
		if g := e.do("GET", "/api/v1/namespaces/ns/widgets/dry", ""); g.code != 404 {
			t.Fatalf("dry run stored: %d", g.code)
		}
		if r := e.do("POST", "/api/v1/namespaces/ns/widgets?dryRun=All", `{"metadata":{"name":"a"}}`); r.code != 409 {
			t.Fatalf("a dry run over an existing name: %d", r.code)
		}
		if r := e.do("POST", "/api/v1/namespaces/ns/widgets?dryRun=All", `{"metadata":{"name":"x"},"spec":{"size":-1}}`); r.code != 422 {
			t.Fatalf("a dry run of an invalid object: %d", r.code)
		}
	})
	t.Run("cluster-scoped drops a namespace", func(t *testing.T) {
		r := e.do("POST", "/apis/example.dev/v1/gadgets", `{"apiVersion":"example.dev/v1","kind":"Gadget","metadata":{"name":"g","namespace":"ns"}}`)
		if r.code != 201 || metaOf(r.json(t))["namespace"] != nil {
			t.Fatalf("%d %s", r.code, r.body)
		}
	})
	t.Run("unknown fields are dropped", func(t *testing.T) {
		r := e.do("POST", "/api/v1/namespaces/ns/widgets", `{"metadata":{"name":"u"},"spec":{"size":1,"colour":"red"}}`)
		if r.code != 201 || strings.Contains(r.body, "colour") {
			t.Fatalf("%d %s", r.code, r.body)
		}
	})
}

func TestUpdateAndStatus(t *testing.T) {
	e := newEnv(t)
	a := e.create("ns", "a", 1, nil)
	put := func(path, body string) response {
		return e.do("PUT", "/api/v1/namespaces/ns/widgets/a"+path, body)
	}
	t.Run("main resource ignores status", func(t *testing.T) {
		r := put("", fmt.Sprintf(`{"metadata":{"name":"a","resourceVersion":%q},"spec":{"size":5},"status":{"phase":"Up"}}`, a.ResourceVersion))
		if r.code != 200 || !strings.Contains(r.body, `"size":5`) || strings.Contains(r.body, "Up") {
			t.Fatalf("%d %s", r.code, r.body)
		}
		if g := metaOf(r.json(t))["generation"]; g != float64(2) {
			t.Fatalf("generation %v", g)
		}
	})
	cur := e.do("GET", "/api/v1/namespaces/ns/widgets/a", "")
	rv := metaOf(cur.json(t))["resourceVersion"].(string)
	t.Run("status changes only status", func(t *testing.T) {
		r := put("/status", fmt.Sprintf(`{"metadata":{"name":"a","resourceVersion":%q,"labels":{"x":"y"}},"spec":{"size":9},"status":{"phase":"Up"}}`, rv))
		if r.code != 200 || !strings.Contains(r.body, `"phase":"Up"`) || !strings.Contains(r.body, `"size":5`) || strings.Contains(r.body, `"x":"y"`) {
			t.Fatalf("%d %s", r.code, r.body)
		}
	})
	t.Run("status merge patch", func(t *testing.T) {
		r := e.do("PATCH", "/api/v1/namespaces/ns/widgets/a/status", `{"status":{"phase":"Down"},"spec":{"size":7}}`, "Content-Type", "application/merge-patch+json")
		if r.code != 200 || !strings.Contains(r.body, `"phase":"Down"`) || !strings.Contains(r.body, `"size":5`) {
			t.Fatalf("%d %s", r.code, r.body)
		}
	})
	t.Run("status JSON patch", func(t *testing.T) {
		r := e.do("PATCH", "/api/v1/namespaces/ns/widgets/a/status", `[{"op":"replace","path":"/status/phase","value":"Gone"},{"op":"replace","path":"/spec/size","value":8}]`, "Content-Type", "application/json-patch+json")
		if r.code != 200 || !strings.Contains(r.body, `"phase":"Gone"`) || !strings.Contains(r.body, `"size":5`) {
			t.Fatalf("%d %s", r.code, r.body)
		}
	})
	t.Run("update of a missing object", func(t *testing.T) {
		r := e.do("PUT", "/api/v1/namespaces/ns/widgets/zz", `{"metadata":{"name":"zz","resourceVersion":"1"}}`)
		if r.code != 404 {
			t.Fatalf("%d %s", r.code, r.body)
		}
	})
}

func TestPatch(t *testing.T) {
	e := newEnv(t)
	e.create("ns", "a", 1, map[string]string{"app": "x", "tier": "front"})
	patch := func(ct, body string) map[string]any {
		t.Helper()
		r := e.do("PATCH", "/api/v1/namespaces/ns/widgets/a", body, "Content-Type", ct)
		if r.code != 200 {
			t.Fatalf("%s %s: %d %s", ct, body, r.code, r.body)
		}
		return r.json(t)
	}
	spec := func(obj map[string]any) string {
		b := fmt.Sprint(obj["spec"])
		return b
	}
	t.Run("merge", func(t *testing.T) {
		obj := patch("application/merge-patch+json", `{"metadata":{"labels":{"tier":null,"env":"prod"}},"spec":{"size":2,"tags":["a","b"]}}`)
		if l := fmt.Sprint(metaOf(obj)["labels"]); l != "map[app:x env:prod]" {
			t.Fatalf("labels %s", l)
		}
		if s := spec(obj); s != "map[size:2 tags:[a b]]" {
			t.Fatalf("spec %s", s)
		}
	})
	t.Run("json", func(t *testing.T) {
		obj := patch("application/json-patch+json", `[{"op":"add","path":"/spec/tags/1","value":"z"},{"op":"remove","path":"/spec/tags/0"},{"op":"copy","from":"/spec/size","path":"/spec/size2"},{"op":"move","from":"/metadata/labels/env","path":"/metadata/labels/stage"},{"op":"test","path":"/spec/tags","value":["z","b"]}]`)
		if s := spec(obj); s != "map[size:2 tags:[z b]]" {
			t.Fatalf("spec %s", s)
		}
		if l := fmt.Sprint(metaOf(obj)["labels"]); l != "map[app:x stage:prod]" {
			t.Fatalf("labels %s", l)
		}
	})
	t.Run("strategic merges lists by key", func(t *testing.T) {
		patch("application/merge-patch+json", `{"spec":{"parts":[{"name":"p1","color":"red"},{"name":"p2","color":"blue"}]}}`)
		obj := patch("application/strategic-merge-patch+json", `{"spec":{"$setElementOrder/parts":[{"name":"p2"},{"name":"p1"},{"name":"p3"}],"parts":[{"name":"p1","color":"green"},{"name":"p3"}]}}`)
		if s := fmt.Sprint(obj["spec"].(map[string]any)["parts"]); s != "[map[color:blue name:p2] map[color:green name:p1] map[name:p3]]" {
			t.Fatalf("parts %s", s)
		}
		obj = patch("application/strategic-merge-patch+json", `{"spec":{"parts":[{"name":"p2","$patch":"delete"}],"$deleteFromPrimitiveList/tags":["z"]}}`)
		if s := fmt.Sprint(obj["spec"]); s != "map[parts:[map[color:green name:p1] map[name:p3]] size:2 tags:[b]]" {
			t.Fatalf("spec %s", s)
		}
		obj = patch("application/strategic-merge-patch+json", `{"spec":{"parts":[{"name":"only"},{"$patch":"replace"}]}}`)
		if s := fmt.Sprint(obj["spec"].(map[string]any)["parts"]); s != "[map[name:only]]" {
			t.Fatalf("parts %s", s)
		}
		obj = patch("application/strategic-merge-patch+json", `{"spec":{"$retainKeys":["size","parts"],"size":4}}`)
		if s := fmt.Sprint(obj["spec"]); s != "map[parts:[map[name:only]] size:4]" {
			t.Fatalf("spec %s", s)
		}
	})
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	a := e.create("ns", "a", 1, nil)
	e.create("ns", "b", 1, map[string]string{"group": "g"})
	e.create("ns", "c", 1, map[string]string{"group": "g"})
	e.create("other", "d", 1, map[string]string{"group": "g"})
	t.Run("dryRun keeps the object", func(t *testing.T) {
		if r := e.do("DELETE", "/api/v1/namespaces/ns/widgets/a?dryRun=All", ""); r.code != 200 || nameOf(r.json(t)) != "a" {
			t.Fatalf("%d %s", r.code, r.body)
		}
		if r := e.do("GET", "/api/v1/namespaces/ns/widgets/a", ""); r.code != 200 {
			t.Fatalf("gone after a dry run: %d", r.code)
		}
	})
	t.Run("preconditions that hold, 200 with the object", func(t *testing.T) {
		body := fmt.Sprintf(`{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background","gracePeriodSeconds":0,"preconditions":{"uid":%q,"resourceVersion":%q}}`, a.UID, a.ResourceVersion)
		r := e.do("DELETE", "/api/v1/namespaces/ns/widgets/a", body)
		if r.code != 200 || nameOf(r.json(t)) != "a" || r.json(t)["kind"] != "Widget" {
			t.Fatalf("%d %s", r.code, r.body)
		}
		if r := e.do("GET", "/api/v1/namespaces/ns/widgets/a", ""); r.code != 404 {
			t.Fatalf("still there: %d", r.code)
		}
		if r := e.do("DELETE", "/api/v1/namespaces/ns/widgets/a", ""); r.code != 404 {
			t.Fatalf("second delete: %d", r.code)
		}
	})
	t.Run("foreground leaves a finalizer for the collector", func(t *testing.T) {
		e.create("ns", "fg", 1, nil)
		r := e.do("DELETE", "/api/v1/namespaces/ns/widgets/fg?propagationPolicy=Foreground", "")
		m := metaOf(r.json(t))
		if r.code != 200 || m["deletionTimestamp"] == nil || fmt.Sprint(m["finalizers"]) != "[foregroundDeletion]" {
			t.Fatalf("%d %s", r.code, r.body)
		}
	})
	t.Run("collection by selector in one namespace", func(t *testing.T) {
		r := e.do("DELETE", "/api/v1/namespaces/ns/widgets?labelSelector=group%3Dg", "")
		if r.code != 200 || r.json(t)["kind"] != "WidgetList" || len(r.json(t)["items"].([]any)) != 2 {
			t.Fatalf("%d %s", r.code, r.body)
		}
		l := e.do("GET", "/api/v1/widgets?labelSelector=group%3Dg", "")
		if items := l.json(t)["items"].([]any); len(items) != 1 || nameOf(items[0].(map[string]any)) != "d" {
			t.Fatalf("left %s", l.body)
		}
	})
}

func TestListAndGet(t *testing.T) {
	e := newEnv(t)
	for i, name := range []string{"c", "a", "b"} {
		e.create("ns", name, int32(i), map[string]string{"i": fmt.Sprint(i)})
	}
	e.create("other", "z", 1, nil)
	names := func(r response) string {
		t.Helper()
		if r.code != 200 {
			t.Fatalf("%d %s", r.code, r.body)
		}
		var out []string
		for _, it := range r.json(t)["items"].([]any) {
			out = append(out, nameOf(it.(map[string]any)))
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct{ name, query, want string }{
		{"consistent", "", "a,b,c"},
		{"any", "?resourceVersion=0", "a,b,c"},
		{"not older than", "?resourceVersion=4&resourceVersionMatch=NotOlderThan", "a,b,c"},
		{"exact in the past", "?resourceVersion=2&resourceVersionMatch=Exact", "a,c"},
		{"legacy N with a limit reads exactly", "?resourceVersion=1&limit=5", "c"},
		{"labels", "?labelSelector=i+in+(0,2)", "b,c"},
		{"fields", "?fieldSelector=metadata.name!%3Da", "b,c"},
		{"limit", "?limit=2", "a,b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := names(e.do("GET", "/api/v1/namespaces/ns/widgets"+tc.query, "")); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
	t.Run("continue reads the first page's revision", func(t *testing.T) {
		r := e.do("GET", "/api/v1/namespaces/ns/widgets?limit=2", "")
		lm := metaOf(r.json(t))
		cont, _ := lm["continue"].(string)
		if cont == "" || lm["resourceVersion"] != "4" {
			t.Fatalf("metadata %v", lm)
		}
		e.create("ns", "d", 1, nil)
		r2 := e.do("GET", "/api/v1/namespaces/ns/widgets?limit=2&continue="+cont, "")
		if got := names(r2); got != "c" || metaOf(r2.json(t))["resourceVersion"] != "4" {
			t.Fatalf("second page %s %s", got, r2.body)
		}
	})
	t.Run("all namespaces", func(t *testing.T) {
		if got := names(e.do("GET", "/api/v1/widgets", "")); got != "a,b,c,d,z" {
			t.Fatalf("got %s", got)
		}
	})
	t.Run("a list sees the latest write", func(t *testing.T) {
		e.create("ns", "e", 1, nil)
		if got := names(e.do("GET", "/api/v1/namespaces/ns/widgets", "")); got != "a,b,c,d,e" {
			t.Fatalf("got %s", got)
		}
	})
	t.Run("get from the cache", func(t *testing.T) {
		r := e.do("GET", "/api/v1/namespaces/ns/widgets/a?resourceVersion=0", "")
		if r.code != 200 || nameOf(r.json(t)) != "a" {
			t.Fatalf("%d %s", r.code, r.body)
		}
		if r := e.do("GET", "/api/v1/namespaces/ns/widgets/nope?resourceVersion=0", ""); r.code != 404 {
			t.Fatalf("%d %s", r.code, r.body)
		}
	})
	t.Run("empty list has items []", func(t *testing.T) {
		r := e.do("GET", "/api/v1/namespaces/empty/widgets", "")
		if !strings.Contains(r.body, `"items":[]`) || r.json(t)["kind"] != "WidgetList" || r.json(t)["apiVersion"] != "v1" {
			t.Fatalf("%s", r.body)
		}
	})
	t.Run("too large resource version", func(t *testing.T) {
		idle := e.clock.Waiters()
		done := make(chan response, 1)
		go func() {
			done <- e.do("GET", "/api/v1/namespaces/ns/widgets?resourceVersion=99&resourceVersionMatch=NotOlderThan", "")
		}()
		if err := e.clock.BlockUntilWaiters(t.Context(), idle+1); err != nil {
			t.Fatal(err)
		}
		e.clock.Step(apiserver.DefaultFreshnessTimeout)
		r := <-done
		if r.code != http.StatusGatewayTimeout || r.json(t)["reason"] != "Timeout" {
			t.Fatalf("%d %s", r.code, r.body)
		}
	})
}

func TestDryRunUpdateAndPatch(t *testing.T) {
	e := newEnv(t)
	a := e.create("ns", "a", 1, nil)
	const path = "/api/v1/namespaces/ns/widgets/a"
	r := e.do("PUT", path+"?dryRun=All", fmt.Sprintf(`{"metadata":{"name":"a","resourceVersion":%q},"spec":{"size":5}}`, a.ResourceVersion))
	m := metaOf(r.json(t))
	if r.code != 200 || !strings.Contains(r.body, `"size":5`) || m["generation"] != float64(2) || m["uid"] != a.UID || m["resourceVersion"] != a.ResourceVersion {
		t.Fatalf("dry-run update: %d %s", r.code, r.body)
	}
	r = e.do("PATCH", path+"?dryRun=All", `{"spec":{"size":7}}`, "Content-Type", "application/merge-patch+json")
	if r.code != 200 || !strings.Contains(r.body, `"size":7`) {
		t.Fatalf("dry-run patch: %d %s", r.code, r.body)
	}
	r = e.do("PATCH", path+"/status?dryRun=All", `{"status":{"phase":"Up"}}`, "Content-Type", "application/merge-patch+json")
	if r.code != 200 || !strings.Contains(r.body, `"phase":"Up"`) {
		t.Fatalf("dry-run status patch: %d %s", r.code, r.body)
	}
	if r := e.do("PUT", path+"?dryRun=All", `{"metadata":{"name":"a","resourceVersion":"999"},"spec":{"size":5}}`); r.code != 409 {
		t.Fatalf("dry-run stale update: %d %s", r.code, r.body)
	}
	if r := e.do("PATCH", path+"?dryRun=All", `{"spec":{"size":-3}}`, "Content-Type", "application/merge-patch+json"); r.code != 422 {
		t.Fatalf("dry-run invalid patch: %d %s", r.code, r.body)
	}
	got := e.do("GET", path, "")
	if !strings.Contains(got.body, `"size":1`) || metaOf(got.json(t))["resourceVersion"] != a.ResourceVersion || strings.Contains(got.body, "Up") {
		t.Fatalf("a dry run wrote: %s", got.body)
	}
}
