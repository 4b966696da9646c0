package client

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
)

// silentServer accepts connections and reads what comes, as a paused
// member's kernel does, but never answers.
type silentServer struct {
	ln       net.Listener
	requests chan struct{} // a request came (one signal per connection)
	closed   chan struct{} // a connection was closed by the client
	accepted atomic.Int32
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
}

func newSilentServer(t *testing.T) *silentServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silentServer{ln: ln, requests: make(chan struct{}, 16), closed: make(chan struct{}, 16)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.mu.Lock()
			s.conns = append(s.conns, nc)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				// The greeting and one frame header: a request came.
				buf := make([]byte, len(frameMagic)+frameHeader)
				if _, err := io.ReadFull(nc, buf); err == nil {
					s.requests <- struct{}{}
				}
				if _, err := io.Copy(io.Discard, nc); err == nil {
					s.closed <- struct{}{} // EOF: the client hung up
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, nc := range s.conns {
			nc.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *silentServer) addr() string { return s.ln.Addr().String() }

// leaderless is a member (as a Server sees a *raft.Node) that may know
// of no leader; it counts the calls that reach its KV.
type leaderless struct {
	kv.KV
	lead    atomic.Uint64
	calls   atomic.Int32
	watches atomic.Int32
	opened  chan struct{} // when set, told of each watch opened
	mu      sync.Mutex
	changed chan struct{}
}

func (l *leaderless) Leader() uint64 { return l.lead.Load() }
func (l *leaderless) Err() error     { return nil }

func (l *leaderless) LeaderChanged() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.changed == nil {
		l.changed = make(chan struct{})
	}
	return l.changed
}

func (l *leaderless) setLeader(id uint64) {
	l.lead.Store(id)
	l.mu.Lock()
	if l.changed != nil {
		close(l.changed)
	}
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

func (l *leaderless) Range(ctx context.Context, req kv.RangeRequest) (*kv.RangeResponse, error) {
	l.calls.Add(1)
	return l.KV.Range(ctx, req)
}

func (l *leaderless) Txn(ctx context.Context, req kv.TxnRequest) (*kv.TxnResponse, error) {
	l.calls.Add(1)
	return l.KV.Txn(ctx, req)
}

func (l *leaderless) Watch(ctx context.Context, req kv.WatchRequest) (<-chan kv.WatchResponse, error) {
	l.calls.Add(1)
	l.watches.Add(1)
	ch, err := l.KV.Watch(ctx, req)
	if l.opened != nil {
		l.opened <- struct{}{}
	}
	return ch, err
}

func seeded() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

// wait receives from ch or fails the test when ctx ends first.
func wait[T any](t *testing.T, ctx context.Context, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// TestSilentMemberIsLeftAfterTheAttemptTimeout checks that a member that
// takes requests but never answers (paused, or cut off with its
// connection open) costs a read one attempt timeout, after which the
// read is answered by the next endpoint; that a write meeting it fails
// with ErrAttemptTimeout (its outcome is unknown) and is not repeated;
// and that the next write skips the member while its backoff lasts.
func TestSilentMemberIsLeftAfterTheAttemptTimeout(t *testing.T) {
	for _, proto := range []string{"framed", "http"} {
		t.Run(proto, func(t *testing.T) { testSilentMember(t, proto) })
	}
}

func testSilentMember(t *testing.T, proto string) {
	e := mvcc.New(mvcc.Options{})
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kv.Put(ctx, e, "/a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	good := listen(t, e)
	endpoints := func(silent *silentServer) []string {
		if proto == "http" {
			return []string{"http://" + silent.addr(), "http://" + good}
		}
		return []string{silent.addr(), good}
	}

	t.Run("read", func(t *testing.T) {
		silent := newSilentServer(t)
		clk := clocktest.New(time.Unix(0, 0))
		c, err := New(Config{Endpoints: endpoints(silent), AttemptTimeout: time.Second, Clock: clk, Rand: seeded()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		errc := make(chan error, 1)
		go func() {
			v, _, err := kv.Get(ctx, c, "/a")
			if err == nil && (v == nil || string(v.Value) != "1") {
				err = errors.New("wrong value")
			}
			errc <- err
		}()
		wait(t, ctx, silent.requests, "the request at the silent member")
		if err := clk.BlockUntilWaiters(ctx, 1); err != nil {
			t.Fatal(err)
		}
		clk.Step(time.Second)
		if err := wait(t, ctx, errc, "the read"); err != nil {
			t.Fatalf("read: %v", err)
		}
		// Nothing came on the connection for a whole attempt: dropped.
		wait(t, ctx, silent.closed, "the silent connection to be closed")
	})

	t.Run("write", func(t *testing.T) {
		silent := newSilentServer(t)
		clk := clocktest.New(time.Unix(0, 0))
		c, err := New(Config{Endpoints: endpoints(silent), AttemptTimeout: time.Second, Clock: clk, Rand: seeded()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		errc := make(chan error, 1)
		go func() {
			_, err := kv.Put(ctx, c, "/w", []byte("1"))
			errc <- err
		}()
		wait(t, ctx, silent.requests, "the request at the silent member")
		if err := clk.BlockUntilWaiters(ctx, 1); err != nil {
			t.Fatal(err)
		}
		clk.Step(time.Second)
		err = wait(t, ctx, errc, "the write")
		if !errors.Is(err, ErrAttemptTimeout) || !errors.Is(err, ErrConnBroken) {
			t.Fatalf("write: got %v, want ErrAttemptTimeout wrapping ErrConnBroken", err)
		}
		if v, _, _ := kv.Get(ctx, e, "/w"); v != nil {
			t.Fatal("a write of unknown outcome was repeated at the next endpoint")
		}
		// The silent member is in its backoff: the next write goes to
		// the next endpoint at once, without a step of the clock.
		if _, err := kv.Put(ctx, c, "/w", []byte("2")); err != nil {
			t.Fatalf("next write: %v", err)
		}
		if n := silent.accepted.Load(); n != 1 {
			t.Fatalf("the silent member was dialled %d times, want 1", n)
		}
	})
}

// TestMemberWithoutLeaderIsLeftAtOnce checks that a member that knows of
// no leader refuses the calls that need one, and that the client takes
// them, writes included, to the next endpoint at once: the client here
// has no attempt timeout, and its clock never moves.
func TestMemberWithoutLeaderIsLeftAtOnce(t *testing.T) {
	for _, proto := range []string{"framed", "http"} {
		t.Run(proto, func(t *testing.T) {
			e := mvcc.New(mvcc.Options{})
			defer e.Close()
			cut := &leaderless{KV: e}
			bad, good := listen(t, cut), listen(t, e)
			if proto == "http" {
				bad, good = "http://"+bad, "http://"+good
			}
			clk := clocktest.New(time.Unix(0, 0))
			c, err := New(Config{Endpoints: []string{bad, good}, AttemptTimeout: -1, Clock: clk, Rand: seeded()})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := kv.Put(ctx, c, "/a", []byte("1")); err != nil {
				t.Fatalf("put: %v", err)
			}
			if v, _, err := kv.Get(ctx, c, "/a"); err != nil || v == nil {
				t.Fatalf("get: %v, %v", v, err)
			}
			if _, err := c.Txn(ctx, kv.TxnRequest{Success: []kv.Op{kv.OpGet("/a")}}); err != nil {
				t.Fatalf("read-only txn: %v", err)
			}
			w, err := c.Watch(ctx, kv.WatchRequest{Key: "/a", StartRevision: 1})
			if err != nil {
				t.Fatalf("watch: %v", err)
			}
			if r := wait(t, ctx, w, "the watch's first event"); r.Err != nil || len(r.Events) == 0 {
				t.Fatalf("watch got %+v", r)
			}
			if n := cut.calls.Load(); n != 0 {
				t.Fatalf("%d calls reached the member without a leader", n)
			}
			// A serializable read needs no leader: the member serves it.
			c2, err := New(Config{Endpoints: []string{bad}, AttemptTimeout: -1, MaxRetries: -1, Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			defer c2.Close()
			if _, err := c2.Range(ctx, kv.RangeRequest{Key: "/a", Serializable: true}); err != nil {
				t.Fatalf("serializable read: %v", err)
			}
			// With no member that has a leader, the call fails with
			// ErrNoLeader once its retries are spent.
			if _, err := kv.Put(ctx, c2, "/a", []byte("2")); !errors.Is(err, raft.ErrNoLeader) {
				t.Fatalf("put without a leader: got %v, want ErrNoLeader", err)
			}
		})
	}
}

// TestMemberIsTriedAgainAfterItsBackoff checks that a member left for
// having no leader is tried again once its backoff has passed, when the
// other members fail in turn, and that a write refused for want of a
// leader is safely sent there.
func TestMemberIsTriedAgainAfterItsBackoff(t *testing.T) {
	e := mvcc.New(mvcc.Options{})
	defer e.Close()
	a, b := &leaderless{KV: e}, &leaderless{KV: e}
	b.setLeader(1)
	clk := clocktest.New(time.Unix(0, 0))
	c, err := New(Config{Endpoints: []string{listen(t, a), listen(t, b)}, AttemptTimeout: -1, Clock: clk, Rand: seeded()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kv.Put(ctx, c, "/a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if a.calls.Load() != 0 || b.calls.Load() != 1 {
		t.Fatalf("calls: a %d, b %d; want 0 and 1", a.calls.Load(), b.calls.Load())
	}
	// b loses its leader, a finds one; a is still in its backoff.
	b.setLeader(0)
	a.setLeader(1)
	errc := make(chan error, 1)
	go func() {
		_, err := kv.Put(ctx, c, "/a", []byte("2"))
		errc <- err
	}()
	if err := clk.BlockUntilWaiters(ctx, 1); err != nil { // waiting for a's backoff
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		t.Fatalf("the write returned (%v) before a's backoff passed", err)
	default:
	}
	clk.Step(DefaultBackoff)
	if err := wait(t, ctx, errc, "the write"); err != nil {
		t.Fatal(err)
	}
	if a.calls.Load() != 1 {
		t.Fatalf("a saw %d calls after its backoff, want 1", a.calls.Load())
	}
}

// TestBackoffDoublesWithJitterUpToTheCap checks the backoff of a failing
// member: in [d/2, d) for d doubling from Backoff to MaxBackoff, the same
// for the same seed, and counted once for concurrent failures.
func TestBackoffDoublesWithJitterUpToTheCap(t *testing.T) {
	run := func() []time.Duration {
		clk := clocktest.New(time.Unix(0, 0))
		eps := newEndpoints([]string{"a"}, clk, 100*time.Millisecond, time.Second, seeded())
		var got []time.Duration
		for range 6 {
			eps.failed(0)
			eps.failed(0) // a concurrent call meeting the same fault
			_, wait, ok := eps.pick([]bool{false})
			if !ok {
				t.Fatal("pick found no endpoint")
			}
			got = append(got, wait)
			clk.Step(wait)
		}
		return got
	}
	got := run()
	d := 100 * time.Millisecond
	for i, w := range got {
		if w < d/2 || w >= d {
			t.Errorf("backoff %d: %v, want in [%v, %v)", i, w, d/2, d)
		}
		d = min(2*d, time.Second)
	}
	if again := run(); !equalDurations(got, again) {
		t.Errorf("same seed, other backoffs: %v and %v", got, again)
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestWatchResumesWhenItsStreamBreaks checks that a watch whose member
// goes away is opened again at the next endpoint from the revision after
// the last one it delivered, with no break, gap or repeat; and that a
// watch from the current revision that has delivered nothing, whose
// starting point is unknown, ends with ErrStreamBroken instead.
func TestWatchResumesWhenItsStreamBreaks(t *testing.T) {
	for _, proto := range []string{"framed", "http"} {
		t.Run(proto, func(t *testing.T) {
			e := mvcc.New(mvcc.Options{})
			defer e.Close()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			gone := NewServer(e, nil)
			go gone.Serve(ln)
			defer gone.Close()
			a, b := ln.Addr().String(), listen(t, e)
			if proto == "http" {
				a, b = "http://"+a, "http://"+b
			}
			c, err := New(Config{Endpoints: []string{a, b}, Rand: seeded()})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			rev, err := kv.Put(ctx, e, "/k", []byte("1"))
			if err != nil {
				t.Fatal(err)
			}
			w, err := c.Watch(ctx, kv.WatchRequest{Key: "/k", StartRevision: rev})
			if err != nil {
				t.Fatal(err)
			}
			if r := wait(t, ctx, w, "the first event"); r.Err != nil || len(r.Events) != 1 || r.Events[0].KV.ModRevision != rev {
				t.Fatalf("first response %+v", r)
			}
			fromNow, err := c.Watch(ctx, kv.WatchRequest{Key: "/z"})
			if err != nil {
				t.Fatal(err)
			}
			gone.Close() // the member goes away, and both streams break
			if r := wait(t, ctx, fromNow, "the watch from now to end"); !errors.Is(r.Err, ErrStreamBroken) {
				t.Fatalf("watch from now: got %+v, want ErrStreamBroken", r)
			}
			rev2, err := kv.Put(ctx, e, "/k", []byte("2"))
			if err != nil {
				t.Fatal(err)
			}
			r := wait(t, ctx, w, "the event after the break")
			if r.Err != nil || len(r.Events) != 1 || r.Events[0].KV.ModRevision != rev2 {
				t.Fatalf("after the break: %+v, want the one event at %d", r, rev2)
			}
		})
	}
}

// TestWatchLeavesAMemberThatLosesItsLeader checks that a member that
// loses its leader ends the watches it serves with ErrNoLeader, since,
// cut off, it may deliver nothing more, and that the client resumes such
// a watch on another member with no gap and no error for the caller.
func TestWatchLeavesAMemberThatLosesItsLeader(t *testing.T) {
	for _, proto := range []string{"framed", "http"} {
		t.Run(proto, func(t *testing.T) {
			e := mvcc.New(mvcc.Options{})
			defer e.Close()
			a, b := &leaderless{KV: e}, &leaderless{KV: e, opened: make(chan struct{}, 1)}
			a.setLeader(1)
			b.setLeader(1)
			ea, eb := listen(t, a), listen(t, b)
			if proto == "http" {
				ea, eb = "http://"+ea, "http://"+eb
			}
			c, err := New(Config{Endpoints: []string{ea, eb}, Rand: seeded()})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			rev, err := kv.Put(ctx, e, "/k", []byte("1"))
			if err != nil {
				t.Fatal(err)
			}
			w, err := c.Watch(ctx, kv.WatchRequest{Key: "/k", StartRevision: rev})
			if err != nil {
				t.Fatal(err)
			}
			if r := wait(t, ctx, w, "the first event"); r.Err != nil || len(r.Events) != 1 {
				t.Fatalf("first response %+v", r)
			}
			a.setLeader(0)
			wait(t, ctx, b.opened, "the watch to resume at b")
			rev2, err := kv.Put(ctx, e, "/k", []byte("2"))
			if err != nil {
				t.Fatal(err)
			}
			r := wait(t, ctx, w, "the event after the loss")
			if r.Err != nil || len(r.Events) != 1 || r.Events[0].KV.ModRevision != rev2 {
				t.Fatalf("after the loss: %+v, want the one event at %d", r, rev2)
			}
			if a.watches.Load() != 1 || b.watches.Load() != 1 {
				t.Fatalf("watches opened: a %d, b %d; want 1 and 1", a.watches.Load(), b.watches.Load())
			}
		})
	}
}
