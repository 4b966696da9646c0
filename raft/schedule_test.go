package raft_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/rafttest"
)

// faultStep is one step of a fault schedule: a fault that lasts Ticks
// ticks, and maybe a membership change made during it. Slot picks the
// victim among the members present when the step starts, in ID order.
type faultStep struct {
	Fault  string // isolate, one-way, crash, crash-torn or crash-leader
	Member string // "", add-learner, promote, remove or re-add
	Slot   int
	Ticks  int
}

func (s faultStep) String() string {
	out := fmt.Sprintf("%s slot %d for %d ticks", s.Fault, s.Slot, s.Ticks)
	if s.Member != "" {
		out += ", " + s.Member
	}
	return out
}

// membershipCycle is the order in which membership changes come: a
// learner joins and is promoted, a voter (maybe the leader) is removed,
// and a member comes back in its place, wiped and under a new ID (IDs are
// never reused).
var membershipCycle = []string{"add-learner", "promote", "remove", "re-add"}

// faultSchedule returns the schedule of a run: a function of the seed
// alone.
func faultSchedule(seed uint64, steps int) []faultStep {
	rng := rand.New(rand.NewPCG(seed, 0xfa17))
	faults := []string{"isolate", "one-way", "crash", "crash-torn", "crash-leader"}
	var out []faultStep
	next := 0
	for range steps {
		st := faultStep{Fault: faults[rng.IntN(len(faults))], Slot: rng.IntN(16), Ticks: 100 + rng.IntN(100)}
		if rng.IntN(2) == 0 {
			st.Member = membershipCycle[next%len(membershipCycle)]
			next++
		}
		out = append(out, st)
	}
	return out
}

// TestFaultScheduleIsSeeded checks that a seed names one schedule, that
// seeds differ, and that the default schedules change membership in every
// way.
func TestFaultScheduleIsSeeded(t *testing.T) {
	seen := map[string]bool{}
	for _, seed := range []uint64{1, 2, 3} {
		a, b := faultSchedule(seed, 8), faultSchedule(seed, 8)
		if !slices.Equal(a, b) {
			t.Fatalf("seed %d gave two schedules:\n%v\n%v", seed, a, b)
		}
		if slices.Equal(a, faultSchedule(seed+100, 8)) {
			t.Fatalf("seeds %d and %d gave the same schedule", seed, seed+100)
		}
		for _, st := range a {
			seen[st.Fault], seen[st.Member] = true, true
		}
	}
	for _, want := range append([]string{"isolate", "one-way", "crash", "crash-torn", "crash-leader"}, membershipCycle...) {
		if !seen[want] {
			t.Errorf("the default seeds never schedule %s", want)
		}
	}
}

// memberState is what the schedule's runner knows of the membership.
type memberState struct {
	nextID  uint64
	started map[uint64]bool // started once; a restart is for crashed members
	removed map[uint64]bool
	crashed []uint64 // to restart when the step ends
}

// runSchedule plays sched on c and returns its event log. It drives the
// members' ticks: step i starts at the sum of the earlier steps' Ticks,
// whatever the speed of the machine. The real-time pace of the ticks only
// sets how many client operations fit in a tick.
func runSchedule(ctx context.Context, t *testing.T, c *rafttest.Cluster, seed uint64, sched []faultStep) []string {
	rng := rand.New(rand.NewPCG(seed, 0x7055))
	m := &memberState{nextID: 4, started: map[uint64]bool{1: true, 2: true, 3: true}, removed: map[uint64]bool{}}
	var events []string
	tick := 0
	tk := time.NewTicker(tickEvery)
	defer tk.Stop()
	for i, st := range sched {
		undoFault(t, c, m)
		ids := slices.Sorted(maps.Keys(c.Nodes()))
		victim := ids[st.Slot%len(ids)]
		switch st.Fault {
		case "isolate":
			c.Net.Isolate(victim)
		case "one-way": // the victim hears nobody, everybody hears it
			for _, id := range ids {
				if id != victim {
					c.Net.Cut(id, victim)
				}
			}
		case "crash-leader", "crash", "crash-torn":
			if lead := believedLeader(c); st.Fault == "crash-leader" && lead != nil {
				victim = lead.ID()
			}
			if st.Fault == "crash-torn" {
				c.CrashTorn(victim, rng)
			} else {
				c.Crash(victim)
			}
			m.crashed = append(m.crashed, victim)
		}
		event := fmt.Sprintf("tick %d: step %d: %s %d", tick, i, st.Fault, victim)
		actx, cancel := context.WithCancel(ctx)
		done := make(chan string, 1)
		go func() { done <- changeMembership(actx, c, st, m) }()
		for range st.Ticks {
			select {
			case <-tk.C:
			case <-ctx.Done():
				cancel()
				<-done
				return events
			}
			c.Tick()
			tick++
		}
		cancel()
		if res := <-done; res != "" {
			event += "; " + res
		}
		events = append(events, event)
	}
	undoFault(t, c, m)
	return events
}

// undoFault heals the network, restarts the crashed members and starts
// the members the cluster added but that never started (an addition that
// timed out may still have been applied).
func undoFault(t *testing.T, c *rafttest.Cluster, m *memberState) {
	t.Helper()
	c.Net.Heal()
	c.Net.SetFaults(baseFaults())
	for _, id := range m.crashed {
		if !m.removed[id] {
			if err := c.Restart(id); err != nil {
				t.Errorf("restart %d: %v", id, err)
			}
		}
	}
	m.crashed = nil
	if lead := believedLeader(c); lead != nil {
		for _, mem := range lead.Members() {
			if !m.started[mem.ID] && !m.removed[mem.ID] {
				if err := c.Join(mem.ID); err != nil {
					t.Errorf("join %d: %v", mem.ID, err)
				}
				m.started[mem.ID] = true
			}
		}
	}
}

// believedLeader returns the running member that believes it leads in
// the latest term, or nil.
func believedLeader(c *rafttest.Cluster) *raft.Node {
	var lead *raft.Node
	for _, n := range c.Nodes() {
		if n.IsLeader() && (lead == nil || n.Term() > lead.Term()) {
			lead = n
		}
	}
	return lead
}

// changeMembership makes the step's membership change through the member
// that believes it leads (or any member), until ctx ends, and says what
// it did.
func changeMembership(ctx context.Context, c *rafttest.Cluster, st faultStep, m *memberState) string {
	if st.Member == "" {
		return ""
	}
	via := believedLeader(c)
	if via == nil {
		via = pickMember(c, rand.New(rand.NewPCG(0, 0)))
	}
	if via == nil {
		return st.Member + ": no member to ask"
	}
	var voters, learners []uint64
	for _, mem := range via.Members() {
		if mem.Learner {
			learners = append(learners, mem.ID)
		} else {
			voters = append(voters, mem.ID)
		}
	}
	slices.Sort(voters)
	slices.Sort(learners)
	add := func(learner bool) string {
		id := m.nextID
		m.nextID++
		err := via.AddMember(ctx, raft.Member{ID: id, PeerAddr: fmt.Sprintf("member-%d", id), ClientAddr: fmt.Sprintf("client-%d", id), Learner: learner})
		if err != nil {
			return fmt.Sprintf("%s %d: %v", st.Member, id, err)
		}
		m.started[id] = true
		if err := c.Join(id); err != nil {
			return fmt.Sprintf("%s %d: join: %v", st.Member, id, err)
		}
		return fmt.Sprintf("%s %d", st.Member, id)
	}
	switch st.Member {
	case "add-learner":
		if len(learners) > 0 || len(voters) >= 5 {
			return "add-learner: skipped"
		}
		return add(true)
	case "promote":
		if len(learners) == 0 {
			return "promote: no learner"
		}
		if err := via.PromoteMember(ctx, learners[0]); err != nil {
			return fmt.Sprintf("promote %d: %v", learners[0], err)
		}
		return fmt.Sprintf("promote %d", learners[0])
	case "remove":
		if len(voters) < 4 {
			return "remove: skipped, too few voters"
		}
		victim := voters[st.Slot%len(voters)]
		if err := via.RemoveMember(ctx, victim); err != nil {
			return fmt.Sprintf("remove %d: %v", victim, err)
		}
		m.removed[victim] = true
		c.Crash(victim)
		return fmt.Sprintf("remove %d", victim)
	case "re-add":
		if len(voters) >= 5 {
			return "re-add: skipped, enough voters"
		}
		return add(false)
	}
	return st.Member + ": unknown change"
}

// retireRemoved stops the running members that lead no longer lists: a
// removal whose outcome the schedule did not learn.
func retireRemoved(c *rafttest.Cluster, lead *raft.Node) {
	in := map[uint64]bool{}
	for _, mem := range lead.Members() {
		in[mem.ID] = true
	}
	for id := range c.Nodes() {
		if !in[id] {
			c.Crash(id)
		}
	}
}
