package rafttest

import (
	"context"
	"io"
	"sync"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a Handler that records what it is given.
type recorder struct {
	mu   sync.Mutex
	got  []uint64 // Index of each message, in arrival order
	done chan struct{}
	want int
}

func (r *recorder) Process(_ context.Context, m *raftpb.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, m.GetIndex())
	if len(r.got) == r.want {
		close(r.done)
	}
	return nil
}
func (r *recorder) ReceiveSnapshot(context.Context, *raftpb.Message, io.Reader) error { return nil }
func (r *recorder) OpenSnapshot(*raftpb.Message) (io.ReadCloser, int64, error)        { return nil, 0, io.EOF }
func (r *recorder) ReportUnreachable(uint64)                                          {}
func (r *recorder) ReportSnapshot(uint64, bool)                                       {}

func msgs(from, to uint64, n int) []*raftpb.Message {
	out := make([]*raftpb.Message, n)
	for i := range out {
		out[i] = &raftpb.Message{Type: raftpb.MsgApp.Enum(), From: new(from), To: new(to), Index: new(uint64(i))}
	}
	return out
}

func TestCutIsOneWay(t *testing.T) {
	nw := NewNetwork(1)
	a, b := nw.Transport(1), nw.Transport(2)
	ra, rb := &recorder{done: make(chan struct{}), want: 3}, &recorder{done: make(chan struct{}), want: -1}
	a.Start(ra)
	b.Start(rb)
	defer a.Close()
	defer b.Close()
	nw.Cut(1, 2)
	a.Send(msgs(1, 2, 3))
	b.Send(msgs(2, 1, 3))
	<-ra.done
	if sent, dropped, _, _ := nw.Stats(); sent != 6 || dropped != 3 {
		t.Fatalf("sent %d dropped %d, want 6 and 3", sent, dropped)
	}
}

func TestFaultsAreSeeded(t *testing.T) {
	run := func() (int, int, int) {
		nw := NewNetwork(42)
		a, b := nw.Transport(1), nw.Transport(2)
		rb := &recorder{done: make(chan struct{}), want: -1}
		a.Start(&recorder{done: make(chan struct{})})
		b.Start(rb)
		defer a.Close()
		defer b.Close()
		nw.SetFaults(Faults{Drop: 0.2, Duplicate: 0.2, Delay: 0.2})
		a.Send(msgs(1, 2, 500))
		_, d, u, l := nw.Stats()
		return d, u, l
	}
	d1, u1, l1 := run()
	d2, u2, l2 := run()
	if d1 != d2 || u1 != u2 || l1 != l2 || d1 == 0 || u1 == 0 || l1 == 0 {
		t.Fatalf("runs differ or inject nothing: %d/%d/%d vs %d/%d/%d", d1, u1, l1, d2, u2, l2)
	}
}
