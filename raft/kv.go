package raft

import (
	"context"
	"errors"
	"io"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/governor-io/governor/store/kv"
)

var _ kv.KV = (*Node)(nil)

// Range implements [kv.KV.Range]. It is linearizable: it waits until this
// member has applied everything the leader had committed when the read
// began. [kv.RangeRequest.Serializable] (or [Config.SerializableReads])
// asks for the fast, possibly stale alternative: a read of this member's
// engine at once.
func (n *Node) Range(ctx context.Context, req kv.RangeRequest) (*kv.RangeResponse, error) {
	if req.Key == "" {
		return nil, kv.ErrEmptyKey
	}
	if !n.cfg.SerializableReads && !req.Serializable {
		if err := n.linearize(ctx); err != nil {
			return nil, err
		}
	} else if err := n.running(); err != nil {
		return nil, err
	}
	return n.engine.Range(ctx, req)
}

// Txn implements [kv.KV.Txn]. A transaction that writes is replicated
// through the log (proposed with others in one batch) and answered once
// this member has applied it. A read-only transaction is served like a
// linearizable Range. On a follower the write is forwarded to the leader,
// unless [Config.DisableForwarding] makes it fail with a
// [NotLeaderError].
func (n *Node) Txn(ctx context.Context, req kv.TxnRequest) (*kv.TxnResponse, error) {
	if !hasWrites(req.Success) && !hasWrites(req.Failure) {
		if !n.cfg.SerializableReads {
			if err := n.linearize(ctx); err != nil {
				return nil, err
			}
		} else if err := n.running(); err != nil {
			return nil, err
		}
		return n.engine.Txn(ctx, req)
	}
	res, err := n.propose(ctx, request{txn: &req})
	if err != nil {
		return nil, err
	}
	return res.txn, res.err
}

// Compact implements [kv.KV.Compact]. The compaction is replicated through
// the log, so that every member compacts at the same revision.
func (n *Node) Compact(ctx context.Context, rev int64) error {
	if rev <= 0 {
		return kv.ErrInvalidRequest
	}
	if crev := n.engine.CompactRevision(); rev <= crev {
		return &kv.CompactedError{CompactRevision: crev}
	}
	res, err := n.propose(ctx, request{compact: rev})
	if err != nil {
		return err
	}
	return res.err
}

// Watch implements [kv.KV.Watch], served from this member's engine. A
// watch on a follower sees the changes as this member applies them.
func (n *Node) Watch(ctx context.Context, req kv.WatchRequest) (<-chan kv.WatchResponse, error) {
	if err := n.running(); err != nil {
		return nil, err
	}
	return n.engine.Watch(ctx, req)
}

// RequestProgress implements [kv.KV.RequestProgress] on this member's
// engine.
func (n *Node) RequestProgress(ctx context.Context) error {
	if err := n.running(); err != nil {
		return err
	}
	return n.engine.RequestProgress(ctx)
}

func hasWrites(ops []kv.Op) bool {
	for i := range ops {
		if ops[i].Type != kv.OpRange {
			return true
		}
	}
	return false
}

func (n *Node) running() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return kv.ErrClosed
	}
	return n.stoppedErrLocked()
}

// withTimeout applies RequestTimeout to a context without an earlier
// deadline.
func (n *Node) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= n.cfg.RequestTimeout {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, n.cfg.RequestTimeout, ErrTimeout)
}

// linearize waits until this member has applied every entry committed
// before the call, using one ReadIndex for all concurrent readers.
func (n *Node) linearize(ctx context.Context) error {
	ctx, cancel := n.withTimeout(ctx)
	defer cancel()
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return kv.ErrClosed
	}
	if err := n.stoppedErrLocked(); err != nil {
		n.mu.Unlock()
		return err
	}
	r := n.nextRead
	if r == nil {
		r = &readReq{done: make(chan struct{})}
		n.nextRead = r
	}
	done := r.done
	n.mu.Unlock()
	n.wake()
	select {
	case <-done:
		return r.err
	case <-ctx.Done():
		return ctxErr(ctx)
	}
}

// propose queues a request for the next batch and waits for it to apply.
func (n *Node) propose(ctx context.Context, req request) (result, error) {
	return n.proposeWait(ctx, &proposal{req: req, done: make(chan result, 1)})
}

func (n *Node) proposeWait(ctx context.Context, p *proposal) (result, error) {
	// A request whose context is already done is never proposed: queued,
	// the loop might take it before it is marked cancelled.
	if err := ctx.Err(); err != nil {
		return result{}, err
	}
	ctx, cancel := n.withTimeout(ctx)
	defer cancel()
	if p.req.id == 0 {
		p.req.id = n.newRequestID()
	}
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return result{}, kv.ErrClosed
	}
	if err := n.stoppedErrLocked(); err != nil {
		n.mu.Unlock()
		return result{}, err
	}
	if n.cfg.DisableForwarding {
		if lead := n.leader.Load(); lead != n.id && lead != 0 {
			n.mu.Unlock()
			return result{}, n.notLeader(lead)
		}
	}
	n.waiting[p.req.id] = p
	n.props = append(n.props, p)
	n.mu.Unlock()
	n.wake()
	select {
	case res := <-p.done:
		return res, nil
	case <-ctx.Done():
		p.canceled.Store(true)
		n.forget(p)
		return result{}, ctxErr(ctx)
	}
}

// ctxErr returns ErrTimeout for RequestTimeout and ctx.Err() otherwise.
func ctxErr(ctx context.Context) error {
	if cause := context.Cause(ctx); errors.Is(cause, ErrTimeout) {
		return ErrTimeout
	}
	return ctx.Err()
}

// handler is the member's side of its Transport.
type handler struct{ n *Node }

func (h handler) Process(ctx context.Context, m *raftpb.Message) error {
	select {
	case h.n.recvc <- m:
		return nil
	case <-h.n.donec:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h handler) ReceiveSnapshot(ctx context.Context, m *raftpb.Message, data io.Reader) error {
	if err := h.n.snaps.receive(m.GetSnapshot().GetMetadata(), data); err != nil {
		return err
	}
	return h.Process(ctx, m)
}

func (h handler) OpenSnapshot(m *raftpb.Message) (io.ReadCloser, int64, error) {
	return h.n.snaps.stream(m.GetSnapshot().GetMetadata().GetIndex())
}

func (h handler) ReportUnreachable(id uint64) {
	h.n.control(func() { h.n.rn.ReportUnreachable(id) })
}

func (h handler) ReportSnapshot(id uint64, failed bool) {
	status := raftSnapshotFinish
	if failed {
		status = raftSnapshotFailure
	}
	h.n.control(func() { h.n.rn.ReportSnapshot(id, status) })
}
