package clocktest

import (
	"context"
	"fmt"
	"testing"
	"time"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestTimerFiresOnlyWhenDeadlineReached(t *testing.T) {
	f := New(epoch)
	tm := f.NewTimer(time.Second)
	f.Step(999 * time.Millisecond)
	select {
	case <-tm.C():
		t.Fatal("timer fired early")
	default:
	}
	f.Step(time.Millisecond)
	select {
	case got := <-tm.C():
		if !got.Equal(epoch.Add(time.Second)) {
			t.Fatalf("fired with %v", got)
		}
	default:
		t.Fatal("timer did not fire at its deadline")
	}
	if f.HasWaiters() {
		t.Fatal("fired timer is still armed")
	}
}

func TestTimerStopAndReset(t *testing.T) {
	f := New(epoch)
	tm := f.NewTimer(time.Second)
	if !tm.Stop() {
		t.Fatal("Stop of an armed timer reported false")
	}
	if tm.Stop() {
		t.Fatal("second Stop reported true")
	}
	if tm.Reset(2 * time.Second) {
		t.Fatal("Reset of a stopped timer reported active")
	}
	f.Step(2 * time.Second)
	select {
	case <-tm.C():
	default:
		t.Fatal("reset timer did not fire")
	}
}

func TestNonPositiveTimerFiresAtOnce(t *testing.T) {
	f := New(epoch)
	select {
	case <-f.NewTimer(0).C():
	default:
		t.Fatal("zero timer did not fire")
	}
}

func TestTickerDropsTicksLikeTimeTicker(t *testing.T) {
	f := New(epoch)
	tk := f.NewTicker(time.Second)
	defer tk.Stop()
	f.Step(5 * time.Second) // several periods pass; one tick is buffered
	<-tk.C()
	select {
	case <-tk.C():
		t.Fatal("ticker buffered more than one tick")
	default:
	}
	f.Step(time.Second)
	<-tk.C()
}

func TestAfterFuncRunsFunction(t *testing.T) {
	f := New(epoch)
	done := make(chan struct{})
	f.AfterFunc(time.Minute, func() { close(done) })
	f.Step(time.Minute)
	<-done
}

func TestBlockUntilWaiters(t *testing.T) {
	f := New(epoch)
	armed := make(chan struct{})
	go func() {
		tm := f.NewTimer(time.Second)
		close(armed)
		<-tm.C()
	}()
	if err := f.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	<-armed
	next, ok := f.NextDeadline()
	if !ok || !next.Equal(epoch.Add(time.Second)) {
		t.Fatalf("NextDeadline = %v, %v", next, ok)
	}
	f.Step(time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.BlockUntilWaiters(ctx, 5); err == nil {
		t.Fatal("BlockUntilWaiters ignored a cancelled context")
	}
}

func Example() {
	f := New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	timer := f.NewTimer(time.Minute)
	f.Step(30 * time.Second)
	fmt.Println("armed after 30s:", f.HasWaiters())
	f.Step(30 * time.Second)
	fmt.Println("fired at:", (<-timer.C()).Format(time.TimeOnly))
	// Output:
	// armed after 30s: true
	// fired at: 00:01:00
}

// TestNoStaleValueAfterStopOrReset checks the Go 1.23 semantics of
// time.Timer and time.Ticker: after Stop or Reset returns, a value sent
// before the call is never received.
func TestNoStaleValueAfterStopOrReset(t *testing.T) {
	f := New(epoch)
	tm := f.NewTimer(time.Second)
	f.Step(time.Second) // fires; nobody receives
	if !tm.Reset(time.Second) {
		t.Fatal("Reset of a timer whose value was not received reported false, want true as time.Timer")
	}
	select {
	case got := <-tm.C():
		t.Fatalf("received the stale value %v after Reset", got)
	default:
	}
	f.Step(time.Second)
	select {
	case got := <-tm.C():
		if !got.Equal(epoch.Add(2 * time.Second)) {
			t.Fatalf("after Reset the timer fired with %v, want %v", got, epoch.Add(2*time.Second))
		}
	default:
		t.Fatal("the reset timer did not fire")
	}

	f.Step(time.Second)
	tm.Reset(time.Second)
	f.Step(time.Second) // fires again; nobody receives
	if !tm.Stop() {
		t.Fatal("Stop of a timer whose value was not received reported false, want true as time.Timer")
	}
	select {
	case got := <-tm.C():
		t.Fatalf("received the stale value %v after Stop", got)
	default:
	}
	if tm.Stop() {
		t.Fatal("second Stop reported true")
	}

	tk := f.NewTicker(time.Second)
	f.Step(time.Second) // ticks; nobody receives
	tk.Stop()
	select {
	case got := <-tk.C():
		t.Fatalf("received the stale tick %v after Stop", got)
	default:
	}
}
