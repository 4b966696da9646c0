package raft

import (
	"sync/atomic"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"
)

// logStorage is the member's in-memory Raft log: a [raft.MemoryStorage]
// that the loop trims right after it applies entries, rather than only at
// each snapshot. Every entry stays in the WAL until the next snapshot, so
// trimming the memory loses nothing a restart needs; it only means that a
// follower lagging behind the trimmed part is sent a snapshot.
//
// The log keeps:
//   - the entries not yet applied here;
//   - on the leader, the entries some follower still lacks (its match
//     index), so that a follower that is merely slow never needs a
//     snapshot;
//   - the last LogRetainBytes of applied entries, so that the followers of
//     a newly elected leader catch up from its log.
//
// Trimming past the latest snapshot is allowed: when Raft then asks for a
// snapshot to send, Snapshot answers [raft.ErrSnapshotTemporarilyUnavailable]
// (Raft tries again on the next heartbeat) and flags that the loop must
// take a fresh one.
//
// A snapshot taken before the latest membership change is not sent
// either: its member list may lack the follower it is for, which would
// then refuse it forever (a member added after the snapshot). Snapshot
// then answers the same way, so that a snapshot taken after the change
// replaces it.
type logStorage struct {
	*raft.MemoryStorage
	snapWanted atomic.Bool
	confIndex  atomic.Uint64 // index of the latest membership change applied
}

func newLogStorage() *logStorage { return &logStorage{MemoryStorage: raft.NewMemoryStorage()} }

// Snapshot returns the latest snapshot if a follower can continue from it
// with the entries still in the log, and it holds the latest membership.
func (s *logStorage) Snapshot() (*raftpb.Snapshot, error) {
	snap, err := s.MemoryStorage.Snapshot()
	if err != nil {
		return snap, err
	}
	first, err := s.FirstIndex()
	if err != nil {
		return nil, err
	}
	if idx := snap.GetMetadata().GetIndex(); idx+1 < first || idx < s.confIndex.Load() {
		s.snapWanted.Store(true)
		return nil, raft.ErrSnapshotTemporarilyUnavailable
	}
	return snap, nil
}

// entries returns the number of entries in the log.
func (s *logStorage) entries() uint64 {
	first, err1 := s.FirstIndex()
	last, err2 := s.LastIndex()
	if err1 != nil || err2 != nil || last < first {
		return 0
	}
	return last - first + 1
}

// appliedEntry is an applied entry in the retained tail of the log.
type appliedEntry struct {
	index uint64
	bytes int
}

// logTail tracks the applied entries the log retains (owned by the loop).
type logTail struct {
	ents  []appliedEntry
	bytes int
	// trimTo is the highest applied index that fell out of the retained
	// tail: the log may be compacted up to it.
	trimTo uint64
	// dropped counts the bytes that fell out of the tail since the log
	// was last compacted.
	dropped int
}

func (t *logTail) add(index uint64, bytes int, retain int) {
	t.ents = append(t.ents, appliedEntry{index, bytes})
	t.bytes += bytes
	k := 0
	for k < len(t.ents)-1 && t.bytes > retain {
		t.bytes -= t.ents[k].bytes
		t.dropped += t.ents[k].bytes
		t.trimTo = t.ents[k].index
		k++
	}
	if k > 0 {
		t.ents = t.ents[k:]
	}
}

// dropThrough forgets the entries up to index, compacted by a snapshot.
func (t *logTail) dropThrough(index uint64) {
	k := 0
	for k < len(t.ents) && t.ents[k].index <= index {
		t.bytes -= t.ents[k].bytes
		k++
	}
	t.ents = t.ents[k:]
	t.trimTo = max(t.trimTo, index)
}

// reset forgets every entry: the log restarts from a snapshot at index.
func (t *logTail) reset(index uint64) {
	t.ents, t.bytes, t.trimTo, t.dropped = nil, 0, index, 0
}

// A compaction copies the log's remaining entry pointers, so the loop
// compacts once at least minTrimStep entries, or a quarter of
// LogRetainBytes, can go.
const minTrimStep = 64

// trimLog compacts the in-memory log as far as the rules of [logStorage]
// allow, and takes a snapshot when Raft needs a newer one to send.
func (n *Node) trimLog() error {
	if n.storage.snapWanted.Swap(false) {
		if applied := n.applied.Load(); applied > n.snapIndex {
			// A snapshot being written already is newer than the one
			// Raft refused, or Raft asks again.
			if err := n.startSnapshot(applied); err != nil {
				return err
			}
		}
	}
	to := n.tail.trimTo
	if n.snapping != nil {
		// The snapshot being written goes into the log when it is done,
		// which needs its index still there.
		to = min(to, n.snapping.md.GetIndex())
	}
	if n.isLead.Load() {
		n.rn.WithProgress(func(id uint64, _ raft.ProgressType, pr tracker.Progress) {
			if id != n.id {
				to = min(to, pr.Match)
			}
		})
	}
	first, err := n.storage.FirstIndex()
	if err != nil || to < first {
		return nil
	}
	if to-first+1 < minTrimStep && n.tail.dropped < n.cfg.LogRetainBytes/4 {
		return nil
	}
	if err := n.storage.Compact(to); err != nil {
		n.log.Warn("raft: trim log", "index", to, "err", err)
	}
	n.tail.dropped = 0
	return nil
}
