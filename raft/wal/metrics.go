package wal

// MetricsProvider makes the WAL's metrics. The package prommetrics
// implements it with Prometheus, under etcd's name and buckets
// (etcd_disk_wal_fsync_duration_seconds). A WAL without a provider does not
// time its fsyncs.
type MetricsProvider interface {
	// NewFsyncDurationMetric returns the histogram of the seconds each
	// fsync takes. A WAL asks for it once, when it opens.
	NewFsyncDurationMetric() HistogramMetric
}

// HistogramMetric records observations.
type HistogramMetric interface {
	// Observe records one observation.
	Observe(v float64)
}
