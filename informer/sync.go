package informer

import (
	"context"
	"time"
)

// Synced is anything that can say whether it has synced: an [Informer], a
// [Registration], a [Factory].
type Synced interface{ HasSynced() bool }

// SyncNotifier is a [Synced] that also announces its sync by closing a
// channel, so that [WaitForCacheSync] needs no polling. [Informer] and
// [Registration] implement it.
type SyncNotifier interface {
	Synced
	// SyncDone returns a channel that is closed once HasSynced is true.
	SyncDone() <-chan struct{}
}

// WaitForCacheSync waits until every s has synced and returns true, or
// returns false once ctx is done. It wakes on the sync itself for
// [SyncNotifier] values; any other [Synced] is checked with a backoff from
// 1ms to 100ms.
func WaitForCacheSync(ctx context.Context, s ...Synced) bool {
	for _, x := range s {
		if x.HasSynced() {
			continue
		}
		if n, ok := x.(SyncNotifier); ok {
			select {
			case <-n.SyncDone():
				continue
			case <-ctx.Done():
				return false
			}
		}
		for d := time.Millisecond; !x.HasSynced(); d = min(2*d, 100*time.Millisecond) {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return false
			}
		}
	}
	return true
}
