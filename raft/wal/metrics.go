package wal

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// newFsyncHistogram returns etcd_disk_wal_fsync_duration_seconds, registered
// on reg if reg is not nil. When reg already holds it (another WAL of this
// process, or a WAL reopened after a restart), the registered one is shared.
func newFsyncHistogram(reg prometheus.Registerer) (prometheus.Histogram, error) {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "etcd",
		Subsystem: "disk",
		Name:      "wal_fsync_duration_seconds",
		Help:      "Latency of the fdatasync calls that make write-ahead log appends durable.",
		// 1 ms to about 8 s, doubling: the buckets etcd uses for this metric.
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	})
	if reg == nil {
		return h, nil
	}
	if err := reg.Register(h); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(prometheus.Histogram); ok {
				return existing, nil
			}
		}
		return nil, fmt.Errorf("wal: register metrics: %w", err)
	}
	return h, nil
}
