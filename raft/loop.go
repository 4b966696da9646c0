package raft

import (
	"encoding/binary"
	"fmt"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"
)

// run is the member's one loop. It owns the RawNode: it ticks it, steps
// inbound messages into it, proposes the queued requests in batches, and
// handles each Ready in the order the Ready contract demands: persist the
// snapshot, HardState and entries, then send the messages, then apply.
func (n *Node) run() {
	defer close(n.donec)
	// A snapshot still being written stops at its next write (stopc) or
	// runs to its end (after a fatal error).
	defer n.snapWG.Wait()
	n.heldHeartbeats, n.probeTick = map[uint64]*raftpb.Message{}, map[uint64]uint64{}
	// Ticks come from cfg.Ticks when the caller drives them, and from a
	// ticker on cfg.Clock otherwise; a nil channel never fires.
	ticks := n.cfg.Ticks
	var tickerC <-chan time.Time
	if ticks == nil {
		ticker := n.cfg.Clock.NewTicker(n.cfg.TickInterval)
		defer ticker.Stop()
		tickerC = ticker.C()
	}
	var err error
	// A cluster of one needs no election timeout.
	for err == nil && n.rn.HasReady() {
		err = n.handleReady()
	}
	// A cluster of one needs no election timeout. (Raft refuses to
	// campaign before the committed membership entries are applied, so
	// this comes after the first Readies.)
	if voters := n.rn.Status().Config.Voters.IDs(); err == nil && len(voters) == 1 {
		if _, self := voters[n.id]; self {
			_ = n.rn.Campaign()
			for err == nil && n.rn.HasReady() {
				err = n.handleReady()
			}
		}
	}
	for err == nil {
		select {
		case <-n.stopc:
			n.shutdown(ErrStopped)
			return
		case <-tickerC:
			n.onTick()
		case <-ticks:
			n.onTick()
		case m := <-n.recvc:
			n.step(m)
		case <-n.wakec:
		case job := <-n.snapDone:
			err = n.finishSnapshot(job)
		}
		// Take everything else that is already waiting, so that one Ready
		// (one fsync) covers as much work as possible.
	drain:
		for i := 0; i < 4096; i++ {
			select {
			case m := <-n.recvc:
				n.step(m)
			default:
				break drain
			}
		}
		n.runControl()
		n.proposeQueued()
		n.issueReads()
		for err == nil && n.rn.HasReady() {
			err = n.handleReady()
		}
		// Every entry Raft accepted is in storage now.
		n.confProposed = false
	}
	n.fail(err)
	n.shutdown(n.Err())
}

// onTick advances the member's logical clock by one tick.
func (n *Node) onTick() {
	n.rn.Tick()
	n.tick++
	n.retryReads()
	n.releaseHeartbeatResps()
	n.maybeAutoCompact()
}

// shutdown fails every waiter with err.
func (n *Node) shutdown(err error) {
	n.mu.Lock()
	if n.stopErr == nil {
		n.stopErr = err
	}
	props, waiting, next := n.props, n.waiting, n.nextRead
	n.props, n.waiting, n.nextRead = nil, map[uint64]*proposal{}, nil
	n.mu.Unlock()
	for _, p := range waiting {
		p.finish(result{err: err})
	}
	for _, p := range props {
		p.finish(result{err: err})
	}
	if next != nil {
		next.finish(err)
	}
	for _, r := range n.readsInflight {
		r.finish(err)
	}
	for _, r := range n.readsPending {
		r.finish(err)
	}
	n.readsInflight, n.readsPending = nil, nil
	n.isLead.Store(false)
	n.leader.Store(0)
	n.metrics.setLeader(0, false)
}

func (p *proposal) finish(r result) {
	select {
	case p.done <- r:
	default:
	}
}

func (r *readReq) finish(err error) {
	if r.done == nil {
		return
	}
	r.err = err
	close(r.done)
	r.done = nil
}

func (n *Node) step(m *raftpb.Message) {
	if n.isRemoved(m.GetFrom()) {
		return
	}
	switch m.GetType() {
	case raftpb.MsgProp:
		n.screenConfChanges(m)
	case raftpb.MsgHeartbeatResp:
		if n.holdHeartbeatResp(m) {
			return
		}
	}
	n.stepRaft(m)
}

func (n *Node) stepRaft(m *raftpb.Message) {
	if err := n.rn.Step(m); err != nil {
		n.log.Debug("raft: step", "type", m.GetType(), "from", m.GetFrom(), "err", err)
	}
}

// A leader answers every heartbeat response from a follower it is probing
// with a probe: an append of up to MaxBatchBytes of entries from where
// it believes the follower's log matches. Raft expects one heartbeat
// response per heartbeat interval, but every ReadIndex is a heartbeat
// round too, and a member that resumes after a pause (SIGSTOP, a long
// GC, a stalled disk) answers its whole backlog of heartbeats at once:
// each answer would resend the same megabyte. So while a follower is
// probed, one heartbeat response per heartbeat interval reaches Raft; the
// latest of the others is held until the next interval, or until the
// follower is no longer probed, carrying the newest read context among
// them (acknowledging a read acknowledges every earlier one).

// holdHeartbeatResp reports whether the loop holds m back rather than
// step it now.
func (n *Node) holdHeartbeatResp(m *raftpb.Message) bool {
	from := m.GetFrom()
	if !n.isLead.Load() || !n.probing(from) {
		return false
	}
	if last, ok := n.probeTick[from]; !ok || n.tick-last >= uint64(n.cfg.HeartbeatTicks) {
		n.probeTick[from] = n.tick
		delete(n.heldHeartbeats, from)
		return false
	}
	if prev := n.heldHeartbeats[from]; prev != nil && len(m.GetContext()) == 0 {
		m.Context = prev.GetContext()
	}
	n.heldHeartbeats[from] = m
	return true
}

// releaseHeartbeatResps steps the held heartbeat responses whose
// follower's interval is over or which is no longer probed. A member
// that no longer leads drops them.
func (n *Node) releaseHeartbeatResps() {
	if len(n.heldHeartbeats) == 0 {
		return
	}
	if !n.isLead.Load() {
		clear(n.heldHeartbeats)
		clear(n.probeTick)
		return
	}
	for from, m := range n.heldHeartbeats {
		if n.probing(from) {
			if n.tick-n.probeTick[from] < uint64(n.cfg.HeartbeatTicks) {
				continue
			}
			n.probeTick[from] = n.tick
		}
		delete(n.heldHeartbeats, from)
		n.stepRaft(m)
	}
}

// probing reports whether the leader probes follower id (its progress is
// in Raft's probe state).
func (n *Node) probing(id uint64) bool {
	probe := false
	n.rn.WithProgress(func(pid uint64, _ raft.ProgressType, pr tracker.Progress) {
		if pid == id {
			probe = pr.State == tracker.StateProbe
		}
	})
	return probe
}

func (n *Node) isRemoved(id uint64) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.removed[id]
}

func (n *Node) runControl() {
	n.mu.Lock()
	ctrl := n.ctrl
	n.ctrl = nil
	n.mu.Unlock()
	for _, f := range ctrl {
		f()
	}
}

// control runs f on the loop goroutine.
func (n *Node) control(f func()) error {
	n.mu.Lock()
	if err := n.stoppedErrLocked(); err != nil {
		n.mu.Unlock()
		return err
	}
	n.ctrl = append(n.ctrl, f)
	n.mu.Unlock()
	n.wake()
	return nil
}

// proposeQueued proposes the queued requests, many transactions per entry.
func (n *Node) proposeQueued() {
	n.mu.Lock()
	props := n.props
	n.props = nil
	n.mu.Unlock()
	if len(props) == 0 {
		return
	}
	lead := n.leader.Load()
	if lead == 0 {
		// Keep them for when a leader is known; their contexts bound the
		// wait.
		n.mu.Lock()
		n.props = append(props, n.props...)
		n.mu.Unlock()
		return
	}
	var refuse error
	switch {
	case lead != n.id && n.cfg.DisableForwarding:
		refuse = n.notLeader(lead)
	}
	var batch []*proposal
	size := 0
	flush := func() {
		if len(batch) == 0 {
			return
		}
		reqs := make([]*request, len(batch))
		for i, p := range batch {
			reqs[i] = &p.req
		}
		data := encodeTxns(make([]byte, 0, size+16), n.id, reqs)
		n.proposeData(data, batch)
		batch, size = batch[:0:0], 0
	}
	for _, p := range props {
		if p.canceled.Load() {
			n.forget(p)
			continue
		}
		if refuse != nil {
			n.forget(p)
			p.finish(result{err: refuse})
			continue
		}
		switch {
		case p.conf != nil:
			n.proposeConfChange(p)
		case p.req.txn == nil:
			n.proposeData(encodeCompact(n.id, p.req.id, p.req.compact), []*proposal{p})
		default:
			sz := txnSize(p.req.txn)
			if len(batch) > 0 && size+sz > n.cfg.MaxBatchBytes {
				flush()
			}
			batch = append(batch, p)
			size += sz
		}
	}
	flush()
}

func (n *Node) proposeData(data []byte, ps []*proposal) {
	if err := n.rn.Propose(data); err != nil {
		for _, p := range ps {
			n.forget(p)
			p.finish(result{err: proposeErr(err)})
		}
		n.metrics.proposalsFailed.Add(float64(len(ps)))
		return
	}
	st := n.rn.BasicStatus()
	term := st.GetTerm()
	for _, p := range ps {
		p.term = term
	}
	n.metrics.proposalsPending.Add(float64(len(ps)))
}

func proposeErr(err error) error {
	if err == raft.ErrProposalDropped {
		return ErrNoLeader
	}
	return fmt.Errorf("raft: propose: %w", err)
}

func (n *Node) forget(p *proposal) {
	n.mu.Lock()
	delete(n.waiting, p.req.id)
	n.mu.Unlock()
}

func (n *Node) notLeader(lead uint64) error {
	n.mu.Lock()
	addr := n.members[lead].ClientAddr
	n.mu.Unlock()
	return &NotLeaderError{LeaderID: lead, LeaderAddr: addr}
}

// issueReads asks Raft for one read index for all readers gathered since
// the last request.
func (n *Node) issueReads() {
	n.mu.Lock()
	r := n.nextRead
	n.nextRead = nil
	n.mu.Unlock()
	if r == nil {
		return
	}
	n.readSeq++
	r.issued = n.tick
	n.readsInflight[n.readSeq] = r
	n.rn.ReadIndex(readCtx(n.readSeq))
}

// retryReads asks again for read indexes that Raft dropped (no leader, a
// lost message): a ReadIndex may be repeated safely.
func (n *Node) retryReads() {
	for seq, r := range n.readsInflight {
		if n.tick-r.issued >= uint64(n.cfg.ElectionTicks) {
			r.issued = n.tick
			n.rn.ReadIndex(readCtx(seq))
		}
	}
}

func (n *Node) handleReadStates(rss []raft.ReadState) {
	for _, rs := range rss {
		if len(rs.RequestCtx) != 8 {
			continue
		}
		seq := binary.BigEndian.Uint64(rs.RequestCtx)
		r, ok := n.readsInflight[seq]
		if !ok {
			continue
		}
		delete(n.readsInflight, seq)
		r.index = rs.Index
		n.readsPending = append(n.readsPending, r)
	}
}

// releaseReads lets through the readers whose read index is applied.
func (n *Node) releaseReads() {
	applied := n.applied.Load()
	keep := n.readsPending[:0]
	for _, r := range n.readsPending {
		if r.index <= applied {
			r.finish(nil)
		} else {
			keep = append(keep, r)
		}
	}
	clear(n.readsPending[len(keep):])
	n.readsPending = keep
}

// handleReady processes one Ready. An error is fatal: the member stops
// rather than go on with state that is not durable.
func (n *Node) handleReady() error {
	rd := n.rn.Ready()
	if rd.SoftState != nil {
		n.updateLeader(rd.SoftState)
	}
	hasSnap := !raft.IsEmptySnap(rd.Snapshot)
	// A leader may send its appends while it writes them to its own disk
	// (Raft thesis 10.2.1), as long as its term and vote are already
	// durable; responses and votes must wait for the write.
	early := n.isLead.Load() && !hasSnap && !n.hardStateChanges(rd.HardState)
	var late []*raftpb.Message
	if early {
		var now []*raftpb.Message
		for _, m := range rd.Messages {
			switch m.GetType() {
			case raftpb.MsgAppResp, raftpb.MsgVoteResp, raftpb.MsgPreVoteResp:
				late = append(late, m)
			default:
				now = append(now, m)
			}
		}
		n.send(now)
	} else {
		late = rd.Messages
	}

	if hasSnap {
		if err := n.wal.SaveSnapshot(markerOf(rd.Snapshot.GetMetadata())); err != nil {
			return fmt.Errorf("raft: save snapshot marker: %w", err)
		}
	}
	if rd.MustSync || hasSnap {
		if err := n.wal.Save(rd.HardState, rd.Entries); err != nil {
			return fmt.Errorf("raft: save to WAL: %w", err)
		}
		if rd.HardState != nil {
			n.hardTerm, n.hardVote = rd.HardState.GetTerm(), rd.HardState.GetVote()
		}
	}
	if hasSnap {
		if err := n.storage.ApplySnapshot(rd.Snapshot); err != nil {
			return fmt.Errorf("raft: apply snapshot to log: %w", err)
		}
	}
	if rd.HardState != nil {
		if err := n.storage.SetHardState(rd.HardState); err != nil {
			return err
		}
		n.term.Store(rd.HardState.GetTerm())
	}
	if err := n.storage.Append(rd.Entries); err != nil {
		return fmt.Errorf("raft: append to log: %w", err)
	}
	n.send(late)

	if hasSnap {
		if err := n.applySnapshot(rd.Snapshot); err != nil {
			return err
		}
	}
	if err := n.applyEntries(rd.CommittedEntries); err != nil {
		return err
	}
	if len(rd.ReadStates) > 0 {
		n.handleReadStates(rd.ReadStates)
	}
	n.releaseReads()
	n.rn.Advance(rd)
	if err := n.maybeSnapshot(); err != nil {
		return err
	}
	return n.trimLog()
}

// hardStateChanges reports whether hs changes the persisted term or vote.
func (n *Node) hardStateChanges(hs *raftpb.HardState) bool {
	return hs != nil && (hs.GetTerm() != n.hardTerm || hs.GetVote() != n.hardVote)
}

func (n *Node) send(msgs []*raftpb.Message) {
	if len(msgs) == 0 {
		return
	}
	n.tr.Send(msgs)
}

func (n *Node) updateLeader(ss *raft.SoftState) {
	lead := ss.Lead
	isLead := ss.RaftState == raft.StateLeader
	n.leader.Store(lead)
	n.isLead.Store(isLead)
	if lead != n.lastLead {
		if lead != 0 {
			n.metrics.leaderChanges.Inc()
		}
		n.lastLead = lead
		// Ask again for the read indexes in flight: the old leader's
		// answers will not come.
		for seq, r := range n.readsInflight {
			r.issued = n.tick
			n.rn.ReadIndex(readCtx(seq))
		}
	}
	n.metrics.setLeader(lead, isLead)
	if lead != 0 {
		n.wake()
	}
	n.mu.Lock()
	close(n.leaderc)
	n.leaderc = make(chan struct{})
	n.mu.Unlock()
}
