package informer

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/clock/clocktest"
)

// waitCtx bounds a wait in a test: a guard against a hang, not a delay.
func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestHandlerIsBusyInACallAndIdleOnceDrained(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts HandlerOptions
	}{
		{"every event", HandlerOptions{}},
		{"latest per key", HandlerOptions{LatestPerKey: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := seeded(1)
			inf := newTestInformer(src, Options[*widget]{})
			h := newRecorder()
			gate, entered := make(chan struct{}), make(chan struct{}, 1)
			h.gate, h.entered = gate, entered
			reg, err := inf.AddHandlerWithOptions(h, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			run(t, inf)
			<-entered // the handler is inside OnAdd of the initial list

			act := reg.Activity()
			if reg.Idle() || inf.Idle() {
				t.Fatalf("a handler in a call: Registration.Idle = %v, Informer.Idle = %v; want both false", reg.Idle(), inf.Idle())
			}
			if b := reg.Backlog(); b != 1 {
				t.Errorf("Backlog in a call = %d, want 1 (the notification in hand)", b)
			}
			done, cancel := context.WithCancel(context.Background())
			cancel()
			if err := reg.WaitIdle(done); !errors.Is(err, context.Canceled) {
				t.Errorf("WaitIdle of a busy handler with a done context = %v, want context.Canceled", err)
			}
			if isClosed(act) {
				t.Fatal("Activity fired while the handler was still in its call")
			}

			close(gate)
			if err := reg.WaitIdle(waitCtx(t)); err != nil {
				t.Fatal(err)
			}
			// The signal fires just after the state it announces is
			// visible, so Idle may be seen true a moment before act
			// closes; it must close all the same.
			select {
			case <-act:
			case <-time.After(10 * time.Second):
				t.Error("the handler became idle without closing its Activity channel")
			}
			if n := len(h.snapshot()); n != 1 {
				t.Errorf("events once idle = %d, want 1", n)
			}
			if b := reg.Backlog(); b != 0 {
				t.Errorf("Backlog once idle = %d, want 0", b)
			}
			if err := inf.WaitIdle(waitCtx(t)); err != nil {
				t.Fatal(err)
			}

			// A new event makes the handler busy again; WaitIdle returns
			// only after the call that records it has returned.
			src.update(newWidget("ns", "a", "v2", nil))
			waitRV(t, inf.refl, "2")
			if err := inf.WaitIdle(waitCtx(t)); err != nil {
				t.Fatal(err)
			}
			if n := len(h.snapshot()); n != 2 {
				t.Errorf("events after WaitIdle = %d, want 2", n)
			}
		})
	}
}

func TestRemovedHandlerIsIdleOnceItsCallReturns(t *testing.T) {
	src := seeded(2)
	inf := newTestInformer(src, Options[*widget]{})
	h := newRecorder()
	gate, entered := make(chan struct{}), make(chan struct{}, 2)
	h.gate, h.entered = gate, entered
	reg, err := inf.AddHandler(h)
	if err != nil {
		t.Fatal(err)
	}
	run(t, inf)
	<-entered
	if err := inf.RemoveHandler(reg); err != nil {
		t.Fatal(err)
	}
	if reg.Idle() {
		t.Error("a removed handler still in its call is idle")
	}
	if !inf.Idle() {
		t.Error("the informer waits for a handler it no longer has")
	}
	close(gate)
	if err := reg.WaitIdle(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	if n := len(h.snapshot()); n != 1 {
		t.Errorf("a removed handler got %d calls, want only the one in progress", n)
	}
}

func TestInformerIsBusyWhileAResyncIsDue(t *testing.T) {
	src := seeded(2)
	clk := clocktest.New(time.Unix(1000, 0))
	inf := newTestInformer(src, Options[*widget]{Clock: clk, ResyncPeriod: time.Minute})
	h := newRecorder()
	if _, err := inf.AddHandler(h); err != nil {
		t.Fatal(err)
	}
	run(t, inf)
	waitSynced(t, inf)
	if err := inf.WaitIdle(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	if n := len(h.snapshot()); n != 2 {
		t.Fatalf("events after the initial list = %d, want 2", n)
	}
	// The resync loop arms its timer when it starts; step past it.
	if err := clk.BlockUntilWaiters(waitCtx(t), 2); err != nil { // the resync timer and the watch timeout
		t.Fatal(err)
	}
	clk.Step(time.Minute)
	// Step has only fired the timer; the resync runs in the informer's
	// goroutine. Until it has, the informer is not idle.
	if err := inf.WaitIdle(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	evs := h.snapshot()
	if len(evs) != 4 || evs[2].kind != "update" || evs[3].kind != "update" {
		t.Fatalf("events after a resync period = %v, want the 2 adds then 2 resync updates", summarize(evs))
	}
}

// timerClock is a fake clock that reports every timer armed with NewTimer
// (a reflector arms one only to wait out a backoff), so that a test moves
// the clock when something waits on it, never after a wall-clock pause.
type timerClock struct {
	*clocktest.Fake
	mu    sync.Mutex
	due   time.Time     // the latest deadline of a timer armed
	armed chan struct{} // capacity 1: a timer was armed
}

func newTimerClock() *timerClock {
	return &timerClock{Fake: clocktest.New(time.Unix(1000, 0)), armed: make(chan struct{}, 1)}
}

func (c *timerClock) NewTimer(d time.Duration) clock.Timer {
	t := c.Fake.NewTimer(d)
	due := c.Fake.Now().Add(d) // read after arming: never before the timer's deadline
	c.mu.Lock()
	if due.After(c.due) {
		c.due = due
	}
	c.mu.Unlock()
	select {
	case c.armed <- struct{}{}:
	default:
	}
	return t
}

// fireArmed moves the clock to the latest deadline of a timer armed, which
// fires it and every earlier one. A deadline already passed moves nothing.
func (c *timerClock) fireArmed() {
	c.mu.Lock()
	due := c.due
	c.mu.Unlock()
	c.SetTime(due)
}
