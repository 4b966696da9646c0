package rafttest

import (
	"context"
	"fmt"
	"github.com/governor-io/governor/store/kv"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/raft"
)

// Options configure a [Cluster]. The zero value is a three-member cluster
// on a fault-free network with seed 1.
type Options struct {
	// Members is the number of founding members (IDs 1..Members). Zero
	// means 3.
	Members int
	// Seed seeds the network's faults.
	Seed uint64
	// TickInterval is the fake length of a tick; TickEvery is how often,
	// in real time, the cluster's clock moves forward by one tick. Zero
	// means 10ms and 2ms.
	TickInterval, TickEvery time.Duration
	// ElectionTicks is the members' election timeout. Zero means 30: long
	// enough that a busy test machine (the race detector, two cores) does
	// not cause spurious elections, which drop forwarded proposals.
	ElectionTicks int
	// Configure, when set, adjusts each member's Config before Open.
	Configure func(*raft.Config)
}

// Cluster is a set of members on one [Network], with one fake clock for
// their ticks. Create it with [NewCluster]; it closes with the test.
type Cluster struct {
	T     testing.TB
	Net   *Network
	Clock *clocktest.Fake
	opts  Options
	root  string

	mu      sync.Mutex
	nodes   map[uint64]*raft.Node
	members []raft.Member

	stop chan struct{}
	done chan struct{}
}

// NewCluster starts a cluster of opts.Members founding members and a
// goroutine that ticks their clock. It registers Close with t.Cleanup.
func NewCluster(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Members <= 0 {
		opts.Members = 3
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.TickInterval <= 0 {
		opts.TickInterval = 10 * time.Millisecond
	}
	if opts.TickEvery <= 0 {
		opts.TickEvery = 2 * time.Millisecond
	}
	if opts.ElectionTicks <= 0 {
		opts.ElectionTicks = 30
	}
	c := &Cluster{
		T:     t,
		Net:   NewNetwork(opts.Seed),
		Clock: clocktest.New(time.Unix(1, 0)),
		opts:  opts,
		root:  t.TempDir(),
		nodes: map[uint64]*raft.Node{},
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	for i := 1; i <= opts.Members; i++ {
		c.members = append(c.members, raft.Member{ID: uint64(i), PeerAddr: fmt.Sprintf("member-%d", i), ClientAddr: fmt.Sprintf("client-%d", i)})
	}
	for _, m := range c.members {
		if err := c.start(m.ID, bootstrap); err != nil {
			c.Close()
			t.Fatalf("rafttest: start member %d: %v", m.ID, err)
		}
	}
	go c.tick()
	t.Cleanup(c.Close)
	return c
}

// tick moves the fake clock one tick forward every TickEvery of real time:
// the pace of the cluster's logical time, not a synchronisation.
func (c *Cluster) tick() {
	defer close(c.done)
	tk := time.NewTicker(c.opts.TickEvery)
	defer tk.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-tk.C:
			c.Clock.Step(c.opts.TickInterval)
		}
	}
}

type startMode int

const (
	bootstrap startMode = iota
	join
	restart
)

func (c *Cluster) config(id uint64, mode startMode) raft.Config {
	cfg := raft.Config{
		ID:             id,
		Dir:            filepath.Join(c.root, fmt.Sprintf("member-%d", id)),
		Transport:      c.Net.Transport(id),
		Clock:          c.Clock,
		TickInterval:   c.opts.TickInterval,
		ElectionTicks:  c.opts.ElectionTicks,
		HeartbeatTicks: 2,
		Join:           mode == join,
	}
	// Small segments keep restarts fast: recovery reads whole segments.
	cfg.WAL.SegmentSize = 1 << 20
	if mode == bootstrap {
		cfg.InitialCluster = c.members
	}
	if c.opts.Configure != nil {
		c.opts.Configure(&cfg)
	}
	return cfg
}

func (c *Cluster) start(id uint64, mode startMode) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := raft.Open(ctx, c.config(id, mode))
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.nodes[id] = n
	c.mu.Unlock()
	return nil
}

// Node returns member id, or nil while it is down.
func (c *Cluster) Node(id uint64) *raft.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[id]
}

// Nodes returns the running members by ID.
func (c *Cluster) Nodes() map[uint64]*raft.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[uint64]*raft.Node, len(c.nodes))
	for id, n := range c.nodes {
		out[id] = n
	}
	return out
}

// Follower returns the running member with the lowest ID other than
// lead, or nil when lead runs alone. The choice is the same in every run
// of a seeded test, unlike a pick from [Cluster.Nodes].
func (c *Cluster) Follower(lead *raft.Node) *raft.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	var fol *raft.Node
	for id, n := range c.nodes {
		if id != lead.ID() && (fol == nil || id < fol.ID()) {
			fol = n
		}
	}
	return fol
}

// Leader waits until a running member leads, as its peers agree, and
// returns it.
func (c *Cluster) Leader(ctx context.Context) (*raft.Node, error) {
	for {
		nodes := c.Nodes()
		changed := make([]<-chan struct{}, 0, len(nodes))
		for _, n := range nodes {
			changed = append(changed, n.LeaderChanged())
		}
		for _, n := range nodes {
			if !n.IsLeader() {
				continue
			}
			// A deposed leader may still think it leads; make sure it can
			// reach a quorum by asking for a read index.
			rctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			_, err := n.Range(rctx, rangeProbe)
			cancel()
			if err == nil && n.IsLeader() {
				return n, nil
			}
		}
		if err := waitAny(ctx, changed); err != nil {
			return nil, fmt.Errorf("rafttest: no leader: %w", err)
		}
	}
}

// waitAny waits until one of chans is closed, or ctx is done.
func waitAny(ctx context.Context, chans []<-chan struct{}) error {
	done := make(chan struct{})
	stop := make(chan struct{})
	defer close(stop)
	for _, ch := range chans {
		go func() {
			select {
			case <-ch:
				select {
				case done <- struct{}{}:
				case <-stop:
				}
			case <-stop:
			}
		}()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Crash stops member id abruptly: requests in flight fail, and whatever
// it had not fsynced is lost, as in a crash. Its data directory stays.
func (c *Cluster) Crash(id uint64) {
	c.mu.Lock()
	n := c.nodes[id]
	delete(c.nodes, id)
	c.mu.Unlock()
	if n != nil {
		n.Close()
	}
}

// Restart starts member id again from its data directory.
func (c *Cluster) Restart(id uint64) error { return c.start(id, restart) }

// Join starts a new, empty member that waits to be contacted by the
// cluster, which must already have added it.
func (c *Cluster) Join(id uint64) error { return c.start(id, join) }

// Close stops every member and the clock.
func (c *Cluster) Close() {
	select {
	case <-c.stop:
		return
	default:
	}
	close(c.stop)
	<-c.done
	for id := range c.Nodes() {
		c.Crash(id)
	}
}

var rangeProbe = kv.RangeRequest{Key: "/rafttest/probe"}
