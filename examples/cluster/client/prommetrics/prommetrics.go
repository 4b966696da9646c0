// Package prommetrics reports the metrics of
// [github.com/governor-io/governor/examples/cluster/client] clients to
// Prometheus, under the names and labels client-go's REST client uses:
// rest_client_requests_total{code,method,host},
// rest_client_request_duration_seconds{verb,host},
// rest_client_request_retries_total{code,verb,host} and
// rest_client_rate_limiter_duration_seconds{verb,host}, so that the
// dashboards and alerts written for Kubernetes components work unchanged.
//
// A [Provider] registers on the registry its caller passes, never on the
// global one unless that is what the caller passes. One Provider serves any
// number of clients.
package prommetrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/governor-io/governor/examples/cluster/client"
)

// Metric names, as client-go exports them.
const (
	RequestsName            = "rest_client_requests_total"
	RequestDurationName     = "rest_client_request_duration_seconds"
	RetriesName             = "rest_client_request_retries_total"
	RateLimiterDurationName = "rest_client_rate_limiter_duration_seconds"
)

// Provider is a [client.MetricsProvider] backed by Prometheus vectors.
type Provider struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	retries  *prometheus.CounterVec
	limiter  *prometheus.HistogramVec
}

var _ client.MetricsProvider = (*Provider)(nil)

// New returns a Provider whose metrics are registered on reg. It returns
// the registration error, for example when reg already holds metrics with
// these names.
func New(reg prometheus.Registerer) (*Provider, error) {
	// client-go's buckets: from 5ms to a minute.
	buckets := []float64{0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60}
	p := &Provider{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: RequestsName, Help: "Number of HTTP requests, partitioned by status code, method, and host.",
		}, []string{"code", "method", "host"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: RequestDurationName, Help: "Request latency in seconds. Broken down by verb and host.", Buckets: buckets,
		}, []string{"verb", "host"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: RetriesName, Help: "Number of request retries, partitioned by status code, verb, and host.",
		}, []string{"code", "verb", "host"}),
		limiter: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: RateLimiterDurationName, Help: "Client side rate limiter latency in seconds. Broken down by verb and host.", Buckets: buckets,
		}, []string{"verb", "host"}),
	}
	for _, c := range []prometheus.Collector{p.requests, p.duration, p.retries, p.limiter} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// RequestResult counts one attempt in rest_client_requests_total.
func (p *Provider) RequestResult(code, method, host string) {
	p.requests.WithLabelValues(code, method, host).Inc()
}

// RequestLatency observes one attempt in
// rest_client_request_duration_seconds.
func (p *Provider) RequestLatency(verb, host string, d time.Duration) {
	p.duration.WithLabelValues(verb, host).Observe(d.Seconds())
}

// RequestRetry counts one retry in rest_client_request_retries_total.
func (p *Provider) RequestRetry(code, verb, host string) {
	p.retries.WithLabelValues(code, verb, host).Inc()
}

// RateLimiterLatency observes one wait in
// rest_client_rate_limiter_duration_seconds.
func (p *Provider) RateLimiterLatency(verb, host string, d time.Duration) {
	p.limiter.WithLabelValues(verb, host).Observe(d.Seconds())
}
