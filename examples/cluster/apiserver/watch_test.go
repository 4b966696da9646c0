package apiserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/apiserver"
)

// watch opens a watch and returns a function that reads its next event.
type watchStream struct {
	t      *testing.T
	resp   *http.Response
	lines  *bufio.Scanner
	cancel context.CancelFunc
}

func (e *env) watch(path string, header ...string) *watchStream {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	req, err := http.NewRequestWithContext(ctx, "GET", e.ts.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	w := &watchStream{t: e.t, resp: resp, lines: bufio.NewScanner(resp.Body), cancel: cancel}
	e.t.Cleanup(w.close)
	return w
}

func (w *watchStream) close() {
	w.cancel()
	w.resp.Body.Close()
}

type event struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// next reads the next event; it fails the test if the stream ends.
func (w *watchStream) next() (string, map[string]any) {
	w.t.Helper()
	if !w.lines.Scan() {
		w.t.Fatalf("the watch ended: %v", w.lines.Err())
	}
	var ev event
	if err := json.Unmarshal(w.lines.Bytes(), &ev); err != nil {
		w.t.Fatalf("bad event line %q: %v", w.lines.Text(), err)
	}
	var obj map[string]any
	_ = json.Unmarshal(ev.Object, &obj)
	return ev.Type, obj
}

// ended reports whether the stream ends before another event.
func (w *watchStream) ended() bool {
	return !w.lines.Scan()
}

// expect reads the next event and checks its type and object name. It
// skips bookmarks, which a watch that allows them may get at any time
// (after a progress request of a consistent read, say).
func (w *watchStream) expect(typ, name string) map[string]any {
	w.t.Helper()
	got, obj := w.next()
	for got == "BOOKMARK" && typ != "BOOKMARK" {
		got, obj = w.next()
	}
	if got != typ || (name != "" && nameOf(obj) != name) {
		w.t.Fatalf("event %s %s, want %s %s (%v)", got, nameOf(obj), typ, name, obj)
	}
	return obj
}

func TestWatchFollowsChanges(t *testing.T) {
	e := newEnv(t)
	e.create("ns", "a", 1, nil)
	w := e.watch("/api/v1/namespaces/ns/widgets?watch=true")
	if ct := w.resp.Header.Get("Content-Type"); ct != "application/json" || w.resp.StatusCode != 200 {
		t.Fatalf("%d %s", w.resp.StatusCode, ct)
	}
	w.expect("ADDED", "a")
	b := e.create("ns", "b", 2, nil)
	e.create("other", "c", 2, nil) // another namespace: not seen
	w.expect("ADDED", "b")
	r := e.do("PATCH", "/api/v1/namespaces/ns/widgets/b", `{"spec":{"size":3}}`, "Content-Type", "application/merge-patch+json")
	obj := w.expect("MODIFIED", "b")
	if metaOf(obj)["resourceVersion"] != metaOf(r.json(t))["resourceVersion"] {
		t.Fatalf("resourceVersion %v, want %v", metaOf(obj)["resourceVersion"], metaOf(r.json(t))["resourceVersion"])
	}
	e.do("DELETE", "/api/v1/namespaces/ns/widgets/b", "")
	obj = w.expect("DELETED", "b")
	if obj["spec"].(map[string]any)["size"] != float64(3) || metaOf(obj)["uid"] != b.UID {
		t.Fatalf("a DELETED event carries the last state: %v", obj)
	}
}

func TestWatchFromResourceVersion(t *testing.T) {
	e := newEnv(t)
	a := e.create("ns", "a", 1, nil)
	e.create("ns", "b", 1, nil)
	e.create("ns", "c", 1, nil)
	w := e.watch("/api/v1/namespaces/ns/widgets?watch=true&resourceVersion=" + a.ResourceVersion)
	w.expect("ADDED", "b")
	w.expect("ADDED", "c")
	e.create("ns", "d", 1, nil)
	w.expect("ADDED", "d")
}

func TestWatchTooOldIsAnErrorEvent(t *testing.T) {
	e := newEnv(t, func(c *apiserver.Config) { c.WatchCacheSize = 2 })
	for _, n := range []string{"a", "b", "c", "d"} {
		e.create("ns", n, 1, nil)
	}
	e.do("GET", "/api/v1/widgets", "") // a consistent list: the cache has seen every write
	w := e.watch("/api/v1/namespaces/ns/widgets?watch=true&resourceVersion=1")
	if w.resp.StatusCode != 200 {
		t.Fatalf("status %d", w.resp.StatusCode)
	}
	typ, st := w.next()
	if typ != "ERROR" || st["kind"] != "Status" || st["code"] != float64(410) || st["reason"] != "Expired" {
		t.Fatalf("%s %v", typ, st)
	}
	if !w.ended() {
		t.Fatal("the stream goes on after ERROR")
	}
}

func TestWatchSelectorTransitions(t *testing.T) {
	e := newEnv(t)
	e.create("ns", "a", 1, map[string]string{"app": "web"})
	w := e.watch("/api/v1/namespaces/ns/widgets?watch=true&labelSelector=app%3Dweb")
	w.expect("ADDED", "a")
	e.create("ns", "b", 1, map[string]string{"app": "db"})
	patch := func(name, body string) response {
		return e.do("PATCH", "/api/v1/namespaces/ns/widgets/"+name, body, "Content-Type", "application/merge-patch+json")
	}
	r := patch("a", `{"metadata":{"labels":{"app":"db"}}}`)
	obj := w.expect("DELETED", "a")
	if metaOf(obj)["labels"].(map[string]any)["app"] != "web" || metaOf(obj)["resourceVersion"] != metaOf(r.json(t))["resourceVersion"] {
		t.Fatalf("DELETED carries the last matching state with the new resourceVersion: %v", obj)
	}
	patch("b", `{"metadata":{"labels":{"app":"web"}}}`)
	w.expect("ADDED", "b")
}

func TestWatchFieldSelectorOnOneObject(t *testing.T) {
	e := newEnv(t)
	e.create("ns", "a", 1, nil)
	w := e.watch("/api/v1/namespaces/ns/widgets?watch=true&fieldSelector=metadata.name%3Db")
	e.create("ns", "b", 1, nil)
	w.expect("ADDED", "b")
}

func TestWatchSendInitialEvents(t *testing.T) {
	e := newEnv(t)
	e.create("ns", "a", 1, nil)
	last := e.create("ns", "b", 1, nil)
	w := e.watch("/api/v1/widgets?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true")
	w.expect("ADDED", "a")
	w.expect("ADDED", "b")
	typ, bm := w.next()
	if typ != "BOOKMARK" || bm["kind"] != "Widget" || bm["apiVersion"] != "v1" {
		t.Fatalf("%s %v", typ, bm)
	}
	m := metaOf(bm)
	if m["resourceVersion"] != last.ResourceVersion || m["annotations"].(map[string]any)["k8s.io/initial-events-end"] != "true" {
		t.Fatalf("bookmark %v, want resourceVersion %s and the initial-events-end annotation", m, last.ResourceVersion)
	}
	if len(m) != 2 {
		t.Fatalf("a bookmark carries only resourceVersion and the annotation: %v", m)
	}
	e.create("ns", "c", 1, nil)
	w.expect("ADDED", "c")
}

func TestWatchBookmarksAndTimeout(t *testing.T) {
	e := newEnv(t)
	a := e.create("ns", "a", 1, nil)
	idle := e.clock.Waiters()
	w := e.watch("/api/v1/namespaces/ns/widgets?watch=true&allowWatchBookmarks=true&timeoutSeconds=90&resourceVersion=" + a.ResourceVersion)
	if err := e.clock.BlockUntilWaiters(t.Context(), idle+1); err != nil { // the watch's timeout
		t.Fatal(err)
	}
	e.create("other", "x", 1, nil)                  // the KV moves on; this watch sees no event
	e.clock.Step(apiserver.DefaultBookmarkInterval) // the caches ask for progress
	typ, bm := w.next()
	if typ != "BOOKMARK" || metaOf(bm)["resourceVersion"] == a.ResourceVersion {
		t.Fatalf("%s %v", typ, bm)
	}
	e.clock.Step(30 * time.Second) // 90s in all
	for w.lines.Scan() {
		var ev event
		_ = json.Unmarshal(w.lines.Bytes(), &ev)
		if ev.Type != "BOOKMARK" {
			t.Fatalf("unexpected %s", w.lines.Text())
		}
	}
}

func TestWatchTable(t *testing.T) {
	e := newEnv(t)
	w := e.watch("/api/v1/namespaces/ns/widgets?watch=true", "Accept", tableAccept)
	e.create("ns", "a", 7, nil)
	typ, tbl := w.next()
	if typ != "ADDED" || tbl["kind"] != "Table" || tbl["apiVersion"] != "meta.k8s.io/v1" {
		t.Fatalf("%s %v", typ, tbl)
	}
	rows := tbl["rows"].([]any)
	row := rows[0].(map[string]any)
	if fmt.Sprint(row["cells"]) != "[a 7 0s ]" || row["object"].(map[string]any)["kind"] != "PartialObjectMetadata" {
		t.Fatalf("row %v", row)
	}
}

func TestCloseEndsWatches(t *testing.T) {
	e := newEnv(t)
	w := e.watch("/api/v1/widgets?watch=true")
	e.create("ns", "a", 1, nil)
	w.expect("ADDED", "a")
	e.srv.Close()
	if !w.ended() {
		t.Fatal("the watch did not end")
	}
	if r := e.do("GET", "/api/v1/widgets", ""); r.code != http.StatusServiceUnavailable {
		t.Fatalf("after Close: %d %s", r.code, r.body)
	}
}
