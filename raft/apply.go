package raft

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/governor-io/governor/raft/wal"
)

// confContext travels in a membership change: the member it concerns and,
// for the member that proposed it, the request waiting for it.
type confContext struct {
	Member Member `json:"member"`
	Origin uint64 `json:"origin,omitempty"`
	ReqID  uint64 `json:"req,omitempty"`
}

// decodeConfChange returns the membership change an entry carries and
// its context. An empty context (Raft's own change that leaves a joint
// configuration has none) gives a zero confContext.
func decodeConfChange(e *raftpb.Entry) (*raftpb.ConfChangeV2, confContext, error) {
	var cc *raftpb.ConfChangeV2
	switch e.GetType() {
	case raftpb.EntryConfChange:
		var v1 raftpb.ConfChange
		if err := proto.Unmarshal(e.GetData(), &v1); err != nil {
			return nil, confContext{}, fmt.Errorf("%w: membership change: %v", ErrCorruptEntry, err)
		}
		cc = v1.AsV2()
	case raftpb.EntryConfChangeV2:
		cc = &raftpb.ConfChangeV2{}
		if err := proto.Unmarshal(e.GetData(), cc); err != nil {
			return nil, confContext{}, fmt.Errorf("%w: membership change: %v", ErrCorruptEntry, err)
		}
	default:
		return nil, confContext{}, fmt.Errorf("%w: entry of type %v is no membership change", ErrCorruptEntry, e.GetType())
	}
	var c confContext
	if ctx := cc.GetContext(); len(ctx) > 0 {
		if err := json.Unmarshal(ctx, &c); err != nil {
			return nil, confContext{}, fmt.Errorf("%w: membership change context: %v", ErrCorruptEntry, err)
		}
	}
	return cc, c, nil
}

// applyEntries applies committed entries to the engine, in order, and
// answers the requests of this member that they complete.
func (n *Node) applyEntries(ents []*raftpb.Entry) error {
	if len(ents) == 0 {
		return nil
	}
	bg := context.Background()
	for _, e := range ents {
		idx := e.GetIndex()
		if idx <= n.applied.Load() {
			continue
		}
		switch e.GetType() {
		case raftpb.EntryNormal:
			if len(e.GetData()) == 0 {
				// A new leader's first entry: every entry of earlier terms
				// that survives precedes it and is applied by now.
				n.failStale(e.GetTerm())
			}
			if isConfRefusal(e.GetData()) {
				if err := n.applyConfRefusal(e.GetData()); err != nil {
					return fmt.Errorf("raft: apply entry %d: %w", idx, err)
				}
				break
			}
			origin, reqs, err := decodeEntry(e.GetData())
			if err != nil {
				return fmt.Errorf("raft: apply entry %d: %w", idx, err)
			}
			for i := range reqs {
				r := &reqs[i]
				var res result
				if r.txn != nil {
					res.txn, res.err = n.engine.Txn(bg, *r.txn)
				} else {
					res.err = n.engine.Compact(bg, r.compact)
					if h := n.cfg.hooks; res.err == nil && h != nil && h.compactApplied != nil {
						h.compactApplied(r.compact)
					}
				}
				// Count it before answering, so that a caller who got its
				// answer sees the metric include its request.
				n.metrics.proposalsCommitted.Inc()
				n.metrics.proposalsApplied.Inc()
				if origin == n.id {
					n.complete(r.id, res)
				}
			}
			n.reqsSinceSnap += uint64(len(reqs))
			if n.catchUpIndex == 0 && n.cfg.SnapshotEntries > n.cfg.SnapshotCatchUpEntries &&
				n.reqsSinceSnap >= n.cfg.SnapshotEntries-n.cfg.SnapshotCatchUpEntries {
				n.catchUpIndex = idx
			}
		case raftpb.EntryConfChange, raftpb.EntryConfChangeV2:
			if err := n.applyConfChange(e); err != nil {
				return fmt.Errorf("raft: apply entry %d: %w", idx, err)
			}
		}
		n.tail.add(idx, len(e.GetData()), n.cfg.LogRetainBytes)
		n.applied.Store(idx)
	}
	return nil
}

// failStale fails, with ErrLeaderChanged, the writes and membership
// changes this member sent to Raft in a term before term that are still
// unanswered once the first entry of term is applied: the log holds no
// entry of theirs before it, so they were lost with the old leader (unless
// a delayed copy of a forwarded proposal still reaches the new one, hence
// "outcome unknown").
func (n *Node) failStale(term uint64) {
	var stale []*proposal
	n.mu.Lock()
	for id, p := range n.waiting {
		if p.term != 0 && p.term < term {
			delete(n.waiting, id)
			stale = append(stale, p)
		}
	}
	n.mu.Unlock()
	for _, p := range stale {
		n.metrics.proposalsPending.Dec()
		n.metrics.proposalsFailed.Inc()
		p.finish(result{err: ErrLeaderChanged})
	}
}

// complete hands a result to the waiting request, if it still waits.
func (n *Node) complete(id uint64, res result) {
	n.mu.Lock()
	p, ok := n.waiting[id]
	if ok {
		delete(n.waiting, id)
	}
	n.mu.Unlock()
	if ok {
		n.metrics.proposalsPending.Dec()
		if res.err != nil {
			n.metrics.proposalsFailed.Inc()
		}
		p.finish(res)
	}
}

// applyConfChange applies a committed membership change. One that does not
// decode stops the member, as an undecodable data entry does: applying
// anything else in its place would make this member's configuration differ
// from the cluster's.
func (n *Node) applyConfChange(e *raftpb.Entry) error {
	cc, c, err := decodeConfChange(e)
	if err != nil {
		return err
	}
	n.confState = n.rn.ApplyConfChange(cc)
	n.storage.confIndex.Store(e.GetIndex())
	n.mu.Lock()
	for _, ch := range cc.GetChanges() {
		id := ch.GetNodeId()
		switch ch.GetType() {
		case raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode:
			m, known := n.members[id]
			if c.Member.ID == id {
				m = c.Member
			}
			m.ID = id
			m.Learner = ch.GetType() == raftpb.ConfChangeAddLearnerNode
			n.members[id] = m
			if id != n.id && (!known || c.Member.ID == id) {
				n.tr.AddPeer(id, m.PeerAddr)
			}
		case raftpb.ConfChangeRemoveNode:
			delete(n.members, id)
			n.removed[id] = true
			if id != n.id {
				n.tr.RemovePeer(id)
			}
		}
	}
	n.mu.Unlock()
	if c.Origin == n.id && c.ReqID != 0 {
		n.complete(c.ReqID, result{})
	}
	return nil
}

// applySnapshot replaces the engine's state with a snapshot received from
// the leader (already stored by the transport).
func (n *Node) applySnapshot(snap *raftpb.Snapshot) error {
	md := snap.GetMetadata()
	n.reqsSinceSnap, n.catchUpIndex = 0, 0
	n.tail.reset(md.GetIndex())
	if err := n.restoreSnapshot(md.GetIndex()); err != nil {
		return err
	}
	n.confState = proto.Clone(md.GetConfState()).(*raftpb.ConfState)
	n.setSnapIndex(md.GetIndex())
	n.snapsIn.Add(1)
	n.applied.Store(md.GetIndex())
	n.mu.Lock()
	for id, m := range n.members {
		if id != n.id {
			n.tr.AddPeer(id, m.PeerAddr)
		}
	}
	n.mu.Unlock()
	n.snaps.purge()
	return nil
}

// restoreSnapshot loads the snapshot at index into the engine and the
// member table.
func (n *Node) restoreSnapshot(index uint64) error {
	rc, err := n.snaps.open(index)
	if err != nil {
		return fmt.Errorf("raft: open snapshot %d: %w", index, err)
	}
	defer rc.Close()
	members, err := readSnapshot(rc, n.engine)
	if err != nil {
		return fmt.Errorf("raft: restore snapshot %d: %w", index, err)
	}
	n.mu.Lock()
	n.members = map[uint64]Member{}
	for _, m := range members {
		n.members[m.ID] = m
	}
	n.mu.Unlock()
	return nil
}

// maybeSnapshot starts a snapshot every SnapshotEntries applied entries or
// requests, whichever comes first (an entry carries a batch of requests).
func (n *Node) maybeSnapshot() error {
	applied := n.applied.Load()
	if applied-n.snapIndex < n.cfg.SnapshotEntries && n.reqsSinceSnap < n.cfg.SnapshotEntries {
		return nil
	}
	return n.startSnapshot(applied)
}

// snapJob is a snapshot being written off the loop.
type snapJob struct {
	md *raftpb.SnapshotMetadata
	// catchUp is the member's catchUpIndex when the snapshot was started.
	catchUp uint64
	err     error
}

// startSnapshot starts writing a snapshot of the state at applied, unless
// one is being written already. The loop takes a point-in-time view of the
// engine (one pass over its keys) and the member table; another goroutine
// writes them out, so that a large state never stops the loop's ticks and
// heartbeats; finishSnapshot does the bookkeeping when it is durable.
func (n *Node) startSnapshot(applied uint64) error {
	if n.snapping != nil {
		return nil
	}
	term, err := n.storage.Term(applied)
	if err != nil {
		return fmt.Errorf("raft: snapshot at %d: %w", applied, err)
	}
	view, err := n.engine.View()
	if err != nil {
		return fmt.Errorf("raft: snapshot at %d: %w", applied, err)
	}
	job := &snapJob{
		md:      &raftpb.SnapshotMetadata{Index: new(applied), Term: new(term), ConfState: proto.Clone(n.confState).(*raftpb.ConfState)},
		catchUp: n.catchUpIndex,
	}
	members := n.Members()
	n.snapping = job
	// The requests counted so far are in this snapshot.
	n.reqsSinceSnap, n.catchUpIndex = 0, 0
	n.snapWG.Add(1)
	go func() {
		defer n.snapWG.Done()
		job.err = n.snaps.save(job.md, func(w io.Writer) error {
			return writeSnapshot(stopWriter{w: w, stop: n.stopc}, members, view)
		})
		n.snapDone <- job // at most one in flight; never blocks
	}()
	return nil
}

// finishSnapshot runs on the loop once the snapshot job started is on disk
// (or failed): it records the snapshot in the WAL and the in-memory log,
// compacts the log and releases the WAL segments before it.
func (n *Node) finishSnapshot(job *snapJob) error {
	n.snapping = nil
	md := job.md
	applied := md.GetIndex()
	if job.err != nil {
		return fmt.Errorf("raft: save snapshot %d: %w", applied, job.err)
	}
	if applied <= n.snapIndex {
		// A newer snapshot came from the leader meanwhile.
		n.snaps.purge()
		return nil
	}
	if err := n.wal.SaveSnapshot(markerOf(md)); err != nil {
		return fmt.Errorf("raft: save snapshot marker %d: %w", applied, err)
	}
	// The log still holds applied: trimLog keeps it while the job runs.
	if _, err := n.storage.CreateSnapshot(applied, md.GetConfState(), nil); err != nil {
		return fmt.Errorf("raft: snapshot at %d: %w", applied, err)
	}
	n.setSnapIndex(applied)
	catchUp := job.catchUp
	if applied > n.cfg.SnapshotCatchUpEntries || catchUp > 0 {
		// Keep SnapshotCatchUpEntries entries, or fewer if they hold more
		// requests than that.
		compactTo := catchUp
		if applied > n.cfg.SnapshotCatchUpEntries {
			compactTo = max(compactTo, applied-n.cfg.SnapshotCatchUpEntries)
		}
		compactTo = min(compactTo, applied)
		if first, _ := n.storage.FirstIndex(); compactTo > first {
			if err := n.storage.Compact(compactTo); err != nil {
				n.log.Warn("raft: compact log", "index", compactTo, "err", err)
			}
			n.tail.dropThrough(compactTo)
		}
	}
	// The WAL keeps what the in-memory log still holds after a restart:
	// entries from the snapshot on.
	if err := n.wal.ReleaseTo(applied); err != nil {
		n.log.Warn("raft: release WAL segments", "index", applied, "err", err)
	}
	n.snaps.purge()
	n.log.Debug("raft: snapshot", "index", applied, "term", md.GetTerm())
	return nil
}

// setSnapIndex records the member's latest snapshot, taken or received.
func (n *Node) setSnapIndex(index uint64) {
	n.snapIndex = index
	n.snapIdx.Store(index)
	n.mu.Lock()
	close(n.snapc)
	n.snapc = make(chan struct{})
	n.mu.Unlock()
}

// stopWriter fails once the member is closing, so that a snapshot being
// written does not hold up Close.
type stopWriter struct {
	w    io.Writer
	stop <-chan struct{}
}

func (s stopWriter) Write(p []byte) (int, error) {
	select {
	case <-s.stop:
		return 0, ErrStopped
	default:
	}
	return s.w.Write(p)
}

func markerOf(md *raftpb.SnapshotMetadata) wal.SnapshotMarker {
	return wal.SnapshotMarker{Index: md.GetIndex(), Term: md.GetTerm(), ConfState: md.GetConfState()}
}

func sortMembers(ms []Member) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
}
