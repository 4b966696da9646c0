package apiserver_test

import (
	"strings"
	"testing"
)

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.create("ns", "a", 1, nil)
	e.do("GET", "/api/v1/namespaces/ns/widgets", "")
	e.do("GET", "/api/v1/namespaces/ns/widgets/zz", "")
	w := e.watch("/api/v1/namespaces/ns/widgets?watch=true")
	w.expect("ADDED", "a")
	m := e.do("GET", "/metrics", "").body
	for _, want := range []string{
		`apiserver_request_total{code="201",component="apiserver",group="",resource="widgets",scope="namespace",subresource="",verb="POST",version="v1"} 1`,
		`apiserver_request_total{code="200",component="apiserver",group="",resource="widgets",scope="namespace",subresource="",verb="LIST",version="v1"} 1`,
		`apiserver_request_total{code="404",component="apiserver",group="",resource="widgets",scope="resource",subresource="",verb="GET",version="v1"} 1`,
		`apiserver_request_duration_seconds_count{component="apiserver",group="",resource="widgets",scope="namespace",subresource="",verb="LIST",version="v1"} 1`,
		`apiserver_longrunning_requests{component="apiserver",group="",resource="widgets",scope="namespace",subresource="",verb="WATCH",version="v1"} 1`,
		`apiserver_current_inflight_requests{request_kind="readOnly"} 1`, // the open watch
		`apiserver_watch_events_total{group="",resource="widgets",version="v1"} 1`,
		`apiserver_storage_objects{resource="widgets"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
