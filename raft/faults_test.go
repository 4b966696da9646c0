package raft_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/rafttest"
	"github.com/governor-io/governor/store/kv"
)

var soak = flag.Bool("raft.soak", false, "run the fault-injection tests over many seeds and longer histories")

// kvInput and kvOutput are the operations of the porcupine model: a
// register per key.
type kvInput struct {
	put   bool
	key   string
	value int
}

type kvOutput struct {
	value   int
	unknown bool // a put whose outcome is unknown
}

var registerModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			k := op.Input.(kvInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return 0 },
	Step: func(state, input, output any) (bool, any) {
		in, out := input.(kvInput), output.(kvOutput)
		if in.put {
			return true, in.value
		}
		return out.value == state.(int), state
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(kvInput), output.(kvOutput)
		if in.put {
			return fmt.Sprintf("put(%s, %d) unknown=%v", in.key, in.value, out.unknown)
		}
		return fmt.Sprintf("get(%s) -> %d", in.key, out.value)
	},
}

// history records operations with a logical clock that orders every call
// and return as they happened in real time.
type history struct {
	clock atomic.Int64
	mu    sync.Mutex
	ops   []porcupine.Operation
	// attempts counts finished client attempts; changed is closed and
	// replaced after each.
	attempts int64
	changed  chan struct{}
}

func newHistory() *history { return &history{changed: make(chan struct{})} }

// attempted records that a client finished one more attempt.
func (h *history) attempted() {
	h.mu.Lock()
	h.attempts++
	close(h.changed)
	h.changed = make(chan struct{})
	h.mu.Unlock()
}

// waitAttempts waits until the clients made n attempts in all.
func (h *history) waitAttempts(ctx context.Context, n int64) bool {
	for {
		h.mu.Lock()
		got, ch := h.attempts, h.changed
		h.mu.Unlock()
		if got >= n {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

func (h *history) add(client int, in kvInput, call int64, out kvOutput, ret int64) {
	h.mu.Lock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
	h.mu.Unlock()
}

// watchLog is what one logical watcher saw across members.
type watchLog struct {
	mu     sync.Mutex
	events []kv.Event
}

const watchPrefix = "/lin/"

// TestLinearizableUnderFaults runs random client histories against a
// three-member cluster whose network drops, duplicates, delays and
// reorders messages, while a nemesis partitions (both ways and one way),
// crashes and restarts members (the leader too, mid-proposal), and checks
// the histories with porcupine, the watch history for order, gaps and
// duplicates, and that all members converge.
func TestLinearizableUnderFaults(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	opsPerStep := 30 // client attempts between two faults
	if *soak {
		seeds = nil
		for s := uint64(1); s <= 30; s++ {
			seeds = append(seeds, s)
		}
		opsPerStep = 300
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			runFaultHistory(t, seed, opsPerStep)
		})
	}
}

func runFaultHistory(t *testing.T, seed uint64, opsPerStep int) {
	ctx := ctxFor(t, 3*time.Minute)
	c := rafttest.NewCluster(t, rafttest.Options{
		Seed: seed,
		Configure: func(cfg *raft.Config) {
			cfg.SnapshotEntries = 64
			cfg.SnapshotCatchUpEntries = 16
			cfg.RequestTimeout = time.Second
		},
	})
	if _, err := c.Leader(ctx); err != nil {
		t.Fatal(err)
	}
	c.Net.SetFaults(rafttest.Faults{Drop: 0.02, Duplicate: 0.02, Delay: 0.05})

	const clients, keys = 5, 6
	h := newHistory()
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
		go func() {
			defer clientsWG.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(ci)))
			for {
				select {
				case <-stopClients:
					return
				default:
				}
				runOp(ctx, c, rng, ci, keys, h, &nextValue)
				h.attempted()
			}
		}()
	}

	// The nemesis sets the pace: the clients run until it is done.
	nemesis(ctx, t, c, seed, h, int64(opsPerStep))
	close(stopClients)
	clientsWG.Wait()
	c.Net.Heal()
	for id := uint64(1); id <= 3; id++ {
		if c.Node(id) == nil {
			if err := c.Restart(id); err != nil {
				t.Fatalf("restart %d: %v", id, err)
			}
		}
	}

	// Every member converges: after a write through the leader and a
	// linearizable read on each, all engines hold the same state.
	lead, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, lead, watchPrefix+"final", []byte("1")); err != nil {
		t.Fatal(err)
	}
	var want string
	for id, n := range c.Nodes() {
		if _, err := n.Range(ctx, kv.RangeRequest{Key: watchPrefix + "final"}); err != nil {
			t.Fatalf("member %d: %v", id, err)
		}
		got := engineDigest(t, n)
		if want == "" {
			want = got
		} else if got != want {
			t.Errorf("member %d diverged:\n got %s\nwant %s", id, got, want)
		}
	}
	close(stopWatch)
	wg.Wait()

	res, info := porcupine.CheckOperationsVerbose(registerModel, h.ops, time.Minute)
	if res != porcupine.Ok {
		path := t.TempDir() + "/history.html"
		_ = porcupine.VisualizePath(registerModel, info, path)
		t.Fatalf("history of %d operations is not linearizable (%v); visualization in %s", len(h.ops), res, path)
	}
	checkWatchLog(t, ctx, lead, &wl)
	sent, dropped, dup, delayed := c.Net.Stats()
	t.Logf("seed %d: %d ops; network sent %d, dropped %d, duplicated %d, delayed %d", seed, len(h.ops), sent, dropped, dup, delayed)
}

func runOp(ctx context.Context, c *rafttest.Cluster, rng *rand.Rand, client, keys int, h *history, next *atomic.Int64) {
	id := uint64(1 + rng.IntN(3))
	n := c.Node(id)
	if n == nil {
		return
	}
	key := watchPrefix + strconv.Itoa(rng.IntN(keys))
	opCtx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if rng.IntN(2) == 0 {
		v := int(next.Add(1))
		in := kvInput{put: true, key: key, value: v}
		call := h.clock.Add(1)
		_, err := kv.Put(opCtx, n, key, []byte(strconv.Itoa(v)))
		ret := h.clock.Add(1)
		if err != nil {
			// The write may or may not have happened.
			h.add(client, in, call, kvOutput{unknown: true}, math.MaxInt64)
			return
		}
		h.add(client, in, call, kvOutput{}, ret)
		return
	}
	in := kvInput{key: key}
	call := h.clock.Add(1)
	got, _, err := kv.Get(opCtx, n, key)
	ret := h.clock.Add(1)
	if err != nil {
		return // a failed read tells nothing
	}
	out := kvOutput{}
	if got != nil {
		out.value, _ = strconv.Atoi(string(got.Value))
	}
	h.add(client, in, call, out, ret)
}

// nemesis injects a fault each time the clients have made another step
// attempts, and undoes it at the next step.
func nemesis(ctx context.Context, t *testing.T, c *rafttest.Cluster, seed uint64, h *history, step int64) {
	rng := rand.New(rand.NewPCG(seed, 0xfa17))
	var crashed []uint64
	for i := int64(1); i <= 10; i++ {
		if !h.waitAttempts(ctx, i*step) {
			return
		}
		// Undo the previous fault.
		c.Net.SetFaults(rafttest.Faults{Drop: 0.02, Duplicate: 0.02, Delay: 0.05})
		c.Net.Heal()
		c.Net.SetFaults(rafttest.Faults{Drop: 0.02, Duplicate: 0.02, Delay: 0.05})
		for _, id := range crashed {
			if err := c.Restart(id); err != nil {
				t.Errorf("restart %d: %v", id, err)
			}
		}
		crashed = nil
		victim := uint64(1 + rng.IntN(3))
		switch rng.IntN(4) {
		case 0: // isolate a member
			c.Net.Isolate(victim)
		case 1: // asymmetric: the victim hears nobody but everybody hears it
			for id := uint64(1); id <= 3; id++ {
				if id != victim {
					c.Net.Cut(id, victim)
				}
			}
		case 2: // crash the leader in the middle of proposals
			lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if lead, err := c.Leader(lctx); err == nil {
				victim = lead.ID()
			}
			cancel()
			c.Crash(victim)
			crashed = append(crashed, victim)
		case 3: // crash a member
			c.Crash(victim)
			crashed = append(crashed, victim)
		}
	}
	for _, id := range crashed {
		if err := c.Restart(id); err != nil {
			t.Errorf("restart %d: %v", id, err)
		}
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
		n := c.Node(uint64(1 + rng.IntN(3)))
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

// checkWatchLog checks the watch history: revisions strictly increase
// (no duplicates, in order) and it matches, event for event, a watch of
// the whole history from the leader (no gaps).
func checkWatchLog(t *testing.T, ctx context.Context, lead *raft.Node, wl *watchLog) {
	t.Helper()
	wl.mu.Lock()
	got := slices.Clone(wl.events)
	wl.mu.Unlock()
	for i := 1; i < len(got); i++ {
		if got[i].KV.ModRevision <= got[i-1].KV.ModRevision {
			t.Fatalf("watch event %d at revision %d after revision %d: out of order or duplicated", i, got[i].KV.ModRevision, got[i-1].KV.ModRevision)
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
