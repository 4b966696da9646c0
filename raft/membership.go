package raft

import (
	"context"
	"encoding/json"
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
)

// AddMember adds m to the cluster, as a learner when m.Learner is set and
// as a voter otherwise, and waits until this member has applied the
// change. Start the new member with [Config.Join] (before or after). One
// membership change is in flight at a time; a second one proposed
// meanwhile is dropped by the leader and times out.
func (n *Node) AddMember(ctx context.Context, m Member) error {
	if m.ID == 0 {
		return fmt.Errorf("%w: member ID must be non-zero", ErrInvalidConfig)
	}
	n.mu.Lock()
	_, exists := n.members[m.ID]
	removed := n.removed[m.ID]
	n.mu.Unlock()
	if exists || removed {
		return fmt.Errorf("%w: %x", ErrMemberExists, m.ID)
	}
	typ := raftpb.ConfChangeAddNode
	if m.Learner {
		typ = raftpb.ConfChangeAddLearnerNode
	}
	return n.changeMembership(ctx, typ, m)
}

// PromoteMember makes learner id a voter.
func (n *Node) PromoteMember(ctx context.Context, id uint64) error {
	n.mu.Lock()
	m, ok := n.members[id]
	n.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %x", ErrMemberNotFound, id)
	}
	if !m.Learner {
		return fmt.Errorf("%w: member %x is already a voter", ErrInvalidConfig, id)
	}
	m.Learner = false
	return n.changeMembership(ctx, raftpb.ConfChangeAddNode, m)
}

// RemoveMember removes member id from the cluster. A removed leader steps
// down once the change applies; a removed member stops taking part.
func (n *Node) RemoveMember(ctx context.Context, id uint64) error {
	n.mu.Lock()
	m, ok := n.members[id]
	n.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %x", ErrMemberNotFound, id)
	}
	return n.changeMembership(ctx, raftpb.ConfChangeRemoveNode, m)
}

func (n *Node) changeMembership(ctx context.Context, typ raftpb.ConfChangeType, m Member) error {
	p := &proposal{done: make(chan result, 1)}
	// The request ID must be known before the context is encoded.
	id := n.newRequestID()
	cctx, err := json.Marshal(confContext{Member: m, Origin: n.id, ReqID: id})
	if err != nil {
		return err
	}
	p.conf = &raftpb.ConfChangeV2{
		Changes: []*raftpb.ConfChangeSingle{{Type: typ.Enum(), NodeId: new(m.ID)}},
		Context: cctx,
	}
	p.req.id = id
	res, err := n.proposeWait(ctx, p)
	if err != nil {
		return err
	}
	return res.err
}
