package raft_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/rafttest"
	"github.com/governor-io/governor/store/kv"
)

// load writes keys through random members until stop is closed, and
// returns the number of acknowledged writes.
func load(ctx context.Context, c *rafttest.Cluster, stop <-chan struct{}) func() int64 {
	var acked atomic.Int64
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				for _, n := range c.Nodes() {
					octx, cancel := context.WithTimeout(ctx, time.Second)
					_, err := kv.Put(octx, n, fmt.Sprintf("/load/%d/%d", w, i), []byte("v"))
					cancel()
					if err == nil {
						acked.Add(1)
					}
					break
				}
			}
		}()
	}
	return func() int64 { wg.Wait(); return acked.Load() }
}

// converge writes through the leader, reads linearizably on every
// member, and compares their engines.
func converge(t *testing.T, ctx context.Context, c *rafttest.Cluster) {
	t.Helper()
	lead, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, lead, "/barrier", []byte("1")); err != nil {
		t.Fatal(err)
	}
	var want string
	for id, n := range c.Nodes() {
		if _, err := n.Range(ctx, kv.RangeRequest{Key: "/barrier"}); err != nil {
			t.Fatalf("member %d: %v", id, err)
		}
		got := engineDigest(t, n)
		if want == "" {
			want = got
		} else if got != want {
			t.Fatalf("member %d diverged", id)
		}
	}
}

func TestMembershipChangesUnderLoad(t *testing.T) {
	ctx := ctxFor(t, 2*time.Minute)
	c := rafttest.NewCluster(t, rafttest.Options{Configure: func(cfg *raft.Config) {
		cfg.SnapshotEntries = 100
		cfg.SnapshotCatchUpEntries = 20
	}})
	lead, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	wait := load(ctx, c, stop)

	// Add a learner, start it, promote it.
	if err := lead.AddMember(ctx, raft.Member{ID: 4, PeerAddr: "member-4", Learner: true}); err != nil {
		t.Fatal(err)
	}
	if err := lead.AddMember(ctx, raft.Member{ID: 4}); !errors.Is(err, raft.ErrMemberExists) {
		t.Fatalf("adding member 4 twice: %v", err)
	}
	if err := c.Join(4); err != nil {
		t.Fatal(err)
	}
	n4 := c.Node(4)
	if _, err := n4.Range(ctx, kv.RangeRequest{Key: "/x"}); err != nil {
		t.Fatalf("learner read: %v", err)
	}
	if err := lead.PromoteMember(ctx, 4); err != nil {
		t.Fatal(err)
	}
	// Hand leadership to the new voter, then remove the old leader.
	if lead, err = c.Leader(ctx); err != nil {
		t.Fatal(err)
	}
	if lead.ID() != 4 {
		if err := lead.TransferLeadership(ctx, 4); err != nil {
			t.Fatalf("transfer to 4: %v", err)
		}
	}
	if lead, err = c.Leader(ctx); err != nil {
		t.Fatal(err)
	}
	if lead.ID() != 4 {
		t.Fatalf("leader is %d after the transfer, want 4", lead.ID())
	}
	if err := lead.RemoveMember(ctx, 1); err != nil {
		t.Fatal(err)
	}
	c.Crash(1)
	if err := lead.RemoveMember(ctx, 1); !errors.Is(err, raft.ErrMemberNotFound) {
		t.Fatalf("removing member 1 twice: %v", err)
	}
	close(stop)
	if acked := wait(); acked == 0 {
		t.Fatal("no write was acknowledged during the changes")
	}
	converge(t, ctx, c)
	var ids []string
	for _, m := range lead.Members() {
		ids = append(ids, fmt.Sprint(m.ID))
	}
	if got := strings.Join(ids, ","); got != "2,3,4" {
		t.Fatalf("members = %s, want 2,3,4", got)
	}
}

// TestFollowerCatchesUpFromSnapshot cuts a follower off until the leader
// has compacted the entries it misses, so that it must be sent a
// snapshot, streamed.
func TestFollowerCatchesUpFromSnapshot(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	c := rafttest.NewCluster(t, rafttest.Options{Configure: func(cfg *raft.Config) {
		cfg.SnapshotEntries = 20
		cfg.SnapshotCatchUpEntries = 5
	}})
	lead, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lagger := c.Follower(lead).ID()
	c.Net.Isolate(lagger)
	for i := range 200 {
		if _, err := kv.Put(ctx, lead, fmt.Sprintf("/snap/%03d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	c.Net.Heal()
	converge(t, ctx, c)
	if st := c.Node(lagger).Status(); st.SnapshotsReceived == 0 {
		t.Fatalf("the lagging member caught up without a snapshot: %+v", st)
	}
	// It restarts from the snapshot it received.
	c.Crash(lagger)
	if err := c.Restart(lagger); err != nil {
		t.Fatal(err)
	}
	converge(t, ctx, c)
}

// gate drops the appends that carry entries while it is closed, so that
// nothing the leader proposes commits, while heartbeats (and so the
// leadership) go on. It reports the first membership change and the
// first refusal entry it sees go by.
type gate struct {
	mu      sync.Mutex
	closed  bool
	conf    chan struct{} // closed when a held append carried a change
	refusal chan struct{} // closed when a held append carried a refusal
}

func newGate() *gate {
	return &gate{conf: make(chan struct{}), refusal: make(chan struct{})}
}

func (g *gate) setClosed(closed bool) {
	g.mu.Lock()
	g.closed = closed
	g.mu.Unlock()
}

// pass reports whether m may go, noting what a held append carries.
func (g *gate) pass(m *raftpb.Message) bool {
	if m.GetType() != raftpb.MsgApp || len(m.GetEntries()) == 0 {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		return true
	}
	for _, e := range m.GetEntries() {
		switch {
		case e.GetType() == raftpb.EntryConfChangeV2:
			closeOnce(g.conf)
		case e.GetType() == raftpb.EntryNormal && len(e.GetData()) > 0 && e.GetData()[0] == raft.EntryRefusalKind:
			closeOnce(g.refusal)
		}
	}
	return false
}

func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// gatedTransport sends through its Transport what the gate lets pass.
type gatedTransport struct {
	raft.Transport
	g *gate
}

func (t gatedTransport) Send(msgs []*raftpb.Message) {
	keep := make([]*raftpb.Message, 0, len(msgs))
	for _, m := range msgs {
		if t.g.pass(m) {
			keep = append(keep, m)
		}
	}
	t.Transport.Send(keep)
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// TestMembershipChangeWhilePendingIsRefused holds back a membership change
// on the leader, uncommitted, and checks that a second change fails at
// once with ErrMembershipChangeInProgress when proposed on the leader,
// and, when proposed on a follower that has not seen the first, as soon
// as the leader's refusal entry applies; the first change then completes,
// and the next one is accepted.
func TestMembershipChangeWhilePendingIsRefused(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	g := newGate()
	c := rafttest.NewCluster(t, rafttest.Options{Configure: func(cfg *raft.Config) {
		cfg.Transport = gatedTransport{Transport: cfg.Transport, g: g}
	}})
	lead, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fol := c.Follower(lead)

	g.setClosed(true)
	first := make(chan error, 1)
	go func() { first <- lead.AddMember(ctx, raft.Member{ID: 4, PeerAddr: "member-4", Learner: true}) }()
	waitFor(t, g.conf, "the first change to be appended")

	// On the leader: refused before anything commits (the gate is still
	// closed), so without waiting on the cluster.
	short, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	second := []struct {
		name   string
		change func() error
	}{
		{"add a learner", func() error { return lead.AddMember(short, raft.Member{ID: 5, Learner: true}) }},
		{"add a voter", func() error { return lead.AddMember(short, raft.Member{ID: 5}) }},
		{"remove a follower", func() error { return lead.RemoveMember(short, fol.ID()) }},
	}
	for _, tc := range second {
		if err := tc.change(); !errors.Is(err, raft.ErrMembershipChangeInProgress) {
			t.Errorf("%s on the leader while a change is pending: %v, want ErrMembershipChangeInProgress", tc.name, err)
		}
	}

	// On a follower, which has not received the first change: the leader
	// refuses it with an entry that follows the first change.
	third := make(chan error, 1)
	go func() { third <- fol.AddMember(ctx, raft.Member{ID: 6, Learner: true}) }()
	waitFor(t, g.refusal, "the leader's refusal entry")
	g.setClosed(false)

	if err := <-first; err != nil {
		t.Fatalf("first change: %v", err)
	}
	if err := <-third; !errors.Is(err, raft.ErrMembershipChangeInProgress) {
		t.Fatalf("change on a follower while one is pending: %v, want ErrMembershipChangeInProgress", err)
	}
	// Once the first change is applied, the next is accepted.
	if err := lead.AddMember(ctx, raft.Member{ID: 5, Learner: true}); err != nil {
		t.Fatalf("change after the pending one applied: %v", err)
	}
	converge(t, ctx, c)
	for id, n := range c.Nodes() {
		if got := memberList(n); got != "1,2,3,4L,5L" {
			t.Errorf("member %d sees members %s, want 1,2,3,4L,5L", id, got)
		}
	}
}

// memberList formats a member's view of the cluster: IDs in order, L
// marking learners.
func memberList(n *raft.Node) string {
	var ids []string
	for _, m := range n.Members() {
		s := fmt.Sprint(m.ID)
		if m.Learner {
			s += "L"
		}
		ids = append(ids, s)
	}
	return strings.Join(ids, ",")
}

// TestMembershipChangeRefusals checks each rule a membership change must
// pass, on a cluster of one voter (1), one learner (2) and one removed
// member (3): each refused change fails with its typed error and changes
// nothing.
func TestMembershipChangeRefusals(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	c := rafttest.NewCluster(t, rafttest.Options{Members: 1})
	n, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []raft.Member{{ID: 2, Learner: true}, {ID: 3, Learner: true}} {
		if err := n.AddMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.RemoveMember(ctx, 3); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func() error
		want   error
	}{
		{"adding an existing voter", func() error { return n.AddMember(ctx, raft.Member{ID: 1}) }, raft.ErrMemberExists},
		{"adding an existing learner", func() error { return n.AddMember(ctx, raft.Member{ID: 2}) }, raft.ErrMemberExists},
		{"adding a removed member", func() error { return n.AddMember(ctx, raft.Member{ID: 3, Learner: true}) }, raft.ErrMemberExists},
		{"adding member zero", func() error { return n.AddMember(ctx, raft.Member{}) }, raft.ErrInvalidConfig},
		{"promoting a voter", func() error { return n.PromoteMember(ctx, 1) }, raft.ErrNotLearner},
		{"promoting an unknown member", func() error { return n.PromoteMember(ctx, 9) }, raft.ErrMemberNotFound},
		{"promoting a removed member", func() error { return n.PromoteMember(ctx, 3) }, raft.ErrMemberNotFound},
		{"removing an unknown member", func() error { return n.RemoveMember(ctx, 9) }, raft.ErrMemberNotFound},
		{"removing a removed member", func() error { return n.RemoveMember(ctx, 3) }, raft.ErrMemberNotFound},
		{"removing the last voter", func() error { return n.RemoveMember(ctx, 1) }, raft.ErrLastVoter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.change(); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if got := memberList(n); got != "1,2L" {
				t.Fatalf("members after the refusal: %s, want 1,2L", got)
			}
		})
	}
	// The learner can go; the last voter then still cannot.
	if err := n.RemoveMember(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := n.RemoveMember(ctx, 1); !errors.Is(err, raft.ErrLastVoter) {
		t.Fatalf("removing the last voter without learners: %v", err)
	}
}

// TestMembershipChangeLostWithLeader checks that a membership change
// forwarded to a leader that is then cut off (it receives but cannot send)
// fails with ErrLeaderChanged as soon as the new leader's first entry is
// applied, rather than after RequestTimeout, and that the next change is
// accepted.
func TestMembershipChangeLostWithLeader(t *testing.T) {
	c := rafttest.NewCluster(t, rafttest.Options{
		ElectionTicks: 50,
		Configure:     func(cfg *raft.Config) { cfg.RequestTimeout = 10 * time.Minute },
	})
	ctx := ctxFor(t, time.Minute)
	lead, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fol := follower(t, c)
	if _, _, err := kv.Get(ctx, fol, "/warm"); err != nil {
		t.Fatal(err)
	}
	for id := range c.Nodes() {
		if id != lead.ID() {
			c.Net.Cut(lead.ID(), id)
		}
	}
	err = fol.AddMember(ctx, raft.Member{ID: 4, Learner: true})
	if !errors.Is(err, raft.ErrLeaderChanged) {
		t.Fatalf("change forwarded to a cut-off leader: %v, want ErrLeaderChanged", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the change failed only at the test's deadline")
	}
	c.Net.Heal()
	if err := fol.AddMember(ctx, raft.Member{ID: 4, Learner: true}); err != nil {
		t.Fatalf("the change again after the leader change: %v", err)
	}
	converge(t, ctx, c)
	for id, n := range c.Nodes() {
		if got := memberList(n); got != "1,2,3,4L" {
			t.Errorf("member %d sees members %s, want 1,2,3,4L", id, got)
		}
	}
}
