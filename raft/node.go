package raft

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/governor-io/governor/raft/wal"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
)

// Node is one member of a Raft-replicated KV. It implements [kv.KV]: writes
// go through the replicated log, reads are linearizable (through ReadIndex)
// unless asked otherwise, and watches are served from the local engine.
// Create it with [Open]; it is safe for concurrent use.
type Node struct {
	cfg     Config
	id      uint64
	log     *slog.Logger
	engine  *mvcc.Engine
	wal     *wal.WAL
	snaps   *snapshots
	storage *logStorage
	rn      *raft.RawNode // owned by the run goroutine
	tr      Transport
	metrics *metrics

	recvc chan *raftpb.Message
	wakec chan struct{} // cap 1: work was queued
	stopc chan struct{} // closed by Close
	donec chan struct{} // closed when run returns

	// reqBase and reqSeq make request IDs: unique within this process,
	// and (reqBase being random) across restarts of this member.
	reqBase uint64
	reqSeq  atomic.Uint64

	mu       sync.Mutex
	props    []*proposal          // queued for the next Ready cycle
	waiting  map[uint64]*proposal // proposed (or queued), by request ID
	nextRead *readReq             // readers gathered for the next ReadIndex
	ctrl     []func()             // control operations run by the loop
	members  map[uint64]Member
	removed  map[uint64]bool
	stopErr  error // why the member stopped; nil while running
	closed   bool

	leaderc chan struct{} // closed and replaced when the leader changes
	snapc   chan struct{} // closed and replaced when a snapshot is taken

	leader  atomic.Uint64
	term    atomic.Uint64
	snapIdx atomic.Uint64
	snapsIn atomic.Uint64
	applied atomic.Uint64
	isLead  atomic.Bool

	// Loop-only state.
	confState *raftpb.ConfState
	snapIndex uint64
	// reqsSinceSnap counts the requests applied since the last snapshot;
	// catchUpIndex is the entry at which the count reached
	// SnapshotEntries-SnapshotCatchUpEntries (zero before). Entries carry
	// batches of requests, so these, not entry counts, bound the log's
	// size (owned by the loop).
	reqsSinceSnap uint64
	catchUpIndex  uint64
	tail          logTail // applied entries the in-memory log retains
	readSeq       uint64
	readsInflight map[uint64]*readReq // by ReadIndex context
	readsPending  []*readReq          // have an index, wait for apply
	tick          uint64
	hardTerm      uint64 // term and vote last persisted
	hardVote      uint64
	lastLead      uint64
	compactor     compactor
	// snapping is the snapshot being written off the loop, nil if none;
	// the writer hands it back on snapDone (cap 1).
	snapping *snapJob
	snapDone chan *snapJob
	snapWG   sync.WaitGroup
	// confProposed is set when this member hands a membership change to
	// Raft, and cleared once the loop has handled every Ready: until then
	// the change may be in Raft's log but not yet in storage (see
	// membership.go).
	confProposed bool

	// heldHeartbeats holds, per follower the leader probes, the latest
	// heartbeat response not stepped yet; probeTick is the tick at which
	// one last reached Raft (see holdHeartbeatResp; loop-only).
	heldHeartbeats map[uint64]*raftpb.Message
	probeTick      map[uint64]uint64
}

// proposal is a request waiting for its entry to be applied.
type proposal struct {
	req      request
	conf     *raftpb.ConfChangeV2 // a membership change instead of req
	done     chan result          // cap 1
	canceled atomic.Bool
	// term is the member's term when the proposal went to Raft, zero
	// before (owned by the loop).
	term uint64
}

type result struct {
	txn *kv.TxnResponse
	err error
}

// readReq is a batch of linearizable readers sharing one ReadIndex.
type readReq struct {
	done   chan struct{} // closed when err is set or index is applied
	err    error
	index  uint64
	issued uint64 // tick of the last ReadIndex request
}

// walMetadata is stored in the WAL so that a data directory is never
// opened as another member.
type walMetadata struct {
	ID uint64 `json:"id"`
}

// Open starts a member: it restarts from cfg.Dir when that holds state,
// and otherwise bootstraps a new cluster from cfg.InitialCluster or (with
// cfg.Join) waits to be contacted by the cluster that added it. ctx bounds
// the recovery; the member runs until [Node.Close].
func Open(ctx context.Context, cfg Config) (*Node, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	fsys := cfg.WAL.FS
	if fsys == nil {
		fsys = wal.OSFS{}
	}
	if err := fsys.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("raft: create data dir: %w", err)
	}
	n := &Node{
		cfg:           cfg,
		id:            cfg.ID,
		log:           cfg.Logger.With("member", fmt.Sprintf("%x", cfg.ID)),
		storage:       newLogStorage(),
		recvc:         make(chan *raftpb.Message, 4096),
		wakec:         make(chan struct{}, 1),
		stopc:         make(chan struct{}),
		donec:         make(chan struct{}),
		reqBase:       rand.Uint64(),
		waiting:       map[uint64]*proposal{},
		members:       map[uint64]Member{},
		removed:       map[uint64]bool{},
		readsInflight: map[uint64]*readReq{},
		confState:     &raftpb.ConfState{},
		leaderc:       make(chan struct{}),
		snapDone:      make(chan *snapJob, 1),
		snapc:         make(chan struct{}),
		compactor:     newCompactor(cfg),
	}
	var err error
	n.metrics = newMetrics(cfg.Metrics)
	walOpts := cfg.WAL
	if walOpts.Logger == nil {
		walOpts.Logger = n.log
	}
	if walOpts.Metrics == nil && cfg.Metrics != nil {
		walOpts.Metrics = cfg.Metrics.WALMetrics()
	}
	if n.snaps, err = openSnapshots(filepath.Join(cfg.Dir, "snap"), walOpts.FS, n.log); err != nil {
		return nil, err
	}
	if n.engine, err = mvcc.Open(cfg.Engine); err != nil {
		return nil, fmt.Errorf("raft: engine: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			if n.wal != nil {
				n.wal.Close()
			}
			n.engine.Close()
		}
	}()
	if err := n.recover(ctx, walOpts); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n.tr = cfg.Transport
	if n.tr == nil {
		listen := cfg.ListenAddr
		if listen == "" {
			listen = n.members[n.id].PeerAddr
		}
		n.tr, err = NewTCPTransport(TCPConfig{ID: n.id, ListenAddr: listen, TLS: cfg.PeerTLS, Logger: n.log, Metrics: cfg.Metrics})
		if err != nil {
			return nil, err
		}
	}
	for id, m := range n.members {
		if id != n.id {
			n.tr.AddPeer(id, m.PeerAddr)
		}
	}
	if err := n.tr.Start(handler{n}); err != nil {
		if cfg.Transport == nil {
			n.tr.Close()
		}
		return nil, fmt.Errorf("raft: start transport: %w", err)
	}
	ok = true
	go n.run()
	return n, nil
}

// recover loads the WAL and the snapshot it names, or creates both.
func (n *Node) recover(ctx context.Context, walOpts wal.Options) error {
	walDir := filepath.Join(n.cfg.Dir, "wal")
	rc := &raft.Config{
		ID:                        n.id,
		ElectionTick:              n.cfg.ElectionTicks,
		HeartbeatTick:             n.cfg.HeartbeatTicks,
		Storage:                   n.storage,
		MaxSizePerMsg:             uint64(n.cfg.MaxBatchBytes),
		MaxInflightMsgs:           n.cfg.MaxInflightMsgs,
		MaxUncommittedEntriesSize: 1 << 30,
		CheckQuorum:               true,
		PreVote:                   true,
		ReadOnlyOption:            raft.ReadOnlySafe,
		StepDownOnRemoval:         true,
		Logger:                    raftLogger{n.log},
	}
	bootstrap := false
	if wal.ExistsIn(walOpts.FS, walDir) {
		w, err := wal.Open(walDir, walOpts)
		if err != nil {
			return fmt.Errorf("raft: open WAL: %w", err)
		}
		n.wal = w
		meta, hs, marker, ents, err := w.ReadAll()
		if err != nil {
			return fmt.Errorf("raft: read WAL: %w", err)
		}
		var md walMetadata
		if err := json.Unmarshal(meta, &md); err != nil || md.ID != n.id {
			return fmt.Errorf("%w: data dir %s belongs to member %x, not %x", ErrClusterMismatch, n.cfg.Dir, md.ID, n.id)
		}
		if marker != nil {
			if err := n.restoreSnapshot(marker.Index); err != nil {
				return err
			}
			snap := &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{
				Index: new(marker.Index), Term: new(marker.Term), ConfState: raftpb.EnsureConfState(proto.Clone(marker.ConfState).(*raftpb.ConfState)),
			}}
			if marker.ConfState == nil {
				snap.Metadata.ConfState = &raftpb.ConfState{}
			}
			if err := n.storage.ApplySnapshot(snap); err != nil {
				return fmt.Errorf("raft: load snapshot %d: %w", marker.Index, err)
			}
			n.confState = snap.Metadata.ConfState
			n.snapIndex = marker.Index
			n.snapIdx.Store(marker.Index)
			n.applied.Store(marker.Index)
			rc.Applied = marker.Index
		}
		// Commit-only HardState changes are not synced, so the saved commit
		// index may trail the snapshot, which covers committed entries only.
		if marker != nil && hs.GetCommit() < marker.Index {
			hs = proto.Clone(hs).(*raftpb.HardState)
			hs.Commit = new(marker.Index)
		}
		if err := n.storage.SetHardState(hs); err != nil {
			return err
		}
		n.hardTerm, n.hardVote = hs.GetTerm(), hs.GetVote()
		if err := n.storage.Append(ents); err != nil {
			return err
		}
		// Learn peer addresses from the log now, so that messages can flow
		// before the entries are applied again.
		for _, e := range ents {
			n.learnPeer(e)
		}
		bootstrap = marker == nil && len(ents) == 0 && raft.IsEmptyHardState(hs) && len(n.cfg.InitialCluster) > 0
	} else {
		md, _ := json.Marshal(walMetadata{ID: n.id})
		w, err := wal.Create(walDir, md, walOpts)
		if err != nil {
			return fmt.Errorf("raft: create WAL: %w", err)
		}
		n.wal = w
		bootstrap = len(n.cfg.InitialCluster) > 0
		if !bootstrap && !n.cfg.Join {
			return fmt.Errorf("%w: %s holds no state and neither InitialCluster nor Join is set", ErrInvalidConfig, n.cfg.Dir)
		}
	}
	rn, err := raft.NewRawNode(rc)
	if err != nil {
		return fmt.Errorf("raft: %w", err)
	}
	n.rn = rn
	if bootstrap {
		peers := make([]raft.Peer, len(n.cfg.InitialCluster))
		for i, m := range n.cfg.InitialCluster {
			m.Learner = false
			ctx, _ := json.Marshal(confContext{Member: m})
			peers[i] = raft.Peer{ID: m.ID, Context: ctx}
			n.members[m.ID] = m
		}
		if err := rn.Bootstrap(peers); err != nil {
			return fmt.Errorf("raft: bootstrap: %w", err)
		}
	}
	return ctx.Err()
}

// learnPeer records the address in a membership entry, before it applies.
func (n *Node) learnPeer(e *raftpb.Entry) {
	// An entry that does not decode stops the member when it applies.
	_, c, err := decodeConfChange(e)
	if err != nil || c.Member.ID == 0 {
		return
	}
	if _, known := n.members[c.Member.ID]; !known {
		n.members[c.Member.ID] = c.Member
	}
}

// ID returns the member's ID.
func (n *Node) ID() uint64 { return n.id }

// PeerAddr returns the address the peer transport listens on.
func (n *Node) PeerAddr() string { return n.tr.Addr() }

// Leader returns the ID of the member this member believes leads the
// cluster, or zero when it knows of none.
func (n *Node) Leader() uint64 { return n.leader.Load() }

// IsLeader reports whether this member is the leader.
func (n *Node) IsLeader() bool { return n.isLead.Load() }

// Term returns the current Raft term.
func (n *Node) Term() uint64 { return n.term.Load() }

// AppliedIndex returns the index of the last log entry applied to the
// engine.
func (n *Node) AppliedIndex() uint64 { return n.applied.Load() }

// Engine returns the member's state machine. Reading it directly gives
// serializable (possibly stale) reads; writing it directly would break the
// replica, so don't.
func (n *Node) Engine() *mvcc.Engine { return n.engine }

// WaitLeader waits until the member knows of a leader and returns its ID.
func (n *Node) WaitLeader(ctx context.Context) (uint64, error) {
	for {
		n.mu.Lock()
		ch := n.leaderc
		err := n.stoppedErrLocked()
		n.mu.Unlock()
		if err != nil {
			return 0, err
		}
		if lead := n.leader.Load(); lead != 0 {
			return lead, nil
		}
		select {
		case <-ch:
		case <-n.donec:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// LeaderChanged returns a channel that is closed the next time this member
// sees the leader (or its own role) change.
func (n *Node) LeaderChanged() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.leaderc
}

// Campaign makes this member stand for election now rather than wait for
// its election timeout.
func (n *Node) Campaign(ctx context.Context) error {
	return n.control(func() { _ = n.rn.Campaign() })
}

// TransferLeadership asks the leader to hand leadership to member to, and
// waits until some member other than this one leads or ctx is done. It
// must be called on the leader.
func (n *Node) TransferLeadership(ctx context.Context, to uint64) error {
	if !n.IsLeader() {
		return n.notLeader(n.leader.Load())
	}
	if err := n.control(func() { n.rn.TransferLeader(to) }); err != nil {
		return err
	}
	for {
		n.mu.Lock()
		ch := n.leaderc
		n.mu.Unlock()
		if lead := n.leader.Load(); lead == to {
			return nil
		}
		select {
		case <-ch:
		case <-n.donec:
			return n.Err()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Status is a member's view of itself.
type Status struct {
	// ID, Leader and Term: this member, the leader it knows (zero if
	// none) and the current term.
	ID, Leader, Term uint64
	// AppliedIndex is the last log index applied to the engine;
	// SnapshotIndex the index of the latest snapshot on disk.
	AppliedIndex, SnapshotIndex uint64
	// SnapshotsReceived counts the snapshots installed from a leader.
	SnapshotsReceived uint64
	// LogEntries is the number of entries the in-memory Raft log holds:
	// those not applied yet, those a follower still lacks (on the
	// leader), and the last [Config.LogRetainBytes] of applied ones.
	LogEntries uint64
}

// Status returns the member's current status.
func (n *Node) Status() Status {
	return Status{
		ID: n.id, Leader: n.leader.Load(), Term: n.term.Load(),
		AppliedIndex: n.applied.Load(), SnapshotIndex: n.snapIdx.Load(),
		SnapshotsReceived: n.snapsIn.Load(),
		LogEntries:        n.storage.entries(),
	}
}

// Members returns the cluster's members as this member knows them.
func (n *Node) Members() []Member {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]Member, 0, len(n.members))
	for _, m := range n.members {
		out = append(out, m)
	}
	sortMembers(out)
	return out
}

// Err returns why the member stopped (a fatal storage error, or
// [ErrStopped] after Close), or nil while it runs.
func (n *Node) Err() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stopErr
}

// Done returns a channel that is closed when the member stops, after
// Close or a fatal error.
func (n *Node) Done() <-chan struct{} { return n.donec }

// Close stops the member: it fails the requests in flight with
// [ErrStopped], stops the transport, and closes the WAL and the engine
// (open watches end with [kv.ErrClosed]). A second Close returns
// [kv.ErrClosed].
func (n *Node) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return kv.ErrClosed
	}
	n.closed = true
	n.mu.Unlock()
	close(n.stopc)
	<-n.donec
	var errs []error
	if err := n.tr.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := n.wal.Close(); err != nil {
		errs = append(errs, err)
	}
	n.engine.Close()
	return errors.Join(errs...)
}

func (n *Node) wake() {
	select {
	case n.wakec <- struct{}{}:
	default:
	}
}

// stopped returns the error requests fail with once the member stopped.
func (n *Node) stoppedErrLocked() error {
	if n.stopErr != nil {
		return n.stopErr
	}
	if n.closed {
		return ErrStopped
	}
	return nil
}

// fail stops the member after a fatal error.
func (n *Node) fail(err error) {
	n.mu.Lock()
	if n.stopErr == nil {
		n.stopErr = fmt.Errorf("%w: %w", ErrStopped, err)
	}
	n.mu.Unlock()
	n.log.Error("raft: member stopped", "err", err)
}

func (n *Node) newRequestID() uint64 { return n.reqBase + n.reqSeq.Add(1) }

func readCtx(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }
