package apiserver

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are kube-apiserver's request and storage metrics, under its
// names and labels.
type metrics struct {
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	inflight       *prometheus.GaugeVec
	longrunning    *prometheus.GaugeVec
	watchEvents    *prometheus.CounterVec
	storageObjects *prometheus.GaugeVec
}

var requestLabels = []string{"verb", "group", "version", "resource", "subresource", "scope", "component"}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_request_total",
			Help: "Counter of apiserver requests broken out for each verb, group, version, resource, scope, component, and HTTP response code.",
		}, append(append([]string{}, requestLabels...), "code")),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "apiserver_request_duration_seconds",
			Help: "Response latency distribution in seconds for each verb, group, version, resource, subresource, scope and component.",
			Buckets: []float64{0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3,
				4, 5, 6, 8, 10, 15, 20, 30, 45, 60},
		}, requestLabels),
		inflight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "apiserver_current_inflight_requests",
			Help: "Number of requests in flight, by kind (readOnly or mutating).",
		}, []string{"request_kind"}),
		longrunning: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "apiserver_longrunning_requests",
			Help: "Gauge of all active long-running apiserver requests (watches) broken out by verb, group, version, resource, scope and component.",
		}, requestLabels),
		watchEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_watch_events_total",
			Help: "Number of events sent in watch clients.",
		}, []string{"group", "version", "resource"}),
		storageObjects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "apiserver_storage_objects",
			Help: "Number of stored objects at the time of last check split by kind.",
		}, []string{"resource"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.inflight, m.longrunning, m.watchEvents, m.storageObjects} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// verbLabels are kube-apiserver's verb label values.
var verbLabels = map[string]string{
	"get": "GET", "list": "LIST", "watch": "WATCH", "create": "POST", "update": "PUT",
	"patch": "PATCH", "delete": "DELETE", "deletecollection": "DELETECOLLECTION",
}

// labels returns the request labels of ri, without code.
func (m *metrics) labels(ri *requestInfo) []string {
	verb, ok := verbLabels[ri.verb]
	if !ok {
		verb = strings.ToUpper(ri.verb)
	}
	scope := ""
	if ri.resource != "" {
		scope = ri.scope()
	}
	sub := ri.subresource
	if _, ok := subresourceDiscovery[sub]; !ok {
		sub = "" // not one the server knows: the client's own string
	}
	return []string{verb, ri.group, ri.version, ri.resource, sub, scope, "apiserver"}
}
