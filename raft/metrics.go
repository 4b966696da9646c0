package raft

import (
	"github.com/governor-io/governor/raft/wal"
	"github.com/governor-io/governor/store/mvcc"
)

// MetricsProvider makes a member's metrics, and those of its TCP transport,
// its WAL and its state machine. The package prommetrics implements it
// with Prometheus, under etcd's names: etcd_server_* for the member,
// etcd_network_peer_* for the transport, etcd_disk_wal_fsync_duration_seconds
// and etcd_mvcc_*. A member or transport without a provider keeps no
// metrics and pays nothing for them. Each instrument is asked for once
// (the peer ones once per peer), so that no update does a label lookup.
type MetricsProvider interface {
	// NewHasLeaderMetric returns the gauge set to 1 while the member knows
	// a leader, 0 otherwise.
	NewHasLeaderMetric() GaugeMetric
	// NewIsLeaderMetric returns the gauge set to 1 while the member leads,
	// 0 otherwise.
	NewIsLeaderMetric() GaugeMetric
	// NewLeaderChangesMetric returns the counter of leader changes seen.
	NewLeaderChangesMetric() CounterMetric
	// NewProposalsCommittedMetric and NewProposalsAppliedMetric return the
	// counters of proposals committed and applied.
	NewProposalsCommittedMetric() CounterMetric
	NewProposalsAppliedMetric() CounterMetric
	// NewProposalsPendingMetric returns the gauge of proposals waiting to
	// commit.
	NewProposalsPendingMetric() GaugeMetric
	// NewProposalsFailedMetric returns the counter of failed proposals.
	NewProposalsFailedMetric() CounterMetric

	// NewPeerSentBytesMetric returns the counter of the bytes of messages
	// and snapshots sent to peer.
	NewPeerSentBytesMetric(peer uint64) CounterMetric
	// NewPeerReceivedBytesMetric returns the counter of the bytes received
	// from peer.
	NewPeerReceivedBytesMetric(peer uint64) CounterMetric
	// NewPeerSentFailuresMetric returns the counter of messages to peer
	// dropped because its queue was full.
	NewPeerSentFailuresMetric(peer uint64) CounterMetric

	// EngineMetrics returns the provider of the member's state machine,
	// used unless Config.Engine.Metrics is set; nil means none.
	EngineMetrics() mvcc.MetricsProvider
	// WALMetrics returns the provider of the member's WAL, used unless
	// Config.WAL.Metrics is set; nil means none.
	WALMetrics() wal.MetricsProvider
}

// CounterMetric is a value that only goes up.
type CounterMetric interface {
	// Inc adds one.
	Inc()
	// Add adds v, which is not negative.
	Add(v float64)
}

// GaugeMetric is a value that goes up and down.
type GaugeMetric interface {
	// Set sets the value.
	Set(v float64)
	// Inc adds one.
	Inc()
	// Dec subtracts one.
	Dec()
	// Add adds v.
	Add(v float64)
}

// metrics are the member's instruments; no-ops without a provider.
type metrics struct {
	hasLeader          GaugeMetric
	isLeader           GaugeMetric
	leaderChanges      CounterMetric
	proposalsCommitted CounterMetric
	proposalsApplied   CounterMetric
	proposalsPending   GaugeMetric
	proposalsFailed    CounterMetric
}

func newMetrics(p MetricsProvider) *metrics {
	if p == nil {
		n := noop{}
		return &metrics{n, n, n, n, n, n, n}
	}
	return &metrics{
		hasLeader:          p.NewHasLeaderMetric(),
		isLeader:           p.NewIsLeaderMetric(),
		leaderChanges:      p.NewLeaderChangesMetric(),
		proposalsCommitted: p.NewProposalsCommittedMetric(),
		proposalsApplied:   p.NewProposalsAppliedMetric(),
		proposalsPending:   p.NewProposalsPendingMetric(),
		proposalsFailed:    p.NewProposalsFailedMetric(),
	}
}

func (m *metrics) setLeader(lead uint64, isLeader bool) {
	m.hasLeader.Set(b2f(lead != 0))
	m.isLeader.Set(b2f(isLeader))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// peerMetrics are a transport's instruments for one peer.
type peerMetrics struct {
	sentBytes, receivedBytes, sentFailures CounterMetric
}

func newPeerMetrics(p MetricsProvider, peer uint64) peerMetrics {
	if p == nil {
		return peerMetrics{noop{}, noop{}, noop{}}
	}
	return peerMetrics{
		sentBytes:     p.NewPeerSentBytesMetric(peer),
		receivedBytes: p.NewPeerReceivedBytesMetric(peer),
		sentFailures:  p.NewPeerSentFailuresMetric(peer),
	}
}

// noop is the instrument of a member without metrics.
type noop struct{}

func (noop) Set(float64) {}
func (noop) Inc()        {}
func (noop) Dec()        {}
func (noop) Add(float64) {}
