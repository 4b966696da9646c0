// Package raft is Governor's replicated KV: an embeddable member of a
// Raft cluster whose state machine is the in-memory MVCC engine of
// [github.com/governor-io/governor/store/mvcc]. A [*Node] implements
// [kv.KV], so the typed store, informers and controllers run on a cluster
// exactly as they run on one engine.
//
// Consensus comes from go.etcd.io/raft/v3; this package does the I/O
// around it: the write-ahead log ([github.com/governor-io/governor/raft/wal]),
// snapshots, the peer transport, proposal batching, ReadIndex reads and
// membership.
//
// # Usage
//
// Start each founding member with the same InitialCluster:
//
//	n, err := raft.Open(ctx, raft.Config{
//		ID:  1,
//		Dir: "/var/lib/kv/1",
//		InitialCluster: []raft.Member{
//			{ID: 1, PeerAddr: "10.0.0.1:2380"},
//			{ID: 2, PeerAddr: "10.0.0.2:2380"},
//			{ID: 3, PeerAddr: "10.0.0.3:2380"},
//		},
//	})
//	defer n.Close()
//	rev, err := kv.Put(ctx, n, "/registry/pods/default/web", data)
//
// A restart passes the same Config: the member recovers from Dir (the
// snapshot, then the WAL) and InitialCluster is ignored. A member added at
// runtime (see [Node.AddMember]) starts with Join set instead.
//
// # The Ready loop
//
// One goroutine owns the Raft state machine. Each turn it ticks, steps
// inbound messages, proposes every queued transaction as one batch, and
// handles the Ready that results in the order the Ready contract demands:
// the snapshot marker, HardState and entries are written and fsynced to
// the WAL before any message leaves (except a leader's appends, which may
// overlap its own write as the Raft thesis allows, once its term and vote
// are durable), then committed entries are applied to the engine in log
// order. A transaction's caller is answered when its entry is applied on
// the member it called.
//
// # Memory: the log and snapshots
//
// Every [Config.SnapshotEntries] applied requests the member writes a
// snapshot of the engine and releases the WAL before it. The snapshot is
// written off the loop, from a point-in-time view of the engine
// ([mvcc.Engine.View]) taken between two Readies: the loop goes on
// ticking, heartbeating and applying while it is written, and only records
// it (in the WAL and the in-memory log) once it is durable. The in-memory
// Raft log is trimmed sooner, right after entries apply: it keeps what is
// not applied yet, on the leader what some follower still lacks, and the
// last [Config.LogRetainBytes] of applied entries. The WAL keeps every
// entry until the next snapshot, so nothing a restart needs is lost; a
// member further behind than the in-memory log (one that joins, say) is
// sent a snapshot, taken for it if the latest one is too old.
//
// # History compaction
//
// Every write adds a revision to the engine's history, so history is
// compacted automatically, as etcd's auto-compaction does and through the
// log, so that every member compacts at the same point: each member samples
// its revision every tenth of [Config.CompactionRetention] (default 5
// minutes), and the leader proposes a compaction to the newest sample at
// least that old; it also compacts when history grows 10% past
// [Config.CompactionRevisions] (default 100,000 revisions). A new leader
// goes on with the samples it took as a follower. Time is that of
// [Config.Clock]. A negative value turns a rule off; with both off, history
// is compacted only when a client calls [Node.Compact].
//
// # Reads
//
// Range and read-only Txn are linearizable by default: concurrent readers
// share one ReadIndex request, then wait until the member has applied up
// to the index the leader returned. A Range with Serializable set in its
// [kv.RangeRequest] (or every read, with [Config.SerializableReads]) reads
// the local engine at once instead.
// Watch and RequestProgress are always served by the local engine, on any
// member.
//
// # Peer traffic
//
// A leader probes a follower whose log it has not matched yet (after an
// election, or when the follower was unreachable): it sends one append
// of up to [Config.MaxBatchBytes] from where the logs may match, and Raft
// sends it again on each heartbeat response. Every ReadIndex is a
// heartbeat round, and a member resuming from a pause answers its whole
// backlog of heartbeats at once, so the loop lets one heartbeat response
// per heartbeat interval through to Raft while a follower is probed, and
// holds the latest of the others (with the newest read context) for the
// next interval: a follower is sent about what it lacks, not the same
// megabyte once per heartbeat. The TCP transport counts its traffic in
// etcd_network_peer_sent_bytes_total and
// etcd_network_peer_received_bytes_total.
//
// # Writes on followers
//
// A follower forwards writes to the leader through Raft. With
// [Config.DisableForwarding] it refuses them with a [NotLeaderError] that
// names the leader's client address.
//
// # Safety defaults
//
// PreVote and CheckQuorum are on, reads use ReadOnlySafe, and a failed
// WAL write or fsync stops the member ([ErrStopped]) rather than let it go
// on with state that is not durable.
package raft
