package apiserver_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/governor-io/governor/examples/cluster/apiserver"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Parts of a response that vary between runs and machines.
var (
	uidRE      = regexp.MustCompile(`"uid": "[0-9a-f-]{36}"`)
	addrRE     = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)
	goRE       = regexp.MustCompile(`"goVersion": "[^"]*"`)
	platformRE = regexp.MustCompile(`"platform": "[^"]*"`)
)

// golden compares a response with testdata/NAME.golden: the status line,
// Content-Type and the body (JSON indented, uids replaced).
func golden(t *testing.T, name string, r response) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s\n\n", r.code, r.header.Get("Content-Type"))
	body := []byte(r.body)
	switch {
	case r.header.Get("Content-Type") == "application/octet-stream":
		b.WriteString(hex.Dump(body))
	default:
		for _, line := range bytes.Split(bytes.TrimSpace(body), []byte("\n")) {
			var out bytes.Buffer
			if err := json.Indent(&out, line, "", "  "); err != nil {
				out.Reset()
				out.Write(line)
			}
			text := uidRE.ReplaceAllString(out.String(), `"uid": "UID"`)
			text = addrRE.ReplaceAllString(text, "127.0.0.1:PORT")
			text = goRE.ReplaceAllString(text, `"goVersion": "GO"`)
			text = platformRE.ReplaceAllString(text, `"platform": "OS/ARCH"`)
			b.WriteString(text)
			b.WriteString("\n")
		}
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("%s differs from %s (go test -run %s -update rewrites it):\n--- got\n%s\n--- want\n%s", name, path, t.Name(), got, want)
	}
}

// TestWireShapes pins the wire form of every endpoint.
func TestWireShapes(t *testing.T) {
	e := newEnv(t)
	e.create("ns", "a", 1, map[string]string{"app": "x"})
	e.create("ns", "b", 2, nil)
	e.do("POST", "/apis/example.dev/v1/gadgets", `{"metadata":{"name":"g"},"spec":{"size":3}}`)
	for _, tc := range []struct {
		name, method, path, body string
		header                   []string
	}{
		{"api", "GET", "/api", "", nil},
		{"apis", "GET", "/apis", "", nil},
		{"api-v1", "GET", "/api/v1", "", nil},
		{"apis-group", "GET", "/apis/example.dev", "", nil},
		{"apis-group-version", "GET", "/apis/example.dev/v1", "", nil},
		{"version", "GET", "/version", "", nil},
		{"openapi-v2", "GET", "/openapi/v2", "", []string{"Accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"}},
		{"healthz", "GET", "/healthz", "", nil},
		{"readyz", "GET", "/readyz", "", nil},
		{"get", "GET", "/api/v1/namespaces/ns/widgets/a", "", nil},
		{"list", "GET", "/api/v1/namespaces/ns/widgets", "", nil},
		{"list-limit", "GET", "/api/v1/namespaces/ns/widgets?limit=1", "", nil},
		{"list-table", "GET", "/api/v1/namespaces/ns/widgets", "", []string{"Accept", tableAccept}},
		{"get-table-default-columns", "GET", "/apis/example.dev/v1/gadgets/g", "", []string{"Accept", tableAccept}},
		{"list-table-object", "GET", "/api/v1/namespaces/ns/widgets?includeObject=Object&labelSelector=app%3Dx", "", []string{"Accept", tableAccept}},
		{"list-metadata", "GET", "/api/v1/namespaces/ns/widgets", "", []string{"Accept", "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"}},
		{"create", "POST", "/api/v1/namespaces/ns/widgets", `{"apiVersion":"v1","kind":"Widget","metadata":{"name":"c"},"spec":{"size":4}}`, nil},
		{"update", "PUT", "/api/v1/namespaces/ns/widgets/c", `{"metadata":{"name":"c","resourceVersion":"4"},"spec":{"size":5}}`, nil},
		{"update-status", "PUT", "/api/v1/namespaces/ns/widgets/c/status", `{"metadata":{"name":"c","resourceVersion":"5"},"status":{"phase":"Up"}}`, nil},
		{"patch-strategic", "PATCH", "/api/v1/namespaces/ns/widgets/c", `{"spec":{"parts":[{"name":"p"}]}}`, []string{"Content-Type", "application/strategic-merge-patch+json"}},
		{"delete", "DELETE", "/api/v1/namespaces/ns/widgets/c", `{"propagationPolicy":"Background"}`, nil},
		{"deletecollection", "DELETE", "/api/v1/namespaces/ns/widgets?labelSelector=app%3Dx", "", nil},
		{"watch-initial-events", "GET", "/api/v1/namespaces/ns/widgets?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=0", "", nil},
		{"error-not-found", "GET", "/api/v1/namespaces/ns/widgets/zz", "", nil},
		{"error-unknown-resource", "GET", "/api/v1/nothings", "", nil},
		{"error-conflict", "PUT", "/api/v1/namespaces/ns/widgets/b", `{"metadata":{"name":"b","resourceVersion":"1"}}`, nil},
		{"error-invalid", "POST", "/api/v1/namespaces/ns/widgets", `{"metadata":{"name":"n"},"spec":{"size":-1}}`, nil},
		{"error-unsupported-media", "POST", "/api/v1/namespaces/ns/widgets", `x`, []string{"Content-Type", "application/vnd.kubernetes.protobuf"}},
		{"error-watch-expired", "GET", "/api/v1/namespaces/ns/widgets?watch=true&resourceVersion=1", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "watch-initial-events" {
				// The watch goes on; read its first two events.
				w := e.watch(tc.path)
				var lines []string
				for i := 0; i < 2; i++ {
					if !w.lines.Scan() {
						t.Fatal("the watch ended")
					}
					lines = append(lines, w.lines.Text())
				}
				golden(t, tc.name, response{code: w.resp.StatusCode, header: w.resp.Header, body: strings.Join(lines, "\n")})
				return
			}
			if tc.name == "error-watch-expired" {
				// A watch cache that keeps one event: revision 1 is
				// out of its window once three writes are in.
				small := newEnv(t, func(c *apiserver.Config) { c.WatchCacheSize = 1 })
				for _, n := range []string{"a", "b", "c"} {
					small.create("ns", n, 1, nil)
				}
				small.do("GET", "/api/v1/widgets", "") // the cache has seen them
				golden(t, tc.name, small.do(tc.method, tc.path, tc.body, tc.header...))
				return
			}
			golden(t, tc.name, e.do(tc.method, tc.path, tc.body, tc.header...))
		})
	}
}
