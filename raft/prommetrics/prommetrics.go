// Package prommetrics reports the metrics of a
// [github.com/governor-io/governor/raft] member to Prometheus, under etcd's
// names: etcd_server_has_leader, etcd_server_is_leader,
// etcd_server_leader_changes_seen_total,
// etcd_server_proposals_committed_total, _applied_total, _pending and
// _failed_total; etcd_network_peer_sent_bytes_total and
// etcd_network_peer_received_bytes_total (labelled To or From with the
// peer's ID in hex) and etcd_network_peer_sent_failures_total from its TCP
// transport; etcd_disk_wal_fsync_duration_seconds from its WAL
// ([github.com/governor-io/governor/raft/wal/prommetrics]); and etcd_mvcc_*
// from its state machine
// ([github.com/governor-io/governor/store/mvcc/prommetrics]).
//
// Give one [Provider] to one member, in raft.Config.Metrics and, for a
// transport made by hand, in raft.TCPConfig.Metrics: the names carry no
// member label, so each member of a process needs its own registry.
package prommetrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/wal"
	walprom "github.com/governor-io/governor/raft/wal/prommetrics"
	"github.com/governor-io/governor/store/mvcc"
	mvccprom "github.com/governor-io/governor/store/mvcc/prommetrics"
)

// Provider is a [raft.MetricsProvider] backed by Prometheus.
type Provider struct {
	hasLeader          prometheus.Gauge
	isLeader           prometheus.Gauge
	leaderChanges      prometheus.Counter
	proposalsCommitted prometheus.Counter
	proposalsApplied   prometheus.Counter
	proposalsPending   prometheus.Gauge
	proposalsFailed    prometheus.Counter

	sentBytes, receivedBytes, sentFailures *prometheus.CounterVec

	engine *mvccprom.Provider
	wal    *walprom.Provider
}

var _ raft.MetricsProvider = (*Provider)(nil)

// New returns a Provider registered on reg: the member's and the
// transport's metrics at once, the WAL's (shared with a WAL of this
// process already there), and the engine's when the member opens it. It
// fails, with an error matching raft.ErrInvalidConfig, when reg already
// has a member's metrics.
func New(reg prometheus.Registerer) (*Provider, error) {
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "etcd", Subsystem: "server", Name: name, Help: help})
	}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "etcd", Subsystem: "server", Name: name, Help: help})
	}
	peer := func(name, help, label string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "etcd", Subsystem: "network", Name: name, Help: help}, []string{label})
	}
	p := &Provider{
		hasLeader:          gauge("has_leader", "Whether or not a leader exists. 1 is existence, 0 is not."),
		isLeader:           gauge("is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise."),
		leaderChanges:      counter("leader_changes_seen_total", "The number of leader changes seen."),
		proposalsCommitted: counter("proposals_committed_total", "The total number of consensus proposals committed."),
		proposalsApplied:   counter("proposals_applied_total", "The total number of consensus proposals applied."),
		proposalsPending:   gauge("proposals_pending", "The current number of pending proposals to commit."),
		proposalsFailed:    counter("proposals_failed_total", "The total number of failed proposals seen."),
		sentBytes:          peer("peer_sent_bytes_total", "The total number of bytes sent to peers.", "To"),
		receivedBytes:      peer("peer_received_bytes_total", "The total number of bytes received from peers.", "From"),
		sentFailures:       peer("peer_sent_failures_total", "The total number of send failures to peers.", "To"),
		engine:             mvccprom.New(reg),
	}
	for _, c := range []prometheus.Collector{p.hasLeader, p.isLeader, p.leaderChanges, p.proposalsCommitted,
		p.proposalsApplied, p.proposalsPending, p.proposalsFailed, p.sentBytes, p.receivedBytes, p.sentFailures} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("%w: metrics already registered (use one registry per member): %w", raft.ErrInvalidConfig, err)
		}
	}
	var err error
	if p.wal, err = walprom.New(reg); err != nil {
		return nil, err
	}
	return p, nil
}

// NewHasLeaderMetric returns etcd_server_has_leader.
func (p *Provider) NewHasLeaderMetric() raft.GaugeMetric { return p.hasLeader }

// NewIsLeaderMetric returns etcd_server_is_leader.
func (p *Provider) NewIsLeaderMetric() raft.GaugeMetric { return p.isLeader }

// NewLeaderChangesMetric returns etcd_server_leader_changes_seen_total.
func (p *Provider) NewLeaderChangesMetric() raft.CounterMetric { return p.leaderChanges }

// NewProposalsCommittedMetric returns
// etcd_server_proposals_committed_total.
func (p *Provider) NewProposalsCommittedMetric() raft.CounterMetric { return p.proposalsCommitted }

// NewProposalsAppliedMetric returns etcd_server_proposals_applied_total.
func (p *Provider) NewProposalsAppliedMetric() raft.CounterMetric { return p.proposalsApplied }

// NewProposalsPendingMetric returns etcd_server_proposals_pending.
func (p *Provider) NewProposalsPendingMetric() raft.GaugeMetric { return p.proposalsPending }

// NewProposalsFailedMetric returns etcd_server_proposals_failed_total.
func (p *Provider) NewProposalsFailedMetric() raft.CounterMetric { return p.proposalsFailed }

// NewPeerSentBytesMetric returns etcd_network_peer_sent_bytes_total{To}
// of peer.
func (p *Provider) NewPeerSentBytesMetric(peer uint64) raft.CounterMetric {
	return p.sentBytes.WithLabelValues(peerLabel(peer))
}

// NewPeerReceivedBytesMetric returns
// etcd_network_peer_received_bytes_total{From} of peer.
func (p *Provider) NewPeerReceivedBytesMetric(peer uint64) raft.CounterMetric {
	return p.receivedBytes.WithLabelValues(peerLabel(peer))
}

// NewPeerSentFailuresMetric returns
// etcd_network_peer_sent_failures_total{To} of peer.
func (p *Provider) NewPeerSentFailuresMetric(peer uint64) raft.CounterMetric {
	return p.sentFailures.WithLabelValues(peerLabel(peer))
}

// EngineMetrics returns the provider of the member's etcd_mvcc_* metrics.
func (p *Provider) EngineMetrics() mvcc.MetricsProvider { return p.engine }

// WALMetrics returns the provider of etcd_disk_wal_fsync_duration_seconds.
func (p *Provider) WALMetrics() wal.MetricsProvider { return p.wal }

// peerLabel is a member ID as etcd labels it: in hex.
func peerLabel(id uint64) string { return fmt.Sprintf("%x", id) }
