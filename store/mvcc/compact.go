package mvcc

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"time"

	"github.com/google/btree"

	"github.com/governor-io/governor/store/kv"
)

// Compaction happens in two steps. The logical step, under the write lock
// and O(1), moves the compaction revision: from then on reads and watches
// below it fail, and reads at or above it are right whatever history the
// index still holds, since a key's entries older than the one current at a
// readable revision are never looked at. The physical step then walks the
// keys in batches of Options.CompactionBatchLimit, each batch under the
// write lock, releasing it between batches so that writers and readers
// interleave; it drops what no readable revision can see. A new
// compaction that arrives during a walk does not restart it: the walk goes
// on from where it is at the new revision, and wraps around to the keys it
// had already passed.

// DefaultCompactionBatchLimit is the number of keys that one batch of a
// compaction visits under the write lock when Options.CompactionBatchLimit
// is zero (etcd's default for its own batches).
const DefaultCompactionBatchLimit = 1000

// compactWalk is the state of the physical step of a compaction. It is
// guarded by Engine.mu.
type compactWalk struct {
	// tree is the index being walked; a Restore that replaces it (with
	// an index that its snapshot's validation guarantees is fully
	// compacted) ends the walk.
	tree *btree.BTreeG[*keyIndex]
	rev  int64  // the revision the walk compacts at: Engine.compactRev
	next string // the first key not yet visited
	// The keys compacted at rev are those from passStart up to next,
	// wrapping around the end of the key space when wrapped is set.
	passStart string
	wrapped   bool
	began     time.Time // for the total-duration metric
}

// Compact implements [kv.KV.Compact]. From the moment it is accepted,
// reads and watches below rev fail with a [kv.CompactedError] and reads at
// or above rev see the same data as before. The history is then removed
// in batches of Options.CompactionBatchLimit keys, releasing the write
// lock between batches, so that a compaction of a large index never holds
// writers up for long. Compact returns when the removal is complete; if
// ctx ends first, it returns nil all the same (the compaction has taken
// effect) and the removal finishes in the background.
//
// Compact is deterministic: engines that apply the same Txn and Compact
// calls, each call returning before the next, hold the same state.
func (e *Engine) Compact(ctx context.Context, rev int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return kv.ErrClosed
	}
	if rev <= e.compactRev {
		cr := e.compactRev
		e.mu.Unlock()
		return &kv.CompactedError{CompactRevision: cr}
	}
	if rev > e.rev {
		cur := e.rev
		e.mu.Unlock()
		return fmt.Errorf("mvcc: compact at revision %d, current is %d: %w", rev, cur, kv.ErrFutureRevision)
	}
	e.compactLogicalLocked(rev)
	e.mu.Unlock()
	e.finishCompaction(ctx)
	return nil
}

// compactLogicalLocked moves the compaction revision to rev and schedules
// the removal of the history it hides. The caller holds mu.Lock and has
// checked rev.
func (e *Engine) compactLogicalLocked(rev int64) {
	e.compactRev = rev
	w := e.walk
	if w == nil || w.tree != e.tree {
		e.walk = &compactWalk{tree: e.tree, rev: rev, began: e.opts.Clock.Now()}
		return
	}
	// The keys visited so far were compacted at an older revision: the
	// pass at rev starts here, and comes back round to them.
	w.rev, w.passStart, w.wrapped = rev, w.next, false
}

// finishCompaction runs the batches of the pending compaction until there
// are none left, the engine closes, or ctx ends; in the last case it hands
// the rest to the background compactor.
func (e *Engine) finishCompaction(ctx context.Context) {
	for {
		if ctx.Err() != nil {
			e.mu.Lock()
			e.startCompactorLocked()
			e.mu.Unlock()
			return
		}
		if !e.compactBatch(false) {
			return
		}
		if f := e.opts.compactionBatched; f != nil {
			f()
		}
		// Let the writers that queued up behind the batch take the lock.
		runtime.Gosched()
	}
}

// startCompactorLocked starts the background goroutine that finishes a
// pending compaction, unless it runs already. The caller holds mu.Lock.
func (e *Engine) startCompactorLocked() {
	if e.compactorRunning || e.closed || e.walk == nil {
		return
	}
	e.compactorRunning = true
	e.bg.Add(1)
	go func() {
		defer e.bg.Done()
		for e.compactBatch(true) {
			if f := e.opts.compactionBatched; f != nil {
				f()
			}
			runtime.Gosched()
		}
	}()
}

// compactBatch visits the next batch of keys of the pending compaction,
// under the write lock. It reports whether more remain. For the
// background compactor (bg), it marks the compactor stopped, under the
// same lock, when nothing remains.
func (e *Engine) compactBatch(bg bool) (more bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	more = e.compactBatchLocked(e.opts.CompactionBatchLimit)
	if bg && !more {
		e.compactorRunning = false
	}
	return more
}

// compactBatchLocked visits up to limit keys of the pending compaction and
// reports whether more remain. The caller holds mu.Lock.
func (e *Engine) compactBatchLocked(limit int) bool {
	w := e.walk
	if w == nil || e.closed {
		return false
	}
	if w.tree != e.tree {
		// Restored from a snapshot, which holds no history below its
		// compaction revision.
		e.walk = nil
		return false
	}
	var start time.Time
	if e.metrics != nil {
		start = e.opts.Clock.Now()
	}
	var (
		empty   []*keyIndex
		visited int
		last    string
		dropped int
		atEnd   = true
	)
	visit := func(ki *keyIndex) bool {
		if w.wrapped && ki.key >= w.passStart {
			return false // back where the pass began
		}
		if visited == limit {
			atEnd = false
			return false
		}
		visited++
		last = ki.key
		n := len(ki.entries)
		gone, freed := ki.compact(w.rev)
		dropped += n - len(ki.entries)
		e.size -= freed
		if gone {
			empty = append(empty, ki)
			e.size -= keyOverhead + int64(len(ki.key))
		}
		return true
	}
	e.pivot.key = w.next
	e.tree.AscendGreaterOrEqual(&e.pivot, visit)
	for _, ki := range empty {
		e.tree.Delete(ki)
	}
	switch {
	case !atEnd:
		w.next = last + "\x00" // the smallest key after last
	case !w.wrapped && w.passStart != "":
		// The end of the key space: the keys before passStart still
		// need compacting at rev.
		w.wrapped, w.next = true, ""
	default:
		e.walk = nil
	}
	if m := e.metrics; m != nil {
		now := e.opts.Clock.Now()
		m.compactionPause.Observe(float64(now.Sub(start)) / float64(time.Millisecond))
		m.compactedRevisions.Add(float64(dropped))
		if e.walk == nil {
			m.compactionTotal.Observe(float64(now.Sub(w.began)) / float64(time.Millisecond))
		}
	}
	return e.walk != nil
}

// maybeAutoCompactLocked applies the revision-count retention after a
// write: the logical step at once, the removal in the background. The
// caller holds mu.Lock.
func (e *Engine) maybeAutoCompactLocked() {
	keep := e.opts.AutoCompactRevisions
	if keep <= 0 {
		return
	}
	slack := max(keep/10, 1)
	if e.rev-e.compactRev <= keep+slack {
		return
	}
	target := e.rev - keep
	e.compactLogicalLocked(target)
	e.startCompactorLocked()
	e.opts.Logger.Debug("mvcc: automatic compaction", "revision", target, "reason", "revisions")
}

// ageCompactor compacts the revisions older than AutoCompactAge. It samples
// the revision every tenth of the age and compacts to the newest sample that
// has aged out.
func (e *Engine) ageCompactor() {
	defer e.bg.Done()
	age := e.opts.AutoCompactAge
	tick := e.opts.Clock.NewTicker(max(age/10, time.Millisecond))
	defer tick.Stop()
	type sample struct {
		at  time.Time
		rev int64
	}
	samples := []sample{{e.opts.Clock.Now(), e.Revision()}}
	for {
		select {
		case <-e.done:
			return
		case <-tick.C():
		}
		now := e.opts.Clock.Now()
		samples = append(samples, sample{now, e.Revision()})
		i := sort.Search(len(samples), func(i int) bool { return now.Sub(samples[i].at) < age })
		if i == 0 {
			if e.opts.ageChecked != nil {
				e.opts.ageChecked()
			}
			continue
		}
		target := samples[i-1].rev
		samples = samples[i:]
		e.mu.Lock()
		compact := !e.closed && target > e.compactRev && target <= e.rev
		if compact {
			e.compactLogicalLocked(target)
			e.opts.Logger.Debug("mvcc: automatic compaction", "revision", target, "reason", "age")
		}
		e.mu.Unlock()
		if compact {
			e.finishCompaction(context.Background())
		}
		if e.opts.ageChecked != nil {
			e.opts.ageChecked()
		}
	}
}

// rlockCompacted takes the read lock at a moment when no compaction is
// half done, finishing the pending one first if need be, so that what the
// caller reads holds no history below the compaction revision (a snapshot
// must not: Restore rejects it).
func (e *Engine) rlockCompacted() {
	for {
		e.finishCompaction(context.Background())
		e.mu.RLock()
		if e.walk == nil || e.walk.tree != e.tree || e.closed {
			return
		}
		e.mu.RUnlock()
	}
}
