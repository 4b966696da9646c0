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
	n.snapIndex = md.GetIndex()
	n.snapIdx.Store(md.GetIndex())
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

// maybeSnapshot snapshots the engine every SnapshotEntries applied
// entries or requests, whichever comes first (an entry carries a batch of
// requests), then compacts the in-memory log and releases WAL segments.
func (n *Node) maybeSnapshot() error {
	applied := n.applied.Load()
	if applied-n.snapIndex < n.cfg.SnapshotEntries && n.reqsSinceSnap < n.cfg.SnapshotEntries {
		return nil
	}
	return n.snapshotNow(applied)
}

func (n *Node) snapshotNow(applied uint64) error {
	term, err := n.storage.Term(applied)
	if err != nil {
		return fmt.Errorf("raft: snapshot at %d: %w", applied, err)
	}
	md := &raftpb.SnapshotMetadata{Index: new(applied), Term: new(term), ConfState: proto.Clone(n.confState).(*raftpb.ConfState)}
	members := n.Members()
	if err := n.snaps.save(md, func(w io.Writer) error { return writeSnapshot(w, members, n.engine) }); err != nil {
		return fmt.Errorf("raft: save snapshot %d: %w", applied, err)
	}
	if err := n.wal.SaveSnapshot(markerOf(md)); err != nil {
		return fmt.Errorf("raft: save snapshot marker %d: %w", applied, err)
	}
	if _, err := n.storage.CreateSnapshot(applied, md.ConfState, nil); err != nil {
		return fmt.Errorf("raft: snapshot at %d: %w", applied, err)
	}
	n.snapIndex = applied
	n.snapIdx.Store(applied)
	catchUp := n.catchUpIndex
	n.reqsSinceSnap, n.catchUpIndex = 0, 0
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
	n.log.Debug("raft: snapshot", "index", applied, "term", term)
	return nil
}

func markerOf(md *raftpb.SnapshotMetadata) wal.SnapshotMarker {
	return wal.SnapshotMarker{Index: md.GetIndex(), Term: md.GetTerm(), ConfState: md.GetConfState()}
}

func sortMembers(ms []Member) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
}
