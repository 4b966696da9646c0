package broadcast

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestBumpClosesOnlyTheChannelsTakenBeforeIt(t *testing.T) {
	var s Signal
	s.Bump() // nobody waits: a no-op
	a, b := s.Next(), s.Next()
	if a != b || closed(a) {
		t.Fatal("two waiters before a bump must share one open channel")
	}
	s.Bump()
	if !closed(a) {
		t.Fatal("Bump did not close the channel")
	}
	c := s.Next()
	if closed(c) {
		t.Fatal("a channel taken after the bump is already closed")
	}
	s.Bump()
	if !closed(c) {
		t.Fatal("the second Bump did not close the new channel")
	}
}

func TestAwaitWakesOnBumpAndStopsWithTheContext(t *testing.T) {
	var s Signal
	var n atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	checked := make(chan struct{}, 10)
	wg.Go(func() {
		errc <- Await(context.Background(), s.Next, func() bool {
			checked <- struct{}{}
			return n.Load() == 3
		})
	})
	for i := range 3 {
		<-checked // Await has taken its channel and checked: no bump is lost
		n.Store(int64(i + 1))
		s.Bump()
	}
	wg.Wait()
	if err := <-errc; err != nil {
		t.Fatalf("Await = %v, want nil", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Await(ctx, s.Next, func() bool { return false }); err != context.Canceled {
		t.Fatalf("Await with a done context = %v, want context.Canceled", err)
	}
}
