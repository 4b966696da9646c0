package raft

import (
	"errors"

	"github.com/governor-io/governor/raft/rafterr"
)

// The errors a member returns to a request, from [rafterr], where a client
// finds them without linking this package. Test for them with errors.Is;
// [NotLeaderError] carries the leader's identity, which errors.As extracts.
var (
	// ErrNotLeader: a write reached a member that is not the leader while
	// forwarding is off (see [Config.DisableForwarding]).
	ErrNotLeader = rafterr.ErrNotLeader
	// ErrNoLeader: the cluster has no leader right now; the request was
	// not proposed and is safe to retry.
	ErrNoLeader = rafterr.ErrNoLeader
	// ErrTimeout: a request did not complete in [Config.RequestTimeout];
	// a write that times out may still be applied later.
	ErrTimeout = rafterr.ErrTimeout
	// ErrLeaderChanged: the leader changed while a write was in flight;
	// its outcome is unknown (see [rafterr.ErrLeaderChanged]).
	ErrLeaderChanged = rafterr.ErrLeaderChanged
	// ErrStopped: the member has stopped, after Close or a fatal error;
	// the outcome of a write in flight is unknown.
	ErrStopped = rafterr.ErrStopped
)

// NotLeaderError reports a write sent to a follower while forwarding is
// off; it is [rafterr.NotLeaderError].
type NotLeaderError = rafterr.NotLeaderError

// Errors of the member's configuration, membership and storage.
var (
	// ErrInvalidConfig: Open was given a Config it cannot use.
	ErrInvalidConfig = errors.New("raft: invalid config")
	// ErrClusterMismatch: the data directory or a peer belongs to another
	// member or another cluster.
	ErrClusterMismatch = errors.New("raft: cluster or member mismatch")
	// ErrMemberNotFound: a membership change names an unknown member.
	ErrMemberNotFound = errors.New("raft: member not found")
	// ErrMemberExists: a membership change adds a member that exists.
	ErrMemberExists = errors.New("raft: member already exists")
	// ErrCorruptEntry: a log entry or snapshot could not be decoded.
	ErrCorruptEntry = errors.New("raft: corrupt log entry or snapshot")
)
