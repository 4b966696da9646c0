package raft_test

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/rafttest"
	"github.com/governor-io/governor/store/kv"
)

// compactWatch records what the compaction hooks of a member report.
type compactWatch struct {
	checked chan time.Time
	applied chan int64
}

func watchCompaction(cfg *raft.Config, proposed func(rev int64)) *compactWatch {
	w := &compactWatch{checked: make(chan time.Time, 1024), applied: make(chan int64, 1024)}
	raft.SetCompactionHooks(cfg,
		func(now time.Time) {
			select {
			case w.checked <- now:
			default:
			}
		},
		proposed,
		func(rev int64) { w.applied <- rev })
	return w
}

func recvCtx[T any](t *testing.T, ctx context.Context, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("waiting for %s: %v", what, ctx.Err())
		panic("unreachable")
	}
}

// openFakeClock opens a single member whose ticks come from clk alone.
func openFakeClock(t *testing.T, clk *clocktest.Fake, configure func(*raft.Config)) *raft.Node {
	t.Helper()
	cfg := raft.Config{
		ID:             1,
		Dir:            t.TempDir(),
		InitialCluster: []raft.Member{{ID: 1, PeerAddr: "127.0.0.1:0"}},
		Clock:          clk,
		TickInterval:   100 * time.Millisecond,
	}
	configure(&cfg)
	n, err := raft.Open(ctxFor(t, time.Minute), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if _, err := n.WaitLeader(ctxFor(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	return n
}

func putN(t *testing.T, ctx context.Context, n kv.KV, prefix string, count int) int64 {
	t.Helper()
	var rev int64
	for i := range count {
		r, err := kv.Put(ctx, n, fmt.Sprintf("%s%d", prefix, i), []byte("v"))
		if err != nil {
			t.Fatal(err)
		}
		rev = r
	}
	return rev
}

// TestAutoCompactionByAge checks, on a fake clock, that the leader
// compacts to the revision it had CompactionRetention ago, no sooner, and
// proposes nothing while history is no older than that.
func TestAutoCompactionByAge(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	clk := clocktest.New(time.Unix(0, 0))
	var w *compactWatch
	n := openFakeClock(t, clk, func(cfg *raft.Config) {
		cfg.CompactionRetention = time.Second
		cfg.CompactionRevisions = -1
		w = watchCompaction(cfg, nil)
	})
	step := func() time.Time {
		t.Helper()
		clk.Step(100 * time.Millisecond)
		return recvCtx(t, ctx, w.checked, "a compaction check")
	}
	r1 := putN(t, ctx, n, "/a/", 5)
	start := step() // the first sample: r1
	r2 := putN(t, ctx, n, "/b/", 5)
	for now := step(); now.Sub(start) < time.Second; now = step() {
		// Later samples, all of r2 (the first one, of r1, is not a second
		// old yet).
		if len(w.applied) > 0 {
			t.Fatalf("compacted at %v, %v after the first sample", <-w.applied, now.Sub(start))
		}
	}
	if got := recvCtx(t, ctx, w.applied, "the compaction to r1"); got != r1 {
		t.Fatalf("compacted to %d, want %d (the revision a second ago)", got, r1)
	}
	step()
	if got := recvCtx(t, ctx, w.applied, "the compaction to r2"); got != r2 {
		t.Fatalf("compacted to %d, want %d", got, r2)
	}
	if got := n.Engine().CompactRevision(); got != r2 {
		t.Fatalf("engine compacted to %d, want %d", got, r2)
	}
	// Nothing written since: nothing more to compact.
	for range 15 {
		step()
	}
	putN(t, ctx, n, "/barrier/", 1) // applied after anything proposed before
	if len(w.applied) > 0 {
		t.Fatalf("compacted again to %d with no new history", <-w.applied)
	}
}

// TestAutoCompactionProposedByLeaderAppliedByAll checks that only the
// leader proposes compactions, that every member applies them, and that
// a new leader goes on compacting.
func TestAutoCompactionProposedByLeaderAppliedByAll(t *testing.T) {
	ctx := ctxFor(t, 2*time.Minute)
	var mu sync.Mutex
	type proposal struct {
		id  uint64
		rev int64
	}
	var proposals []proposal
	watches := map[uint64]*compactWatch{}
	c := rafttest.NewCluster(t, rafttest.Options{Configure: func(cfg *raft.Config) {
		id := cfg.ID
		cfg.CompactionRetention = -1
		cfg.CompactionRevisions = 50
		w := watchCompaction(cfg, func(rev int64) {
			mu.Lock()
			proposals = append(proposals, proposal{id, rev})
			mu.Unlock()
		})
		mu.Lock()
		watches[id] = w
		mu.Unlock()
	}})
	lead, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitAll := func(above int64) int64 {
		t.Helper()
		var got int64
		for id := range c.Nodes() {
			mu.Lock()
			w := watches[id]
			mu.Unlock()
			for {
				rev := recvCtx(t, ctx, w.applied, fmt.Sprintf("a compaction on member %d", id))
				if rev > above {
					got = max(got, rev)
					break
				}
			}
		}
		return got
	}
	takeProposals := func() []proposal {
		mu.Lock()
		defer mu.Unlock()
		p := proposals
		proposals = nil
		return p
	}

	last := putN(t, ctx, lead, "/one/", 120)
	first := waitAll(0)
	if first < last-120 || first > last-50 {
		t.Fatalf("compacted to %d at revision %d, want a revision that keeps 50 to 55", first, last)
	}
	for _, p := range takeProposals() {
		if p.id != lead.ID() {
			t.Fatalf("member %d, not the leader %d, proposed a compaction to %d", p.id, lead.ID(), p.rev)
		}
	}

	next := c.Follower(lead)
	if err := lead.TransferLeadership(ctx, next.ID()); err != nil {
		t.Fatal(err)
	}
	takeProposals()
	last = putN(t, ctx, next, "/two/", 120)
	second := waitAll(first)
	ps := takeProposals()
	if len(ps) == 0 {
		t.Fatal("no proposal recorded for the second compaction")
	}
	for _, p := range ps {
		if p.id != next.ID() {
			t.Fatalf("member %d, not the new leader %d, proposed a compaction to %d", p.id, next.ID(), p.rev)
		}
	}
	// A write through each member is applied after the compactions.
	for id, m := range c.Nodes() {
		if _, err := kv.Put(ctx, m, "/barrier", []byte("1")); err != nil {
			t.Fatal(err)
		}
		if got := m.Engine().CompactRevision(); got < second {
			t.Fatalf("member %d compacted to %d, want at least %d (revision %d)", id, got, second, last)
		}
	}
}

// TestAutoCompactionBoundsHistory is a soak: a lease renewed and fifty
// objects updated, over twenty minutes of a fake clock with the default
// compaction settings, keep a bounded history, snapshot and heap rather
// than ones that grow with every update.
func TestAutoCompactionBoundsHistory(t *testing.T) {
	ctx := ctxFor(t, 2*time.Minute)
	clk := clocktest.New(time.Unix(0, 0))
	var w *compactWatch
	n := openFakeClock(t, clk, func(cfg *raft.Config) { w = watchCompaction(cfg, nil) })
	const (
		rounds    = 20
		perRound  = 500 // updates per fake minute
		objects   = 50
		writers   = 8
		valueSize = 200
	)
	val := make([]byte, valueSize)
	type sample struct {
		history     int64 // revisions kept
		snapBytes   int64
		heapInUseKB uint64
	}
	var samples []sample
	for round := range rounds {
		var wg sync.WaitGroup
		errc := make(chan error, writers)
		for g := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := g; i < perRound; i += writers {
					key := fmt.Sprintf("/registry/pods/default/p%02d", i%objects)
					if i%objects == 0 {
						key = "/registry/leases/kube-system/controller"
					}
					if _, err := kv.Put(ctx, n, key, val); err != nil {
						errc <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		clk.Step(time.Minute)
		recvCtx(t, ctx, w.checked, "a compaction check")
		putN(t, ctx, n, "/barrier/", 1) // after any compaction proposed
		v, err := n.Engine().View()
		if err != nil {
			t.Fatal(err)
		}
		size, err := v.WriteTo(io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		e := n.Engine()
		samples = append(samples, sample{e.Revision() - e.CompactRevision(), size, ms.HeapInuse >> 10})
		_ = round
	}
	t.Logf("per fake minute (history revisions, snapshot bytes, heap in use KiB): %v", samples)
	// Five minutes of retention, sampled every 30 s and checked once a
	// minute here: at most 7 minutes of updates stay.
	limit := int64(7*perRound + 10)
	for i, s := range samples {
		if s.history > limit {
			t.Fatalf("minute %d: %d revisions of history, want at most %d", i+1, s.history, limit)
		}
	}
	if a, b := samples[7].snapBytes, samples[rounds-1].snapBytes; b > a+a/4 {
		t.Fatalf("snapshot grew from %d bytes at minute 8 to %d at minute %d", a, b, rounds)
	}
}

// TestAutoCompactionNewLeaderContinuesByAge checks that followers sample
// their revision too, so that a new leader compacts by age at once rather
// than after a whole retention period of its own.
func TestAutoCompactionNewLeaderContinuesByAge(t *testing.T) {
	ctx := ctxFor(t, 2*time.Minute)
	const (
		tick      = 10 * time.Millisecond
		retention = 100 * tick // samples every 10 ticks
	)
	var mu sync.Mutex
	proposed := map[uint64]int{}
	c := rafttest.NewCluster(t, rafttest.Options{ManualTicks: true, TickInterval: tick, Configure: func(cfg *raft.Config) {
		id := cfg.ID
		cfg.CompactionRetention = retention
		cfg.CompactionRevisions = -1
		watchCompaction(cfg, func(int64) {
			mu.Lock()
			proposed[id]++
			mu.Unlock()
		})
	}})
	if err := c.Node(1).Campaign(ctx); err != nil {
		t.Fatal(err)
	}
	lead, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A write a tick through the first leader for one and a half
	// retention periods: every member has samples older than that.
	for i := range 150 {
		putN(t, ctx, lead, fmt.Sprintf("/w/%d/", i), 1)
		c.Tick()
	}
	mu.Lock()
	first := proposed[lead.ID()]
	mu.Unlock()
	if first == 0 {
		t.Fatal("the first leader proposed no compaction")
	}
	next := c.Follower(lead)
	if err := lead.TransferLeadership(ctx, next.ID()); err != nil {
		t.Fatal(err)
	}
	for ticks := 1; ; ticks++ {
		putN(t, ctx, next, fmt.Sprintf("/x/%d/", ticks), 1)
		c.Tick()
		mu.Lock()
		n := proposed[next.ID()]
		mu.Unlock()
		if n > 0 {
			// Its samples go back past the retention: its first check
			// with a write newer than the last compaction proposes one.
			if ticks > 30 {
				t.Fatalf("the new leader first compacted %d ticks after it was elected, want well under the retention (%d ticks)", ticks, retention/tick)
			}
			return
		}
		if ticks > 300 {
			t.Fatal("the new leader proposed no compaction")
		}
	}
}
