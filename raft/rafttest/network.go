// Package rafttest runs Raft KV clusters inside one test process: an
// in-process [Network] whose links can be cut (both ways or one way), and
// which drops, delays, reorders and duplicates messages from a seeded
// random source; and a [Cluster] of members on that network, whose
// logical ticks it gives (by itself, or only when the test calls
// [Cluster.Tick]), and whose data directories live on in-memory file
// systems, so that a test can crash a member, losing what it had not
// synced, and restart it from what survived.
package rafttest

import (
	"context"
	"io"
	"math/rand/v2"
	"sync"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/governor-io/governor/raft"
)

// Faults are the message faults a [Network] injects on every link that is
// not cut. Rates are probabilities in [0, 1].
type Faults struct {
	// Drop is the probability that a message is lost.
	Drop float64
	// Duplicate is the probability that a message is delivered twice.
	// Proposals a follower forwards (MsgProp) are duplicated only when
	// DuplicateProposals is set: a member appends a duplicated proposal
	// to the log twice and applies it twice, and the TCP transport never
	// delivers a message twice.
	Duplicate          float64
	DuplicateProposals bool
	// Delay is the probability that a message is held back and delivered
	// after up to MaxDelay later messages to the same member, which
	// reorders it.
	Delay float64
	// MaxDelay bounds how many later messages overtake a delayed one.
	// Zero means 8.
	MaxDelay int
}

// Network is an in-process message network between members. Its zero
// value is not usable; create it with [NewNetwork]. It is safe for
// concurrent use.
type Network struct {
	mu     sync.Mutex
	rng    *rand.Rand
	faults Faults
	cut    map[[2]uint64]bool // from, to
	ends   map[uint64]*endpoint
	// Stats.
	sent, dropped, duplicated, delayed int
}

// NewNetwork returns a network with no faults whose random choices come
// from seed.
func NewNetwork(seed uint64) *Network {
	return &Network{
		rng:  rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		cut:  map[[2]uint64]bool{},
		ends: map[uint64]*endpoint{},
	}
}

// SetFaults sets the faults injected from now on.
func (nw *Network) SetFaults(f Faults) {
	if f.MaxDelay <= 0 {
		f.MaxDelay = 8
	}
	nw.mu.Lock()
	nw.faults = f
	nw.mu.Unlock()
}

// Cut drops every message from one member to another (one way; call it
// twice, or use [Network.Isolate], for both).
func (nw *Network) Cut(from, to uint64) {
	nw.mu.Lock()
	nw.cut[[2]uint64{from, to}] = true
	nw.mu.Unlock()
}

// Isolate cuts every link to and from id.
func (nw *Network) Isolate(id uint64) {
	nw.mu.Lock()
	for other := range nw.ends {
		if other != id {
			nw.cut[[2]uint64{id, other}] = true
			nw.cut[[2]uint64{other, id}] = true
		}
	}
	nw.mu.Unlock()
}

// Partition splits the members into groups that cannot reach each other.
// Members in no group keep their links.
func (nw *Network) Partition(groups ...[]uint64) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	group := map[uint64]int{}
	for i, g := range groups {
		for _, id := range g {
			group[id] = i
		}
	}
	for a, ga := range group {
		for b, gb := range group {
			if ga != gb {
				nw.cut[[2]uint64{a, b}] = true
			}
		}
	}
}

// Heal restores every link and stops injecting faults.
func (nw *Network) Heal() {
	nw.mu.Lock()
	nw.cut = map[[2]uint64]bool{}
	nw.faults = Faults{}
	held := map[uint64][]*raftpb.Message{}
	for id, e := range nw.ends {
		held[id] = e.held
		e.held = nil
	}
	nw.mu.Unlock()
	for id, ms := range held {
		for _, m := range ms {
			nw.deliver(id, m)
		}
	}
}

// Stats returns how many messages were sent, dropped, duplicated and
// delayed so far.
func (nw *Network) Stats() (sent, dropped, duplicated, delayed int) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	return nw.sent, nw.dropped, nw.duplicated, nw.delayed
}

// Transport returns the transport of member id. A member that restarts
// gets a new one; messages in flight to the old one are lost.
func (nw *Network) Transport(id uint64) raft.Transport {
	return &transport{nw: nw, id: id}
}

func (nw *Network) linked(from, to uint64) bool {
	return !nw.cut[[2]uint64{from, to}]
}

// route decides the fate of one message and queues its deliveries.
func (nw *Network) route(from uint64, m *raftpb.Message) {
	to := m.GetTo()
	nw.mu.Lock()
	nw.sent++
	e, ok := nw.ends[to]
	if !ok || !nw.linked(from, to) || nw.rng.Float64() < nw.faults.Drop {
		nw.dropped++
		nw.mu.Unlock()
		return
	}
	copies := 1
	if nw.rng.Float64() < nw.faults.Duplicate && (m.GetType() != raftpb.MsgProp || nw.faults.DuplicateProposals) {
		copies = 2
		nw.duplicated++
	}
	var out []*raftpb.Message
	for range copies {
		c := proto.Clone(m).(*raftpb.Message)
		if nw.rng.Float64() < nw.faults.Delay {
			nw.delayed++
			e.held = append(e.held, c)
			e.holdFor = append(e.holdFor, 1+nw.rng.IntN(nw.faults.MaxDelay))
			continue
		}
		out = append(out, c)
	}
	// Each message sent to this member ages the held ones; those whose
	// time has come go out after it, so they arrive out of order.
	keep, keepFor := e.held[:0], e.holdFor[:0]
	for i, h := range e.held {
		if e.holdFor[i]--; e.holdFor[i] <= 0 {
			out = append(out, h)
		} else {
			keep, keepFor = append(keep, h), append(keepFor, e.holdFor[i])
		}
	}
	e.held, e.holdFor = keep, keepFor
	nw.mu.Unlock()
	for _, c := range out {
		nw.deliver(to, c)
	}
}

func (nw *Network) deliver(to uint64, m *raftpb.Message) {
	nw.mu.Lock()
	e, ok := nw.ends[to]
	nw.mu.Unlock()
	if ok {
		e.push(m)
	}
}

// endpoint is a started member's inbox: an unbounded queue drained by one
// goroutine, so that senders never block.
type endpoint struct {
	id      uint64
	h       raft.Handler
	held    []*raftpb.Message // delayed; guarded by Network.mu
	holdFor []int

	mu     sync.Mutex
	queue  []*raftpb.Message
	signal chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (e *endpoint) push(m *raftpb.Message) {
	e.mu.Lock()
	e.queue = append(e.queue, m)
	e.mu.Unlock()
	select {
	case e.signal <- struct{}{}:
	default:
	}
}

func (e *endpoint) run() {
	defer e.wg.Done()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-e.signal:
		}
		e.mu.Lock()
		q := e.queue
		e.queue = nil
		e.mu.Unlock()
		for _, m := range q {
			if e.h.Process(e.ctx, m) != nil {
				return
			}
		}
	}
}

// transport is one member's view of the Network.
type transport struct {
	nw *Network
	id uint64
	e  *endpoint
}

func (t *transport) Start(h raft.Handler) error {
	ctx, cancel := context.WithCancel(context.Background())
	e := &endpoint{id: t.id, h: h, signal: make(chan struct{}, 1), ctx: ctx, cancel: cancel}
	t.e = e
	t.nw.mu.Lock()
	t.nw.ends[t.id] = e
	t.nw.mu.Unlock()
	e.wg.Add(1)
	go e.run()
	return nil
}

func (t *transport) Send(msgs []*raftpb.Message) {
	for _, m := range msgs {
		if m.GetType() == raftpb.MsgSnap {
			t.e.wg.Add(1)
			go t.sendSnapshot(proto.Clone(m).(*raftpb.Message))
			continue
		}
		t.nw.route(t.id, m)
	}
}

// sendSnapshot streams a snapshot from this member's store straight into
// the recipient's, unless the link is cut.
func (t *transport) sendSnapshot(m *raftpb.Message) {
	defer t.e.wg.Done()
	failed := true
	defer func() { t.e.h.ReportSnapshot(m.GetTo(), failed) }()
	t.nw.mu.Lock()
	dst, ok := t.nw.ends[m.GetTo()]
	ok = ok && t.nw.linked(t.id, m.GetTo())
	t.nw.mu.Unlock()
	if !ok {
		return
	}
	rc, _, err := t.e.h.OpenSnapshot(m)
	if err != nil {
		return
	}
	defer rc.Close()
	if err := dst.h.ReceiveSnapshot(dst.ctx, m, rc); err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, rc)
	failed = false
}

func (t *transport) AddPeer(uint64, string) {}
func (t *transport) RemovePeer(uint64)      {}
func (t *transport) Addr() string           { return "" }

func (t *transport) Close() error {
	if t.e == nil {
		return nil
	}
	t.nw.mu.Lock()
	if t.nw.ends[t.id] == t.e {
		delete(t.nw.ends, t.id)
	}
	t.nw.mu.Unlock()
	t.e.cancel()
	t.e.wg.Wait()
	return nil
}
