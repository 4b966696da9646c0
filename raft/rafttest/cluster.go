package rafttest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/wal"
	"github.com/governor-io/governor/raft/wal/waltest"
	"github.com/governor-io/governor/store/kv"
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
	// in real time, the cluster ticks by itself (see [Cluster.Tick]). Zero
	// means 10ms and 2ms.
	TickInterval, TickEvery time.Duration
	// ManualTicks stops the cluster from ticking by itself: the test
	// moves its logical time with [Cluster.Tick], so that whatever it
	// schedules by tick happens at the same tick in every run.
	ManualTicks bool
	// ElectionTicks is the members' election timeout. Zero means 30: long
	// enough that a busy test machine (the race detector, two cores) does
	// not cause spurious elections, which drop forwarded proposals.
	ElectionTicks int
	// Configure, when set, adjusts each member's Config before Open.
	Configure func(*raft.Config)
}

// Cluster is a set of members on one [Network], with one fake clock for
// their ticks. Each member keeps its data directory on its own in-memory
// file system ([Cluster.FS]), WAL and snapshots alike, so that
// [Cluster.Crash] loses what the member had not synced. Create it with
// [NewCluster]; it closes with the test.
type Cluster struct {
	T     testing.TB
	Net   *Network
	Clock *clocktest.Fake
	opts  Options
	root  string

	tickMu sync.Mutex // serialises Tick

	mu      sync.Mutex
	nodes   map[uint64]*raft.Node
	ticks   map[uint64]chan struct{}
	disks   map[uint64]*waltest.MemFS
	fsys    map[uint64]wal.FS // what each member was last started on
	dying   sync.WaitGroup    // crashed members still shutting down
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
		ticks: map[uint64]chan struct{}{},
		disks: map[uint64]*waltest.MemFS{},
		fsys:  map[uint64]wal.FS{},
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
	if opts.ManualTicks {
		close(c.done)
	} else {
		go c.tick()
	}
	t.Cleanup(c.Close)
	return c
}

// tick ticks the cluster every TickEvery of real time: the pace of the
// cluster's logical time, not a synchronisation.
func (c *Cluster) tick() {
	defer close(c.done)
	tk := time.NewTicker(c.opts.TickEvery)
	defer tk.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-tk.C:
			c.Tick()
		}
	}
}

// Tick moves the cluster's logical time one tick forward: the fake clock
// steps by TickInterval, and every running member, in ID order, takes
// one tick. It returns once each has taken it (or stopped), so members
// never skip a tick however slow they are. Unless [Options.ManualTicks]
// is set the cluster calls it by itself.
func (c *Cluster) Tick() {
	c.tickMu.Lock()
	defer c.tickMu.Unlock()
	c.Clock.Step(c.opts.TickInterval)
	c.mu.Lock()
	ids := make([]uint64, 0, len(c.nodes))
	for id := range c.nodes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	type target struct {
		n  *raft.Node
		ch chan struct{}
	}
	targets := make([]target, 0, len(ids))
	for _, id := range ids {
		targets = append(targets, target{c.nodes[id], c.ticks[id]})
	}
	c.mu.Unlock()
	for _, tg := range targets {
		select {
		case tg.ch <- struct{}{}:
		case <-tg.n.Done():
		case <-c.stop:
			return
		}
	}
}

type startMode int

const (
	bootstrap startMode = iota
	join
	restart
)

func (c *Cluster) config(id uint64, mode startMode, ticks chan struct{}) raft.Config {
	c.mu.Lock()
	disk := c.disks[id]
	if disk == nil {
		disk = waltest.NewMemFS()
		c.disks[id] = disk
	}
	c.mu.Unlock()
	cfg := raft.Config{
		ID:             id,
		Dir:            c.Dir(id),
		Transport:      c.Net.Transport(id),
		Clock:          c.Clock,
		Ticks:          ticks,
		TickInterval:   c.opts.TickInterval,
		ElectionTicks:  c.opts.ElectionTicks,
		HeartbeatTicks: 2,
		Join:           mode == join,
	}
	// Small segments keep restarts fast: recovery reads whole segments.
	cfg.WAL.SegmentSize = 1 << 20
	cfg.WAL.FS = disk
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
	// A crashed member finishes dying before it comes back.
	c.dying.Wait()
	ticks := make(chan struct{})
	cfg := c.config(id, mode, ticks)
	n, err := raft.Open(ctx, cfg)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.nodes[id] = n
	c.ticks[id] = ticks
	c.fsys[id] = cfg.WAL.FS
	c.mu.Unlock()
	return nil
}

// Dir returns member id's data directory: a path unique to the cluster,
// on [Cluster.FS] (or on the disk, if [Options.Configure] sets WAL.FS to
// the operating system's).
func (c *Cluster) Dir(id uint64) string {
	return filepath.Join(c.root, fmt.Sprintf("member-%d", id))
}

// FS returns the in-memory file system that holds member id's data
// directory (unless [Options.Configure] gave it another WAL.FS). It stays
// across crashes and restarts.
func (c *Cluster) FS(id uint64) *waltest.MemFS {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.disks[id]
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

// crasher is a file system that can lose what was not synced, as
// [waltest.MemFS] does.
type crasher interface{ Crash() }

// tornCrasher is a file system that can crash in the middle of writing
// back, as [waltest.MemFS.CrashTorn] does.
type tornCrasher interface{ CrashTorn(*rand.Rand) }

// Crash kills member id as its process would die: its file system loses
// at once every byte and directory entry the member had not synced (when
// that file system can crash, as the default [Cluster.FS] can), and the
// member can neither read nor write its files from then on. It stops
// taking ticks, and shuts down (its requests in flight fail) in the
// background: Crash does not wait for a member stuck in a write.
// [Cluster.Restart] brings it back from what survived.
func (c *Cluster) Crash(id uint64) { c.crash(id, nil) }

// CrashTorn is [Cluster.Crash] where the disk had written back part of
// what the member had not synced: the file system crashes with
// [waltest.MemFS.CrashTorn], its choices made by r, so the member may
// restart from a WAL that ends in a torn record.
func (c *Cluster) CrashTorn(id uint64, r *rand.Rand) { c.crash(id, r) }

func (c *Cluster) crash(id uint64, r *rand.Rand) {
	c.mu.Lock()
	n := c.nodes[id]
	fsys := c.fsys[id]
	delete(c.nodes, id)
	delete(c.ticks, id)
	c.mu.Unlock()
	if n == nil {
		return
	}
	if tc, ok := fsys.(tornCrasher); ok && r != nil {
		tc.CrashTorn(r)
	} else if cr, ok := fsys.(crasher); ok {
		cr.Crash()
	}
	c.dying.Add(1)
	go func() {
		defer c.dying.Done()
		n.Close()
	}()
}

// closeMember closes member id cleanly: it syncs and closes its files.
func (c *Cluster) closeMember(id uint64) {
	c.mu.Lock()
	n := c.nodes[id]
	delete(c.nodes, id)
	delete(c.ticks, id)
	c.mu.Unlock()
	if n != nil {
		n.Close()
	}
}

// Restart starts member id again from its data directory, after a crashed
// member has finished shutting down.
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
		c.closeMember(id)
	}
	c.dying.Wait()
}

var rangeProbe = kv.RangeRequest{Key: "/rafttest/probe"}
