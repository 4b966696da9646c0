package raft

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// Errors of membership changes, besides [ErrMemberExists] and
// [ErrMemberNotFound]. Test for them with errors.Is.
var (
	// ErrMembershipChangeInProgress: a membership change was proposed
	// while an earlier one was not yet applied. Raft changes membership one
	// member at a time, so the change was refused without being applied;
	// retry it once the earlier one is done.
	ErrMembershipChangeInProgress = errors.New("raft: a membership change is already in progress")
	// ErrLastVoter: the change would remove the cluster's last voting
	// member, leaving no one to elect a leader. It was refused.
	ErrLastVoter = errors.New("raft: cannot remove the last voting member")
	// ErrNotLearner: [Node.PromoteMember] named a member that already
	// votes. It was refused.
	ErrNotLearner = errors.New("raft: member is not a learner")
)

// AddMember adds m to the cluster, as a learner when m.Learner is set and
// as a voter otherwise, and waits until this member has applied the
// change. Start the new member with [Config.Join] (before or after).
//
// One membership change is in flight at a time: while an earlier change
// is not yet applied, AddMember fails with [ErrMembershipChangeInProgress]
// and changes nothing. It fails with [ErrMemberExists] if m.ID is a member
// or a removed member (IDs are never reused), and with [ErrInvalidConfig]
// if m.ID is zero. If the leader changes before the change commits, it
// fails with [ErrLeaderChanged] (the change was most likely lost; check
// [Node.Members] before retrying).
func (n *Node) AddMember(ctx context.Context, m Member) error {
	if m.ID == 0 {
		return fmt.Errorf("%w: member ID must be non-zero", ErrInvalidConfig)
	}
	typ := raftpb.ConfChangeAddNode
	if m.Learner {
		typ = raftpb.ConfChangeAddLearnerNode
	}
	return n.changeMembership(ctx, confAdd, typ, m)
}

// PromoteMember makes learner id a voter and waits until this member has
// applied the change. It fails with [ErrMemberNotFound] if id is not a
// member, [ErrNotLearner] if it already votes, and
// [ErrMembershipChangeInProgress] as [Node.AddMember] does.
func (n *Node) PromoteMember(ctx context.Context, id uint64) error {
	m := n.memberOrID(id)
	m.Learner = false
	return n.changeMembership(ctx, confPromote, raftpb.ConfChangeAddNode, m)
}

// RemoveMember removes member id from the cluster and waits until this
// member has applied the change. A removed leader steps down once the
// change applies; a removed member stops taking part. It fails with
// [ErrMemberNotFound] if id is not a member, [ErrLastVoter] if id is the
// only voter, and [ErrMembershipChangeInProgress] as [Node.AddMember]
// does.
func (n *Node) RemoveMember(ctx context.Context, id uint64) error {
	m := n.memberOrID(id)
	return n.changeMembership(ctx, confRemove, raftpb.ConfChangeRemoveNode, m)
}

// memberOrID returns member id as this member knows it, or a Member with
// only the ID when it knows none (the change is then refused as it is
// screened).
func (n *Node) memberOrID(id uint64) Member {
	n.mu.Lock()
	defer n.mu.Unlock()
	if m, ok := n.members[id]; ok {
		return m
	}
	return Member{ID: id}
}

// confOp is what a membership change does, as its caller asked: adding a
// voter and promoting a learner are the same Raft change, but the first
// must name a new member and the second a learner.
type confOp uint8

const (
	confAdd confOp = iota + 1
	confPromote
	confRemove
)

func (op confOp) String() string {
	switch op {
	case confAdd:
		return "add"
	case confPromote:
		return "promote"
	case confRemove:
		return "remove"
	}
	return fmt.Sprintf("op %d", uint8(op))
}

// confRequest is the context of a membership change proposed through
// changeMembership: the confContext that applying it reads, and the
// operation, which the leader's checks read (older entries lack it, and
// readers of confContext ignore it).
type confRequest struct {
	confContext
	Op confOp `json:"op,omitempty"`
}

// refusal says why a membership change was refused. It travels in a
// refusal entry, so its values never change meaning.
type refusal uint8

const (
	refusedNone refusal = iota
	refusedInProgress
	refusedExists
	refusedNotFound
	refusedLastVoter
	refusedNotLearner
)

func (r refusal) err() error {
	switch r {
	case refusedInProgress:
		return ErrMembershipChangeInProgress
	case refusedExists:
		return ErrMemberExists
	case refusedNotFound:
		return ErrMemberNotFound
	case refusedLastVoter:
		return ErrLastVoter
	case refusedNotLearner:
		return ErrNotLearner
	}
	return fmt.Errorf("%w: unknown membership refusal %d", ErrCorruptEntry, uint8(r))
}

// checkConfChange says why op on member id would be refused in the
// configuration that members (and removed, the IDs removed so far)
// describe, or refusedNone.
func checkConfChange(members map[uint64]Member, removed map[uint64]bool, op confOp, id uint64) refusal {
	m, exists := members[id]
	switch op {
	case confAdd:
		if exists || removed[id] {
			return refusedExists
		}
	case confPromote:
		if !exists {
			return refusedNotFound
		}
		if !m.Learner {
			return refusedNotLearner
		}
	case confRemove:
		if !exists {
			return refusedNotFound
		}
		if m.Learner {
			return refusedNone
		}
		for oid, o := range members {
			if oid != id && !o.Learner {
				return refusedNone
			}
		}
		return refusedLastVoter
	}
	return refusedNone
}

func (n *Node) changeMembership(ctx context.Context, op confOp, typ raftpb.ConfChangeType, m Member) error {
	// Refuse what this member can already tell is wrong; the loop checks
	// again against the latest configuration, and the leader once more.
	n.mu.Lock()
	why := checkConfChange(n.members, n.removed, op, m.ID)
	n.mu.Unlock()
	if why != refusedNone {
		return fmt.Errorf("raft: %v member %x: %w", op, m.ID, why.err())
	}
	p := &proposal{done: make(chan result, 1)}
	// The request ID must be known before the context is encoded.
	id := n.newRequestID()
	cctx, err := json.Marshal(confRequest{confContext: confContext{Member: m, Origin: n.id, ReqID: id}, Op: op})
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
	var r *refusedError
	if errors.As(res.err, &r) {
		return fmt.Errorf("raft: %v member %x: %w", op, m.ID, r.err)
	}
	return res.err
}

// refusedError marks a proposal's result as a refusal, which
// changeMembership words for its caller.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

// parseConfRequest returns what a membership change proposed by
// changeMembership asks for; ok is false for any other change.
func parseConfRequest(cc *raftpb.ConfChangeV2) (req confRequest, id uint64, ok bool) {
	chs := cc.GetChanges()
	if len(chs) != 1 || json.Unmarshal(cc.GetContext(), &req) != nil || req.Op == 0 {
		return confRequest{}, 0, false
	}
	return req, chs[0].GetNodeId(), true
}

// The loop's side. Raft's leader accepts a membership change only when
// every earlier one is applied, and otherwise turns it into an empty
// entry, which answers nobody: the proposer would wait for its timeout.
// So the loop refuses such a change itself, before Raft sees it, with the
// same rule: on the proposing member for its own changes, and on the
// leader for the changes that followers forward to it, which it replaces
// with a refusal entry that answers the proposer when it applies.

// confPending reports whether a membership change may be in the log and
// not yet applied, by the rule Raft's leader uses (it runs on the loop).
func (n *Node) confPending() bool {
	if n.confProposed {
		// A change went to Raft since the last Ready: it may be in Raft's
		// log but not yet in storage.
		return true
	}
	st := n.rn.BasicStatus()
	applied := st.Applied
	last, err := n.storage.LastIndex()
	if err != nil || last <= applied {
		return err != nil
	}
	// A new leader counts everything in its log when it was elected as
	// possibly a change: its unapplied entries of earlier terms.
	if st.RaftState == raft.StateLeader {
		if t, err := n.storage.Term(applied + 1); err != nil || t < st.GetTerm() {
			return true
		}
	}
	ents, err := n.storage.Entries(applied+1, last+1, math.MaxUint64)
	if err != nil {
		return true
	}
	for _, e := range ents {
		if t := e.GetType(); t == raftpb.EntryConfChange || t == raftpb.EntryConfChangeV2 {
			return true
		}
	}
	return false
}

// refuseConfChange says why the loop must refuse op on member id now.
func (n *Node) refuseConfChange(op confOp, id uint64) refusal {
	if n.confPending() {
		return refusedInProgress
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return checkConfChange(n.members, n.removed, op, id)
}

// markConfProposed notes that a membership change went to Raft.
func (n *Node) markConfProposed() { n.confProposed = true }

// proposeConfChange hands this member's membership change p to Raft, or
// refuses it.
func (n *Node) proposeConfChange(p *proposal) {
	if req, id, ok := parseConfRequest(p.conf); ok {
		if why := n.refuseConfChange(req.Op, id); why != refusedNone {
			n.forget(p)
			p.finish(result{err: &refusedError{why.err()}})
			return
		}
	}
	if err := n.rn.ProposeConfChange(p.conf); err != nil {
		n.forget(p)
		p.finish(result{err: proposeErr(err)})
		return
	}
	n.markConfProposed()
	// If the leader loses it, the new leader's first entry fails it.
	p.term = n.rn.BasicStatus().GetTerm()
	// Applying the change completes p, which counts it out.
	n.metrics.proposalsPending.Inc()
}

// screenConfChanges runs on the leader before it steps a proposal that a
// follower forwarded: a membership change that must be refused becomes a
// refusal entry addressed to its proposer.
func (n *Node) screenConfChanges(m *raftpb.Message) {
	leader := -1
	for i, e := range m.GetEntries() {
		if t := e.GetType(); t != raftpb.EntryConfChange && t != raftpb.EntryConfChangeV2 {
			continue
		}
		cc, _, err := decodeConfChange(e)
		if err != nil {
			// Applied, it would stop every member (and Raft's leader
			// cannot even step it): it becomes an empty entry.
			n.log.Warn("raft: dropping undecodable membership change", "from", fmt.Sprintf("%x", m.GetFrom()), "err", err)
			m.Entries[i] = &raftpb.Entry{Type: raftpb.EntryNormal.Enum()}
			continue
		}
		if leader < 0 {
			leader = 0
			if n.rn.BasicStatus().RaftState == raft.StateLeader {
				leader = 1
			}
		}
		if leader == 0 {
			// Raft forwards it to the leader, which screens it.
			return
		}
		req, id, ok := parseConfRequest(cc)
		if !ok || req.Origin == 0 || req.ReqID == 0 {
			// Not one of ours: Raft judges it alone.
			n.markConfProposed()
			continue
		}
		why := n.refuseConfChange(req.Op, id)
		if why == refusedNone {
			n.markConfProposed()
			continue
		}
		n.log.Info("raft: refusing membership change", "op", req.Op, "member", fmt.Sprintf("%x", id),
			"proposer", fmt.Sprintf("%x", req.Origin), "reason", why.err())
		m.Entries[i] = &raftpb.Entry{Type: raftpb.EntryNormal.Enum(), Data: encodeRefusal(req.Origin, req.ReqID, why)}
	}
}

// encodeRefusal encodes the entry that answers request id of member
// origin with refusal why.
func encodeRefusal(origin, id uint64, why refusal) []byte {
	e := encoder{b: make([]byte, 0, 24)}
	e.byte1(entryRefusal)
	e.uvarint(origin)
	e.uvarint(id)
	e.byte1(byte(why))
	return e.b
}

func isConfRefusal(data []byte) bool { return len(data) > 0 && data[0] == entryRefusal }

// applyConfRefusal answers the refused request, on its proposer; other
// members change nothing.
func (n *Node) applyConfRefusal(data []byte) error {
	d := decoder{b: data[1:]}
	origin, id, why := d.uvarint(), d.uvarint(), refusal(d.byte1())
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return d.err
	}
	if origin == n.id {
		n.complete(id, result{err: &refusedError{why.err()}})
	}
	return nil
}
