package raft

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/raft/wal"
	"github.com/governor-io/governor/store/mvcc"
)

// Defaults for the zero fields of a [Config].
const (
	DefaultTickInterval           = 100 * time.Millisecond
	DefaultElectionTicks          = 10
	DefaultHeartbeatTicks         = 1
	DefaultSnapshotEntries        = 10000
	DefaultSnapshotCatchUpEntries = 5000
	DefaultLogRetainBytes         = 512 << 10
	DefaultRequestTimeout         = 10 * time.Second
	DefaultMaxBatchBytes          = 1 << 20
	DefaultMaxInflightMsgs        = 512
	DefaultWatchBufferSize        = 1024
	// DefaultCompactionRetention keeps five minutes of history, as
	// kube-apiserver does when it compacts etcd (every 5 minutes, to the
	// revision it saw 5 minutes before).
	DefaultCompactionRetention = 5 * time.Minute
	// DefaultCompactionRevisions caps history at about 100,000 revisions
	// under write rates high enough that five minutes hold more.
	DefaultCompactionRevisions = 100000
)

// Member is one member of a cluster: its ID (non-zero, never reused) and
// the addresses others reach it at.
type Member struct {
	// ID identifies the member for the cluster's lifetime. It must be
	// non-zero, and an ID must never be reused after a removal.
	ID uint64 `json:"id"`
	// PeerAddr is the host:port of the member's peer transport.
	PeerAddr string `json:"peerAddr"`
	// ClientAddr is where clients reach the member's KV API (a host:port
	// or URL); it is what [NotLeaderError] reports. It may be empty.
	ClientAddr string `json:"clientAddr,omitempty"`
	// Learner marks a non-voting member.
	Learner bool `json:"learner,omitempty"`
}

// Config configures a member. ID and Dir are required; the zero value of
// every other field is a sensible default.
type Config struct {
	// ID is this member's ID, as listed in InitialCluster.
	ID uint64
	// Dir is the data directory: Dir/wal holds the log and Dir/snap the
	// snapshots. A member restarts from it when it exists.
	Dir string

	// InitialCluster lists every member of a new cluster, this one
	// included. All founding members must be given the same list. It is
	// ignored when Dir already holds state, and must be empty when Join is
	// set.
	InitialCluster []Member
	// Join starts a member with an empty log that waits to be contacted by
	// an existing cluster which already added it (see [Node.AddMember]).
	Join bool

	// ListenAddr is the host:port the TCP peer transport listens on.
	// Empty means this member's PeerAddr in InitialCluster. It is unused
	// when Transport is set. Port 0 picks a free port (see
	// [Node.PeerAddr]).
	ListenAddr string
	// PeerTLS, when set, secures the peer transport (for mutual TLS, set
	// Certificates, ClientCAs, RootCAs and ClientAuth to
	// tls.RequireAndVerifyClientCert). The same config serves and dials.
	PeerTLS *tls.Config
	// Transport carries messages between members. Nil means a TCP
	// transport ([NewTCPTransport]) on ListenAddr.
	Transport Transport

	// Clock drives the logical ticks, one every TickInterval, unless
	// Ticks is set. Nil means [clock.Real].
	Clock clock.Clock
	// Ticks, when set, drives the logical ticks instead of a ticker on
	// Clock: each value received is one tick. A test that sends the ticks
	// itself decides how far the members' logical time moves, and when,
	// so a seeded schedule of faults lands at the same tick in every run.
	// TickInterval still converts durations into ticks.
	Ticks <-chan struct{}
	// TickInterval is the length of one logical tick. Zero means
	// [DefaultTickInterval].
	TickInterval time.Duration
	// ElectionTicks is the election timeout in ticks; HeartbeatTicks the
	// heartbeat interval. Zero means the defaults.
	ElectionTicks  int
	HeartbeatTicks int

	// SnapshotEntries is the number of applied entries between snapshots,
	// counting each request of a batched entry. Zero means
	// [DefaultSnapshotEntries].
	SnapshotEntries uint64
	// SnapshotCatchUpEntries is the number of entries kept in the log
	// behind a snapshot (fewer when they hold more requests than that), so
	// that a slightly lagging follower catches up without a snapshot. Zero means [DefaultSnapshotCatchUpEntries].
	SnapshotCatchUpEntries uint64
	// LogRetainBytes is how much of the applied log (entry data) a member
	// keeps in memory after applying it, so that the followers of a newly
	// elected leader catch up from the log rather than from a snapshot.
	// Beyond that the in-memory log holds only what is not applied yet
	// and, on the leader, what some follower still lacks; every entry
	// stays in the WAL until the next snapshot, and a follower further
	// behind is sent a snapshot (taken then if need be). Zero means
	// [DefaultLogRetainBytes]; a negative value keeps only the last one.
	LogRetainBytes int

	// MaxBatchBytes caps the size of one proposed entry (a batch of
	// transactions) and of one append message. Zero means
	// [DefaultMaxBatchBytes].
	MaxBatchBytes int
	// MaxInflightMsgs caps the append messages in flight to one follower.
	// Zero means [DefaultMaxInflightMsgs].
	MaxInflightMsgs int

	// DisableForwarding makes a follower refuse writes with a
	// [NotLeaderError] instead of forwarding them to the leader.
	DisableForwarding bool
	// SerializableReads serves every read (Range and read-only Txn) from
	// the local engine without a ReadIndex round. Reads are then possibly
	// stale. A single Range can ask for this with
	// [kv.RangeRequest.Serializable].
	SerializableReads bool
	// RequestTimeout bounds how long a request waits for the cluster when
	// its context has no earlier deadline. Zero means
	// [DefaultRequestTimeout].
	RequestTimeout time.Duration

	// CompactionRetention is how long history is kept: the leader
	// compacts away the revisions older than this, through the log (as
	// etcd's periodic auto-compaction does). Each member samples its
	// revision every tenth of it, by Clock, so history spans between
	// CompactionRetention and 1.1 times it, and a new leader continues
	// with its own samples. Zero means [DefaultCompactionRetention]; a
	// negative value turns compaction by age off.
	CompactionRetention time.Duration
	// CompactionRevisions caps the history kept, in revisions: once it
	// grows 10% past this, the leader compacts to the current revision
	// minus CompactionRevisions (checked every tick, through the log, as
	// etcd's revision auto-compaction does). Zero means
	// [DefaultCompactionRevisions]; a negative value turns it off. With
	// both off nothing is compacted unless a client calls
	// [Node.Compact], and history grows without bound.
	CompactionRevisions int64

	// Engine configures the state machine. Its automatic compaction must
	// stay off: compaction is replicated through the log (see
	// CompactionRetention and CompactionRevisions).
	Engine mvcc.Options
	// WAL configures the write-ahead log (segment size, fault hooks).
	// Its FS is the file system of the whole data directory: the
	// snapshots are written through it too, so a test that gives a
	// [github.com/governor-io/governor/raft/wal/waltest.MemFS] crashes
	// the WAL and the snapshots together.
	WAL wal.Options

	// Logger receives the member's logs. Nil discards them.
	Logger *slog.Logger
	// Metrics, when set, receives the member's metrics; package
	// prommetrics reports them with etcd's names: etcd_server_* here,
	// etcd_disk_wal_fsync_duration_seconds from the WAL, etcd_mvcc_* from
	// the engine (unless Engine.Metrics or WAL.Metrics say otherwise) and
	// etcd_network_peer_* from the TCP transport the member creates when
	// Transport is nil. Nil means no metrics.
	Metrics MetricsProvider

	hooks *testHooks // set by tests only
}

// testHooks let tests follow the member's background work.
type testHooks struct {
	// compactChecked is called after each compaction check (each tick),
	// on every member.
	compactChecked func(now time.Time)
	// compactProposed is called when this member proposes an automatic
	// compaction.
	compactProposed func(rev int64)
	// compactApplied is called when this member applies a compaction.
	compactApplied func(rev int64)
}

func (c Config) withDefaults() Config {
	c.Clock = clock.OrReal(c.Clock)
	if c.TickInterval <= 0 {
		c.TickInterval = DefaultTickInterval
	}
	if c.ElectionTicks <= 0 {
		c.ElectionTicks = DefaultElectionTicks
	}
	if c.HeartbeatTicks <= 0 {
		c.HeartbeatTicks = DefaultHeartbeatTicks
	}
	if c.SnapshotEntries == 0 {
		c.SnapshotEntries = DefaultSnapshotEntries
	}
	if c.SnapshotCatchUpEntries == 0 {
		c.SnapshotCatchUpEntries = DefaultSnapshotCatchUpEntries
	}
	if c.LogRetainBytes == 0 {
		c.LogRetainBytes = DefaultLogRetainBytes
	}
	if c.CompactionRetention == 0 {
		c.CompactionRetention = DefaultCompactionRetention
	}
	if c.CompactionRevisions == 0 {
		c.CompactionRevisions = DefaultCompactionRevisions
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.MaxBatchBytes <= 0 {
		c.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if c.MaxInflightMsgs <= 0 {
		c.MaxInflightMsgs = DefaultMaxInflightMsgs
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Engine.WatchBufferSize == 0 {
		// Entries apply in bursts (a batch of transactions at a time), so
		// watchers need more room than on an engine written directly.
		c.Engine.WatchBufferSize = DefaultWatchBufferSize
	}
	if c.Engine.Clock == nil {
		c.Engine.Clock = c.Clock
	}
	if c.Engine.Metrics == nil && c.Metrics != nil {
		// The engine's etcd_mvcc_* metrics go with the member's.
		c.Engine.Metrics = c.Metrics.EngineMetrics()
	}
	return c
}

func (c Config) validate() error {
	if c.ID == 0 {
		return fmt.Errorf("%w: ID must be non-zero", ErrInvalidConfig)
	}
	if c.Dir == "" {
		return fmt.Errorf("%w: Dir is required", ErrInvalidConfig)
	}
	if c.ElectionTicks <= c.HeartbeatTicks {
		return fmt.Errorf("%w: ElectionTicks (%d) must exceed HeartbeatTicks (%d)", ErrInvalidConfig, c.ElectionTicks, c.HeartbeatTicks)
	}
	if c.Join && len(c.InitialCluster) > 0 {
		return fmt.Errorf("%w: Join and InitialCluster are exclusive", ErrInvalidConfig)
	}
	if c.Engine.AutoCompactRevisions != 0 || c.Engine.AutoCompactAge != 0 {
		return fmt.Errorf("%w: the engine's automatic compaction must be off (compaction is replicated)", ErrInvalidConfig)
	}
	seen := map[uint64]bool{}
	self := false
	for _, m := range c.InitialCluster {
		if m.ID == 0 {
			return fmt.Errorf("%w: member ID must be non-zero", ErrInvalidConfig)
		}
		if seen[m.ID] {
			return fmt.Errorf("%w: member %x listed twice", ErrInvalidConfig, m.ID)
		}
		seen[m.ID] = true
		if m.ID == c.ID {
			self = true
		}
	}
	if len(c.InitialCluster) > 0 && !self {
		return fmt.Errorf("%w: InitialCluster does not list member %x", ErrInvalidConfig, c.ID)
	}
	return nil
}
