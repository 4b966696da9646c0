package client

import "time"

// MetricsProvider receives the metrics of a [Client]. Package prommetrics
// implements it with Prometheus, under client-go's names:
// rest_client_requests_total{code,method,host},
// rest_client_request_duration_seconds{verb,host},
// rest_client_request_retries_total{code,verb,host} and
// rest_client_rate_limiter_duration_seconds{verb,host}. A Client without a
// provider keeps no metrics and pays nothing for them.
//
// method and verb are the HTTP method ("GET", "POST", ...); host is the
// API server's host:port; code is the HTTP status code as a decimal
// string, or "<error>" when no response arrived. Implementations must be
// safe for concurrent use.
type MetricsProvider interface {
	// RequestResult counts one attempt at a request.
	RequestResult(code, method, host string)
	// RequestLatency observes how long one attempt took, until its
	// response headers arrived.
	RequestLatency(verb, host string, d time.Duration)
	// RequestRetry counts one retry, labelled with the code of the attempt
	// that made it necessary.
	RequestRetry(code, verb, host string)
	// RateLimiterLatency observes how long a request waited for the
	// client's QPS limit.
	RateLimiterLatency(verb, host string, d time.Duration)
}

// codeError is the code label of an attempt that got no response.
const codeError = "<error>"
