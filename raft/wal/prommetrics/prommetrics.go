// Package prommetrics reports the metrics of a
// [github.com/governor-io/governor/raft/wal] WAL to Prometheus, under
// etcd's name and buckets: etcd_disk_wal_fsync_duration_seconds.
package prommetrics

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/governor-io/governor/raft/wal"
)

// FsyncDurationName is the name of the fsync histogram, as etcd has it.
const FsyncDurationName = "etcd_disk_wal_fsync_duration_seconds"

// Provider is a [wal.MetricsProvider]: every WAL opened with it observes
// the same histogram.
type Provider struct {
	fsync prometheus.Histogram
}

var _ wal.MetricsProvider = (*Provider)(nil)

// New returns a Provider whose histogram is registered on reg. When reg
// already holds it (the WAL of a member reopened in the same process, or
// another WAL of this process), the registered one is shared.
func New(reg prometheus.Registerer) (*Provider, error) {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: FsyncDurationName,
		Help: "Latency of the fdatasync calls that make write-ahead log appends durable.",
		// 1 ms to about 8 s, doubling: the buckets etcd uses for this metric.
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	})
	if err := reg.Register(h); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(prometheus.Histogram); ok {
				return &Provider{fsync: existing}, nil
			}
		}
		return nil, fmt.Errorf("wal: register metrics: %w", err)
	}
	return &Provider{fsync: h}, nil
}

// NewFsyncDurationMetric returns etcd_disk_wal_fsync_duration_seconds.
func (p *Provider) NewFsyncDurationMetric() wal.HistogramMetric { return p.fsync }
