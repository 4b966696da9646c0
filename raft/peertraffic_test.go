package raft_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/raft"
	raftprom "github.com/governor-io/governor/raft/prommetrics"
	"github.com/governor-io/governor/store/kv"
)

// entryLog remembers which entries (index and term) each member was
// sent, and counts the bytes of those it had never been sent: what it
// lacked, the log's growth as it sees it.
type entryLog struct {
	mu       sync.Mutex
	seen     map[[3]uint64]bool // to, index, term
	counting bool
	fresh    map[uint64]int // by recipient, once counting
}

func newEntryLog() *entryLog {
	return &entryLog{seen: map[[3]uint64]bool{}, fresh: map[uint64]int{}}
}

func (l *entryLog) sent(msgs []*raftpb.Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range msgs {
		for _, e := range m.GetEntries() {
			k := [3]uint64{m.GetTo(), e.GetIndex(), e.GetTerm()}
			if !l.seen[k] && l.counting {
				l.fresh[m.GetTo()] += proto.Size(e)
			}
			l.seen[k] = true
		}
	}
}

func (l *entryLog) start() {
	l.mu.Lock()
	l.counting = true
	l.mu.Unlock()
}

func (l *entryLog) freshBytes(to uint64) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fresh[to]
}

// peerBytes sums etcd_network_peer_sent_bytes_total{To=to} over regs.
func peerBytes(t *testing.T, regs map[uint64]*prometheus.Registry, to uint64) float64 {
	t.Helper()
	sum := 0.0
	for _, reg := range regs {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "etcd_network_peer_sent_bytes_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, lp := range m.GetLabel() {
					if lp.GetName() == "To" && lp.GetValue() == fmt.Sprintf("%x", to) {
						sum += m.GetCounter().GetValue()
					}
				}
			}
		}
	}
	return sum
}

// pausable wraps a member's transport so that the member can be frozen
// as SIGSTOP freezes a process: while paused it reads nothing (its
// inbound connections back up, as a stopped process's sockets do) and
// sends nothing; on resume it sends what it held and reads its backlog.
type pausable struct {
	raft.Transport
	log  *entryLog
	mu   sync.Mutex
	run  chan struct{} // closed while running
	held []*raftpb.Message
}

func (p *pausable) Start(h raft.Handler) error {
	return p.Transport.Start(pausedHandler{Handler: h, p: p})
}

func (p *pausable) Send(msgs []*raftpb.Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.run:
	default:
		for _, m := range msgs {
			p.held = append(p.held, proto.Clone(m).(*raftpb.Message))
		}
		return
	}
	p.log.sent(msgs)
	p.Transport.Send(msgs)
}

func (p *pausable) pause() {
	p.mu.Lock()
	p.run = make(chan struct{})
	p.mu.Unlock()
}

func (p *pausable) resume() {
	p.mu.Lock()
	held := p.held
	p.held = nil
	close(p.run)
	p.mu.Unlock()
	p.log.sent(held)
	p.Transport.Send(held)
}

func (p *pausable) running() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.run
}

type pausedHandler struct {
	raft.Handler
	p *pausable
}

func (h pausedHandler) Process(ctx context.Context, m *raftpb.Message) error {
	select {
	case <-h.p.running():
	case <-ctx.Done():
		return ctx.Err()
	}
	return h.Handler.Process(ctx, m)
}

// TestPeerTrafficThroughLeaderPause pauses the leader of a three-member
// TCP cluster under a read and write load, as SIGSTOP would, until
// another member leads and the log has grown, then resumes it. The
// resumed member, now a follower, must be sent about what it lacks: the
// entry bytes sent to it stay within a small multiple of the entries it
// had never been sent.
func TestPeerTrafficThroughLeaderPause(t *testing.T) {
	ctx := ctxFor(t, 2*time.Minute)
	root := t.TempDir()
	elog := newEntryLog()
	regs := map[uint64]*prometheus.Registry{}
	const size = 3
	var members []raft.Member
	trs := map[uint64]*pausable{}
	for i := uint64(1); i <= size; i++ {
		regs[i] = prometheus.NewRegistry()
		met, err := raftprom.New(regs[i])
		if err != nil {
			t.Fatal(err)
		}
		tcp, err := raft.NewTCPTransport(raft.TCPConfig{ID: i, ListenAddr: "127.0.0.1:0", Metrics: met})
		if err != nil {
			t.Fatal(err)
		}
		run := make(chan struct{})
		close(run)
		trs[i] = &pausable{Transport: tcp, log: elog, run: run}
		members = append(members, raft.Member{ID: i, PeerAddr: tcp.Addr()})
	}
	clocks := map[uint64]*clocktest.Fake{}
	nodes := map[uint64]*raft.Node{}
	for i := uint64(1); i <= size; i++ {
		clocks[i] = clocktest.New(time.Unix(1, 0))
		n, err := raft.Open(ctx, raft.Config{
			ID: i, Dir: filepath.Join(root, fmt.Sprint(i)), InitialCluster: members,
			Transport: trs[i], Clock: clocks[i], TickInterval: 10 * time.Millisecond,
			ElectionTicks: 50, HeartbeatTicks: 5,
		})
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = n
		t.Cleanup(func() { n.Close() })
	}
	// Each running member's clock moves one tick every 2ms of real time:
	// the pace of logical time. A paused member's clock stands still.
	var frozen atomic.Uint64
	stopTick := make(chan struct{})
	tickDone := make(chan struct{})
	go func() {
		defer close(tickDone)
		tk := time.NewTicker(2 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stopTick:
				return
			case <-tk.C:
				for id, c := range clocks {
					if id != frozen.Load() {
						c.Step(10 * time.Millisecond)
					}
				}
			}
		}
	}()
	defer func() { close(stopTick); <-tickDone }()

	leadID, err := nodes[1].WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nodes[leadID].Range(ctx, kv.RangeRequest{Key: "/probe"}); err != nil {
		t.Fatal(err)
	}
	var others []*raft.Node
	for id, n := range nodes {
		if id != leadID {
			others = append(others, n)
		}
	}

	// Load: writers and readers on the members that stay up. An
	// operation stalls while there is no leader; its deadline ends it.
	var writes atomic.Int64
	progress := make(chan struct{}, 1)
	stopLoad := make(chan struct{})
	var wg sync.WaitGroup
	value := make([]byte, 1024)
	for w := range 4 {
		n := others[w%len(others)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stopLoad:
					return
				default:
				}
				octx, cancel := context.WithTimeout(ctx, time.Second)
				_, err := kv.Put(octx, n, fmt.Sprintf("/load/%d/%d", w, i%64), value)
				cancel()
				if err == nil {
					writes.Add(1)
					select {
					case progress <- struct{}{}:
					default:
					}
				}
			}
		}()
	}
	for r := range 8 {
		n := others[r%len(others)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stopLoad:
					return
				default:
				}
				octx, cancel := context.WithTimeout(ctx, time.Second)
				_, _ = n.Range(octx, kv.RangeRequest{Key: "/load/0/0"})
				cancel()
			}
		}()
	}
	defer func() { close(stopLoad); wg.Wait() }()
	waitWrites := func(k int64) {
		t.Helper()
		target := writes.Load() + k
		for writes.Load() < target {
			select {
			case <-progress:
			case <-ctx.Done():
				t.Fatalf("load stalled at %d writes", writes.Load())
			}
		}
	}
	waitWrites(100)

	// Pause the leader until another member leads and the log grew.
	elog.start()
	before := peerBytes(t, regs, leadID)
	changed := others[0].LeaderChanged()
	trs[leadID].pause()
	frozen.Store(leadID)
	for {
		if l := others[0].Leader(); l != 0 && l != leadID {
			break
		}
		select {
		case <-changed:
			changed = others[0].LeaderChanged()
		case <-ctx.Done():
			t.Fatal("no new leader while the old one is paused")
		}
	}
	waitWrites(300)
	// Resume it; it must catch up (a linearizable read through it waits
	// for that), and the load goes on a while.
	frozen.Store(0)
	trs[leadID].resume()
	if _, err := nodes[leadID].Range(ctx, kv.RangeRequest{Key: "/probe"}); err != nil {
		t.Fatal(err)
	}
	waitWrites(300)

	sent := peerBytes(t, regs, leadID) - before
	lacked := elog.freshBytes(leadID)
	t.Logf("sent to the paused member: %.0f bytes; the entries it lacked: %d bytes", sent, lacked)
	if sent == 0 || lacked == 0 {
		t.Fatal("no traffic counted: etcd_network_peer_sent_bytes_total missing, or nothing written")
	}
	// Room for the entries it lacked, one resent append or two (the
	// leader probes where the logs diverge) and the heartbeats.
	const slack = 512 << 10
	if limit := 3*lacked + slack; sent > float64(limit) {
		t.Errorf("the paused member was sent %.0f bytes, more than %d (3x the %d bytes of entries it lacked, plus %d)", sent, limit, lacked, slack)
	}
}
