package raft

import (
	"time"
)

// The automatic compaction of history. Every member samples its revision
// as its clock goes by; the leader proposes a compaction through the log
// when history grows older than [Config.CompactionRetention] or longer
// than [Config.CompactionRevisions], and every member applies it at the
// same point of the log. Followers keep sampling, so that a new leader
// continues at once with the samples it already has.

// compactSample is the member's revision at a point of its clock.
type compactSample struct {
	at  time.Time
	rev int64
}

// compactor is the loop's compaction state (owned by the loop).
type compactor struct {
	retention time.Duration // <= 0: no compaction by age
	revisions int64         // <= 0: no compaction by revisions
	every     time.Duration // between samples
	samples   []compactSample
	// proposed is the revision of the last compaction this member
	// proposed, at tick proposedTick: it is not proposed again while it
	// may still be in flight.
	proposed     int64
	proposedTick uint64
}

// compactSampleDivisor is how many samples the retention period holds:
// history is kept for between retention and 1.1 times retention.
const compactSampleDivisor = 10

func newCompactor(cfg Config) compactor {
	c := compactor{retention: cfg.CompactionRetention, revisions: cfg.CompactionRevisions}
	if c.retention > 0 {
		c.every = max(c.retention/compactSampleDivisor, cfg.TickInterval)
	}
	return c
}

// maybeAutoCompact runs on each tick: it samples the revision when a
// sample is due and, on the leader, proposes the compaction the rules ask
// for.
func (n *Node) maybeAutoCompact() {
	c := &n.compactor
	if c.retention <= 0 && c.revisions <= 0 {
		return
	}
	now := n.cfg.Clock.Now()
	rev := n.engine.Revision()
	var target int64
	reason := ""
	if c.retention > 0 {
		if k := len(c.samples); k == 0 || now.Sub(c.samples[k-1].at) >= c.every {
			c.samples = append(c.samples, compactSample{at: now, rev: rev})
		}
		// The newest sample at least retention old is the target; the ones
		// before it are of no more use.
		i := 0
		for i+1 < len(c.samples) && now.Sub(c.samples[i+1].at) >= c.retention {
			i++
		}
		c.samples = c.samples[i:]
		if now.Sub(c.samples[0].at) >= c.retention {
			target, reason = c.samples[0].rev, "age"
		}
	}
	if n.isLead.Load() {
		crev := n.engine.CompactRevision()
		if c.revisions > 0 && rev-crev > c.revisions+max(c.revisions/compactSampleDivisor, 1) {
			if t := rev - c.revisions; t > target {
				target, reason = t, "revisions"
			}
		}
		inFlight := target <= c.proposed && n.tick-c.proposedTick < 2*uint64(n.cfg.ElectionTicks)
		if target > crev && !inFlight {
			n.proposeAutoCompact(target, reason)
		}
	}
	if h := n.cfg.hooks; h != nil && h.compactChecked != nil {
		h.compactChecked(now)
	}
}

// proposeAutoCompact proposes a compaction to rev that no caller waits for.
func (n *Node) proposeAutoCompact(rev int64, reason string) {
	if err := n.rn.Propose(encodeCompact(n.id, 0, rev)); err != nil {
		n.log.Warn("raft: propose automatic compaction", "revision", rev, "err", err)
		return
	}
	n.compactor.proposed, n.compactor.proposedTick = rev, n.tick
	n.log.Info("raft: automatic compaction proposed", "revision", rev, "reason", reason)
	if h := n.cfg.hooks; h != nil && h.compactProposed != nil {
		h.compactProposed(rev)
	}
}
