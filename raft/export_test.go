package raft

import (
	"context"
	"time"
)

// EntryRefusalKind is the first byte of a refusal entry's data, for tests
// that watch the log go by.
const EntryRefusalKind = entryRefusal

// WaitSnapshot waits until the member has a snapshot at index min or
// later, taken or received.
func (n *Node) WaitSnapshot(ctx context.Context, min uint64) error {
	for {
		n.mu.Lock()
		ch := n.snapc
		n.mu.Unlock()
		if n.snapIdx.Load() >= min {
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

// SetCompactionHooks makes the member built from cfg call checked after
// each compaction check, proposed when it proposes an automatic
// compaction, and applied when it applies any compaction. Nil hooks are
// not called.
func SetCompactionHooks(cfg *Config, checked func(now time.Time), proposed, applied func(rev int64)) {
	cfg.hooks = &testHooks{compactChecked: checked, compactProposed: proposed, compactApplied: applied}
}
