package raft

import (
	"context"
	"io"

	"go.etcd.io/raft/v3/raftpb"
)

// Transport carries Raft messages between members. [NewTCPTransport] is the
// production implementation; the in-process transport of
// [github.com/governor-io/governor/raft/rafttest] injects faults for tests.
//
// A Transport never blocks the member: Send queues and returns. A message
// that cannot be delivered is dropped (Raft retransmits) and, when the peer
// is unreachable, reported through [Handler.ReportUnreachable]. A MsgSnap
// message is streamed with the snapshot's data, read from
// [Handler.OpenSnapshot], and its outcome reported through
// [Handler.ReportSnapshot].
type Transport interface {
	// Start begins delivering inbound messages to h. The member calls it
	// once, before anything else.
	Start(h Handler) error
	// Send queues msgs for delivery to the members named in their To
	// fields. It must not block and must not keep msgs after it returns
	// unless it copies them (the member reuses nothing, but Raft may).
	Send(msgs []*raftpb.Message)
	// AddPeer tells the transport where member id listens. Adding a known
	// peer updates its address.
	AddPeer(id uint64, addr string)
	// RemovePeer forgets member id and drops its queued messages.
	RemovePeer(id uint64)
	// Addr returns the address the transport accepts connections on, or
	// "" when it has none.
	Addr() string
	// Close stops the transport and waits for its goroutines.
	Close() error
}

// Handler is the member's side of a [Transport]: what the transport calls
// when a message arrives or a send fails. The member passes it to
// [Transport.Start].
type Handler interface {
	// Process steps an inbound message into the member. It may block while
	// the member is busy (pushing back on the sender) until ctx is done.
	Process(ctx context.Context, m *raftpb.Message) error
	// ReceiveSnapshot stores the snapshot that data streams (its metadata
	// is in m.Snapshot) and then steps m. data is read to its end.
	ReceiveSnapshot(ctx context.Context, m *raftpb.Message, data io.Reader) error
	// OpenSnapshot opens the data of the snapshot that MsgSnap m carries,
	// with its size in bytes, for streaming to m's recipient.
	OpenSnapshot(m *raftpb.Message) (io.ReadCloser, int64, error)
	// ReportUnreachable tells the member that a message to id was lost.
	ReportUnreachable(id uint64)
	// ReportSnapshot tells the member whether a snapshot sent to id was
	// received (failed false) or not.
	ReportSnapshot(id uint64, failed bool)
}
