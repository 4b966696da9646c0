package raft_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/rafttest"
	"github.com/governor-io/governor/store/kv"
)

var (
	soak     = flag.Bool("raft.soak", false, "run the fault-injection tests over many seeds and longer histories")
	seedFlag = flag.Uint64("raft.seed", 0, "run the fault-injection tests with this seed only (0: the default seeds)")
	dupProps = flag.Bool("raft.dup-proposals", false, "let the fault-injection network duplicate forwarded proposals too (a member applies them twice)")
)

// history records operations with a logical clock that orders every call
// and return as they happened in real time.
type history struct {
	clock atomic.Int64
	mu    sync.Mutex
	ops   []porcupine.Operation
}

func (h *history) add(client int, in linInput, call int64, out linOutput, ret int64) {
	h.mu.Lock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
	h.mu.Unlock()
}

// linClient issues random operations of the model, each drawn from its
// own seeded source. It remembers what it last saw of each key, so that
// its compare-and-swaps and transactions compare against revisions and
// values that were real (and are often stale).
type linClient struct {
	id   int
	rng  *rand.Rand
	h    *history
	next *atomic.Int64 // the last value written by any client
	seen [linGroups][linKeysPer]linObs
}

func newLinClient(id int, seed uint64, h *history, next *atomic.Int64) *linClient {
	return &linClient{id: id, rng: rand.New(rand.NewPCG(seed, uint64(id))), h: h, next: next}
}

// draw picks the next operation. It draws the same number of values
// whatever the outcome of earlier operations.
func (cl *linClient) draw() linInput {
	in := linInput{group: cl.rng.IntN(linGroups), key: cl.rng.IntN(linKeysPer)}
	switch r := cl.rng.IntN(100); {
	case r < 30:
		in.kind = linGet
	case r < 50:
		in.kind = linPut
	case r < 60:
		in.kind = linDelete
	case r < 75:
		in.kind = linCASRev
	case r < 85:
		in.kind = linCASValue
	default:
		in.kind = linTxn
		in.key = 0
	}
	deleteOther := cl.rng.IntN(3) == 0
	seen := cl.seen[in.group][in.key]
	switch in.kind {
	case linPut, linCASRev, linCASValue:
		in.value = int(cl.next.Add(1))
	case linTxn:
		in.value = int(cl.next.Add(1))
		if !deleteOther {
			in.value2 = int(cl.next.Add(1))
		}
	}
	in.rev, in.expect = seen.modRev, seen.value
	return in
}

// op runs one operation against target and records it.
func (cl *linClient) op(ctx context.Context, target kv.KV) {
	in := cl.draw()
	opCtx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	call := cl.h.clock.Add(1)
	if in.kind == linGet {
		resp, err := target.Range(opCtx, kv.RangeRequest{Key: linPrefix(in.group), End: kv.PrefixEnd(linPrefix(in.group))})
		ret := cl.h.clock.Add(1)
		if err != nil {
			return // a failed read tells nothing
		}
		out := linOutput{succeeded: true, reads: linReads(in.group, resp.KVs), hasReads: true}
		cl.h.add(cl.id, in, call, out, ret)
		cl.seen[in.group] = out.reads
		return
	}
	resp, err := target.Txn(opCtx, linRequest(in))
	ret := cl.h.clock.Add(1)
	if err != nil {
		// The write may or may not have happened.
		cl.h.add(cl.id, in, call, linOutput{unknown: true}, math.MaxInt64)
		return
	}
	out := linResult(in, resp)
	cl.h.add(cl.id, in, call, out, ret)
	switch {
	case out.hasReads:
		cl.seen[in.group] = out.reads
	case in.kind == linDelete:
		cl.seen[in.group][in.key] = linObs{}
	case resp.Succeeded:
		cl.seen[in.group][in.key] = linObs{present: true, value: in.value, modRev: resp.Revision}
		if in.kind == linTxn {
			cl.seen[in.group][1] = linObs{present: in.value2 != 0, value: in.value2, modRev: resp.Revision}
			if in.value2 == 0 {
				cl.seen[in.group][1] = linObs{}
			}
		}
	}
}

// checkLinearizable fails t unless the history is linearizable.
func checkLinearizable(t *testing.T, ops []porcupine.Operation) {
	t.Helper()
	res, info := porcupine.CheckOperationsVerbose(linModel, ops, time.Minute)
	if res != porcupine.Ok {
		path := t.TempDir() + "/history.html"
		_ = porcupine.VisualizePath(linModel, info, path)
		t.Errorf("history of %d operations is not linearizable (%v); visualization in %s", len(ops), res, path)
		explainIllegal(t, ops, info)
		t.FailNow()
	}
}

// explainIllegal logs, for the longest partial linearization of each
// group that has no full one, its last operations and the operations
// that could come next but do not fit.
func explainIllegal(t *testing.T, ops []porcupine.Operation, info porcupine.LinearizationInfo) {
	t.Helper()
	byGroup := map[int][]porcupine.Operation{}
	for _, op := range ops {
		g := op.Input.(linInput).group
		byGroup[g] = append(byGroup[g], op)
	}
	desc := func(op porcupine.Operation) string {
		return fmt.Sprintf("client %d [%d,%d] %s", op.ClientId, op.Call, op.Return, linModel.DescribeOperation(op.Input, op.Output))
	}
	for g, partials := range info.PartialLinearizationsOperations() {
		longest := []porcupine.Operation{}
		for _, p := range partials {
			if len(p) > len(longest) {
				longest = p
			}
		}
		if len(partials) == 0 || len(longest) == len(byGroup[g]) {
			continue
		}
		t.Logf("group %d: %d of %d operations linearize; the last of them:", g, len(longest), len(byGroup[g]))
		for _, op := range longest[max(0, len(longest)-8):] {
			t.Logf("  %s", desc(op))
		}
		in := map[[2]int64]bool{}
		for _, op := range longest {
			in[[2]int64{op.Call, int64(op.ClientId)}] = true
		}
		var rest []porcupine.Operation
		for _, op := range byGroup[g] {
			if !in[[2]int64{op.Call, int64(op.ClientId)}] {
				rest = append(rest, op)
			}
		}
		slices.SortFunc(rest, func(a, b porcupine.Operation) int { return int(a.Call - b.Call) })
		t.Logf("group %d: the first operations left over:", g)
		for _, op := range rest[:min(len(rest), 8)] {
			t.Logf("  %s", desc(op))
		}
	}
}

// watchLog is what one logical watcher saw across members.
type watchLog struct {
	mu     sync.Mutex
	events []kv.Event
}

const watchPrefix = "/lin/"

// faultSeeds returns the seeds to run: -raft.seed alone, or a few (many
// with -raft.soak).
func faultSeeds() []uint64 {
	if *seedFlag != 0 {
		return []uint64{*seedFlag}
	}
	n := uint64(3)
	if *soak {
		n = 30
	}
	var seeds []uint64
	for s := uint64(1); s <= n; s++ {
		seeds = append(seeds, s)
	}
	return seeds
}

// TestLinearizableUnderFaults runs random client histories (reads, puts,
// deletes, compare-and-swaps on revision and on value, and two-key
// transactions) against a cluster whose network drops, duplicates, delays
// and reorders messages, while a seeded schedule partitions members (both
// ways and one way), crashes them (the leader too, mid-proposal; some with
// a torn WAL tail) with the loss of what they had not synced, and adds,
// promotes, removes and re-adds members. It checks the histories with
// porcupine, the watch history for order, gaps and duplicates, and that
// all members converge. The test drives the members' ticks, and every
// random choice comes from the seed, so a seed replays the same schedule
// at the same ticks: rerun a failure with -raft.seed.
func TestLinearizableUnderFaults(t *testing.T) {
	steps := 8
	if *soak {
		steps = 40
	}
	for _, seed := range faultSeeds() {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("reproduce with: go test -race -run 'TestLinearizableUnderFaults' ./raft -raft.seed=%d", seed)
				}
			})
			runFaultHistory(t, seed, steps)
		})
	}
}

// baseFaults are the message faults injected throughout a run.
func baseFaults() rafttest.Faults {
	return rafttest.Faults{Drop: 0.02, Duplicate: 0.02, Delay: 0.05, DuplicateProposals: *dupProps}
}

func runFaultHistory(t *testing.T, seed uint64, steps int) {
	ctx := ctxFor(t, 3*time.Minute)
	c := rafttest.NewCluster(t, rafttest.Options{
		Seed:        seed,
		ManualTicks: true,
		Configure: func(cfg *raft.Config) {
			cfg.SnapshotEntries = 64
			cfg.SnapshotCatchUpEntries = 16
			cfg.RequestTimeout = time.Second
		},
	})
	sched := faultSchedule(seed, steps)
	for i, st := range sched {
		t.Logf("schedule %d: %s", i, st)
	}
	c.Net.SetFaults(baseFaults())
	// Until the schedule starts, and after it ends, the cluster ticks at
	// a steady pace.
	stopPacing := pace(c)
	if _, err := c.Leader(ctx); err != nil {
		t.Fatal(err)
	}
	stopPacing()

	const clients = 5
	h := &history{}
	var wl watchLog
	stopWatch := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		watchAcross(ctx, c, &wl, stopWatch, seed)
	}()

	stopClients := make(chan struct{})
	var clientsWG sync.WaitGroup
	var nextValue atomic.Int64
	for ci := range clients {
		clientsWG.Add(1)
		cl := newLinClient(ci, seed, h, &nextValue)
		go func() {
			defer clientsWG.Done()
			for {
				select {
				case <-stopClients:
					return
				default:
				}
				if n := pickMember(c, cl.rng); n != nil {
					cl.op(ctx, n)
				}
			}
		}()
	}

	events := runSchedule(ctx, t, c, seed, sched)
	for _, e := range events {
		t.Logf("event: %s", e)
	}
	close(stopClients)
	clientsWG.Wait()

	// Every member converges: after a write through the leader and a
	// linearizable read on each, all engines hold the same state.
	stopPacing = pace(c)
	defer stopPacing()
	lead, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	retireRemoved(c, lead)
	if _, err := kv.Put(ctx, lead, watchPrefix+"final", []byte("1")); err != nil {
		t.Fatal(err)
	}
	// A write whose outcome its client never learned (a proposal still in
	// flight when the faults ended) may commit after some members were
	// compared, so a difference counts only if it outlasts further rounds
	// of linearizable reads: a real divergence never goes away.
	var diverged []string
	for round := 0; round < 20; round++ {
		diverged = diverged[:0]
		var want string
		for id, n := range c.Nodes() {
			if _, err := n.Range(ctx, kv.RangeRequest{Key: watchPrefix + "final"}); err != nil {
				for _, m := range c.Nodes() {
					t.Logf("member %d: %+v; members %+v", m.ID(), m.Status(), m.Members())
				}
				t.Fatalf("member %d: %v", id, err)
			}
			got := engineDigest(t, n)
			if want == "" {
				want = got
			} else if got != want {
				diverged = append(diverged, fmt.Sprintf("member %d diverged:\n got %s\nwant %s", id, got, want))
			}
		}
		if len(diverged) == 0 {
			break
		}
	}
	for _, d := range diverged {
		t.Error(d)
	}
	close(stopWatch)
	wg.Wait()

	checkLinearizable(t, h.ops)
	checkWatchLog(t, ctx, lead, &wl)
	kinds := map[linKind]int{}
	for _, op := range h.ops {
		kinds[op.Input.(linInput).kind]++
	}
	sent, dropped, dup, delayed := c.Net.Stats()
	t.Logf("seed %d: %d ops %v; network sent %d, dropped %d, duplicated %d, delayed %d", seed, len(h.ops), kinds, sent, dropped, dup, delayed)
}

// pickMember returns a running member, drawn by r among them in ID order.
func pickMember(c *rafttest.Cluster, r *rand.Rand) *raft.Node {
	nodes := c.Nodes()
	ids := slices.Sorted(maps.Keys(nodes))
	if len(ids) == 0 {
		return nil
	}
	return nodes[ids[r.IntN(len(ids))]]
}

// tickEvery paces the ticks of a fault run in real time: it sets how many
// operations the clients fit into a tick, not which tick anything happens
// at.
const tickEvery = 2 * time.Millisecond

// pace ticks c at a steady pace until the returned function is called.
func pace(c *rafttest.Cluster) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tk := time.NewTicker(tickEvery)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				c.Tick()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-stopped
		})
	}
}

// watchAcross keeps one logical watch of the test's keys open, moving to
// another member when its member goes down, resuming after the last
// revision seen.
func watchAcross(ctx context.Context, c *rafttest.Cluster, wl *watchLog, stop <-chan struct{}, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x3a7c))
	next := int64(1)
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		default:
		}
		n := pickMember(c, rng)
		if n == nil {
			continue
		}
		wctx, cancel := context.WithCancel(ctx)
		ch, err := n.Watch(wctx, kv.WatchRequest{Key: watchPrefix, End: kv.PrefixEnd(watchPrefix), StartRevision: next})
		if err != nil {
			cancel()
			continue
		}
	recv:
		for {
			select {
			case <-stop:
				cancel()
				return
			case resp, ok := <-ch:
				if !ok || resp.Err != nil {
					break recv
				}
				wl.mu.Lock()
				wl.events = append(wl.events, resp.Events...)
				wl.mu.Unlock()
				if len(resp.Events) > 0 {
					next = resp.Events[len(resp.Events)-1].KV.ModRevision + 1
				}
			}
		}
		cancel()
	}
}

// checkWatchLog checks the watch history: revisions increase (no
// duplicates, in order) and it matches, event for event, a watch of
// the whole history from the leader (no gaps).
func checkWatchLog(t *testing.T, ctx context.Context, lead *raft.Node, wl *watchLog) {
	t.Helper()
	wl.mu.Lock()
	got := slices.Clone(wl.events)
	wl.mu.Unlock()
	// A transaction's events share its revision, one per key.
	for i := 1; i < len(got); i++ {
		prev, cur := got[i-1].KV, got[i].KV
		if cur.ModRevision < prev.ModRevision || (cur.ModRevision == prev.ModRevision && cur.Key <= prev.Key) {
			t.Fatalf("watch event %d %s@%d after %s@%d: out of order or duplicated", i, cur.Key, cur.ModRevision, prev.Key, prev.ModRevision)
		}
	}
	if len(got) == 0 {
		t.Fatal("watch saw nothing")
	}
	last := got[len(got)-1].KV.ModRevision
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := lead.Watch(wctx, kv.WatchRequest{Key: watchPrefix, End: kv.PrefixEnd(watchPrefix), StartRevision: 1})
	if err != nil {
		t.Fatal(err)
	}
	var want []kv.Event
	for len(want) == 0 || want[len(want)-1].KV.ModRevision < last {
		select {
		case resp, ok := <-ch:
			if !ok || resp.Err != nil {
				t.Fatalf("reference watch ended: %v", resp.Err)
			}
			want = append(want, resp.Events...)
		case <-ctx.Done():
			t.Fatal("reference watch timed out")
		}
	}
	for len(want) > 0 && want[len(want)-1].KV.ModRevision > last {
		want = want[:len(want)-1]
	}
	if len(got) != len(want) {
		t.Fatalf("watch saw %d events, the history has %d up to revision %d (gap)", len(got), len(want), last)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Type != w.Type || g.KV.Key != w.KV.Key || g.KV.ModRevision != w.KV.ModRevision || string(g.KV.Value) != string(w.KV.Value) {
			t.Fatalf("watch event %d = %v %s@%d, history has %v %s@%d", i, g.Type, g.KV.Key, g.KV.ModRevision, w.Type, w.KV.Key, w.KV.ModRevision)
		}
	}
}

// engineDigest summarises a member's engine: revision and every key.
func engineDigest(t *testing.T, n *raft.Node) string {
	t.Helper()
	resp, err := n.Engine().Range(context.Background(), kv.RangeRequest{Key: "\x00", End: "\x00"})
	if err != nil {
		t.Fatal(err)
	}
	s := fmt.Sprintf("rev=%d compact=%d", n.Engine().Revision(), n.Engine().CompactRevision())
	for _, e := range resp.KVs {
		s += fmt.Sprintf(" %s=%s@%d/%d/%d", e.Key, e.Value, e.CreateRevision, e.ModRevision, e.Version)
	}
	return s
}

// TestForwardedWriteLostWithLeader checks that a write a follower
// forwarded to a leader that is then cut off (it receives but cannot send)
// fails with ErrLeaderChanged as soon as the new leader's first entry is
// applied, rather than after RequestTimeout, and that the cluster goes on.
func TestForwardedWriteLostWithLeader(t *testing.T) {
	c := rafttest.NewCluster(t, rafttest.Options{
		ElectionTicks: 50,
		Configure:     func(cfg *raft.Config) { cfg.RequestTimeout = 10 * time.Minute },
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lead, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, lead, "/warm", []byte("1")); err != nil {
		t.Fatal(err)
	}
	var fol *raft.Node
	for id, n := range c.Nodes() {
		if id != lead.ID() {
			fol = n
			if _, _, err := kv.Get(ctx, n, "/warm"); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The leader hears everyone but nobody hears it.
	for id := range c.Nodes() {
		if id != lead.ID() {
			c.Net.Cut(lead.ID(), id)
		}
	}
	_, err = kv.Put(ctx, fol, "/lost", []byte("1"))
	if !errors.Is(err, raft.ErrLeaderChanged) {
		t.Fatalf("forwarded write to a cut-off leader: got %v, want ErrLeaderChanged", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the write failed only at the test's deadline")
	}
	c.Net.Heal()
	if _, err := kv.Put(ctx, fol, "/after", []byte("1")); err != nil {
		t.Fatalf("write after the leader change: %v", err)
	}
}
