// Package rafterr holds the errors that a member of the Raft KV
// ([github.com/governor-io/governor/raft]) returns to its callers, so that
// a client ([github.com/governor-io/governor/raft/client]) can test for them
// with errors.Is without linking the member's Raft library, log and
// engine. The raft package re-exports each of them under the same name.
package rafterr

import (
	"errors"
	"fmt"
)

// The errors a member returns to a request. Test for them with errors.Is;
// [NotLeaderError] carries the leader's identity, which errors.As extracts.
var (
	// ErrNotLeader: a write reached a member that is not the leader while
	// forwarding is off (see the raft package's Config.DisableForwarding).
	ErrNotLeader = errors.New("raft: not the leader")
	// ErrNoLeader: the cluster has no leader right now (an election is
	// running or the member is cut off from a quorum). The request was not
	// proposed; it is safe to retry.
	ErrNoLeader = errors.New("raft: no leader")
	// ErrTimeout: a request did not complete in the raft package's
	// Config.RequestTimeout. A write that times out may still be applied
	// later.
	ErrTimeout = errors.New("raft: request timed out, outcome unknown")
	// ErrLeaderChanged: the leader changed while a write was in flight
	// and the new leader's log does not hold it, so it was most likely
	// lost; but a copy still travelling in the network may yet be
	// committed, so the outcome is unknown. It comes as soon as this
	// member applies the new leader's first entry, instead of after the
	// request timeout. Retry only writes that are safe to repeat (such as
	// a Txn guarded by a revision compare).
	ErrLeaderChanged = errors.New("raft: leader changed, outcome unknown")
	// ErrStopped: the member has stopped, after Close or a fatal error
	// (such as a failed fsync). Requests in flight fail with it. The
	// outcome of a write in flight is then unknown: a leader sends its
	// entries to followers before its own fsync, so they may still commit
	// it. Retry only writes that are safe to repeat.
	ErrStopped = errors.New("raft: member stopped")
)

// NotLeaderError reports a write sent to a follower while forwarding is off.
// It matches [ErrNotLeader] with errors.Is. The leader may be unknown
// (LeaderID zero) during an election.
type NotLeaderError struct {
	// LeaderID is the ID of the member this member believes is the leader,
	// or zero when it knows of none.
	LeaderID uint64
	// LeaderAddr is the leader's client address (where a client should
	// send the write), empty when unknown.
	LeaderAddr string
}

func (e *NotLeaderError) Error() string {
	if e.LeaderID == 0 {
		return ErrNotLeader.Error() + " (leader unknown)"
	}
	return fmt.Sprintf("%v (leader is member %x at %q)", ErrNotLeader, e.LeaderID, e.LeaderAddr)
}

// Is reports whether target is ErrNotLeader.
func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }
