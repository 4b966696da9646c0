package etcdkv_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/governor-io/governor/store/etcdkv/embedded"
	"github.com/governor-io/governor/store/kv"
)

// waitTimeout guards every wait for a watch response. A passing run never
// waits it out.
const waitTimeout = 60 * time.Second

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// write puts n values under key and returns their revisions.
func write(t *testing.T, k kv.KV, key string, from, n int) []int64 {
	t.Helper()
	var revs []int64
	for i := from; i < from+n; i++ {
		rev, err := kv.Put(testCtx(t), k, key, []byte(fmt.Sprint(i)))
		if err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
		revs = append(revs, rev)
	}
	return revs
}

// follower reads a watch and checks the no-gap rule: every event it
// receives is the next expected write, in order.
type follower struct {
	t    *testing.T
	ch   <-chan kv.WatchResponse
	got  []int64 // revisions delivered
	last int64   // highest revision a response vouched for
}

func follow(t *testing.T, k kv.KV, req kv.WatchRequest) *follower {
	t.Helper()
	ctx, cancel := context.WithCancel(testCtx(t))
	ch, err := k.Watch(ctx, req)
	if err != nil {
		cancel()
		t.Fatalf("watch: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		for range ch {
		}
	})
	return &follower{t: t, ch: ch}
}

// until reads responses until the events at every revision in want have
// arrived, in order and with nothing between them, or until the watch
// ends. It returns the terminal error, if any.
func (f *follower) until(want []int64) error {
	f.t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for len(f.got) < len(want) {
		select {
		case resp, ok := <-f.ch:
			if !ok {
				f.t.Fatalf("watch channel closed without an error after revisions %v", f.got)
			}
			if resp.Err != nil {
				return resp.Err
			}
			for _, e := range resp.Events {
				if n := len(f.got); n >= len(want) || e.KV.ModRevision != want[n] {
					f.t.Fatalf("event at revision %d after %v: want the writes %v in order, with no gap", e.KV.ModRevision, f.got, want)
				}
				f.got = append(f.got, e.KV.ModRevision)
			}
			if resp.Revision < f.last {
				f.t.Fatalf("response revision went back from %d to %d", f.last, resp.Revision)
			}
			f.last = resp.Revision
		case <-timer.C:
			f.t.Fatalf("got revisions %v of %v within %v", f.got, want, waitTimeout)
		}
	}
	return nil
}

// TestWatchResumesAfterLostConnection cuts the watching client off from
// etcd, writes meanwhile, and checks that the watch delivers what it
// missed, in order, once the connection is back.
func TestWatchResumesAfterLostConnection(t *testing.T) {
	srv := sharedServer(t)
	px := newProxy(t, srv.Endpoint())
	watching, writer := newKVAt(t, px.Addr()), newKV(t, srv)
	f := follow(t, watching, kv.WatchRequest{Key: "k"})

	want := write(t, writer, "k", 0, 3)
	if err := f.until(want); err != nil {
		t.Fatal(err)
	}
	px.Cut()
	want = append(want, write(t, writer, "k", 3, 3)...)
	px.Restore()
	want = append(want, write(t, writer, "k", 6, 2)...)
	if err := f.until(want); err != nil {
		t.Fatalf("watch ended after the connection came back: %v", err)
	}
}

// TestWatchCompactedWhileCutOff compacts the history a cut-off watch needs:
// the watch must end with a CompactedError that names the compaction
// revision, never skip to the present.
func TestWatchCompactedWhileCutOff(t *testing.T) {
	srv := sharedServer(t)
	px := newProxy(t, srv.Endpoint())
	watching, writer := newKVAt(t, px.Addr()), newKV(t, srv)
	f := follow(t, watching, kv.WatchRequest{Key: "k", PrevKV: true})

	want := write(t, writer, "k", 0, 2)
	if err := f.until(want); err != nil {
		t.Fatal(err)
	}
	px.Cut()
	missed := write(t, writer, "k", 2, 3)
	compactAt := missed[len(missed)-1]
	if err := writer.Compact(testCtx(t), compactAt); err != nil {
		t.Fatal(err)
	}
	px.Restore()

	err := f.until(append(want, missed...))
	var ce *kv.CompactedError
	if !errors.As(err, &ce) {
		t.Fatalf("watch through a compaction of its missed history: got %v, want a CompactedError", err)
	}
	if ce.CompactRevision != compactAt {
		t.Fatalf("CompactedError at %d, want %d", ce.CompactRevision, compactAt)
	}
	if len(f.got) != len(want) {
		t.Fatalf("delivered %v before the error, want exactly %v", f.got, want)
	}
	// The error says where to resume from; a new watch from there works.
	g := follow(t, watching, kv.WatchRequest{Key: "k", StartRevision: ce.CompactRevision + 1})
	more := write(t, writer, "k", 5, 1)
	if err := g.until(more); err != nil {
		t.Fatal(err)
	}
}

// TestWatchSurvivesEtcdRestart stops etcd and starts it again on the same
// data and ports while a watch is open. Writes made after the restart,
// before the watch has reconnected, must all arrive; with a compaction
// thrown in, the watch may instead end with a CompactedError, but only if
// it delivered every event below the compaction revision first.
func TestWatchSurvivesEtcdRestart(t *testing.T) {
	for _, compact := range []bool{false, true} {
		t.Run(fmt.Sprintf("compact=%v", compact), func(t *testing.T) {
			ctx := testCtx(t)
			srv, err := embedded.Start(ctx, embedded.Config{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Close)
			watching := newKV(t, srv)
			f := follow(t, watching, kv.WatchRequest{Key: "k"})
			want := write(t, watching, "k", 0, 3)
			if err := f.until(want); err != nil {
				t.Fatal(err)
			}

			// Stop takes etcd's request timeout (about 7s): it waits for
			// the open watch stream before closing it.
			if err := srv.Stop(); err != nil {
				t.Fatal(err)
			}
			if err := srv.Start(ctx); err != nil {
				t.Fatal(err)
			}
			writer := newKV(t, srv)
			after := write(t, writer, "k", 3, 4)
			want = append(want, after...)
			if compact {
				if err := writer.Compact(ctx, after[len(after)-1]); err != nil {
					t.Fatal(err)
				}
			}
			err = f.until(want)
			t.Logf("watch after the restart: %v", err)
			if err == nil {
				return
			}
			var ce *kv.CompactedError
			if !compact || !errors.As(err, &ce) {
				t.Fatalf("watch across the restart ended with %v", err)
			}
			if next := want[len(f.got)]; next > ce.CompactRevision {
				t.Fatalf("watch ended compacted at %d although revision %d was still readable", ce.CompactRevision, next)
			}
		})
	}
}

// TestProgressForFutureStart checks a case etcd itself leaves unanswered:
// a watch that starts after the current revision (the usual
// list-then-watch) gets its progress notification at once.
func TestProgressForFutureStart(t *testing.T) {
	k := newKV(t, sharedServer(t))
	rev := write(t, k, "k", 0, 1)[0]
	f := follow(t, k, kv.WatchRequest{Key: "k", StartRevision: rev + 1, ProgressNotify: true})
	if err := k.RequestProgress(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	resp := f.next()
	if !resp.ProgressNotify || resp.Revision < rev {
		t.Fatalf("got %+v, want a progress notification at %d or later", resp, rev)
	}
}

// TestProgressWhileCatchingUp asks for progress while a watch replays a
// long history: the notification must come after every event up to the
// revision current at the request.
func TestProgressWhileCatchingUp(t *testing.T) {
	k := newKV(t, sharedServer(t))
	ops := make([]kv.Op, 0, 100)
	var first int64
	for i := range 30 {
		ops = ops[:0]
		for j := range 100 {
			ops = append(ops, kv.OpPutKV(fmt.Sprintf("k/%d", j), []byte(fmt.Sprint(i))))
		}
		resp, err := k.Txn(testCtx(t), kv.TxnRequest{Success: ops})
		if err != nil {
			t.Fatal(err)
		}
		if first == 0 {
			first = resp.Revision
		}
	}
	f := follow(t, k, kv.WatchRequest{Key: "k/", End: kv.PrefixEnd("k/"), StartRevision: first, ProgressNotify: true})
	if err := k.RequestProgress(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	seen := int64(0)
	for {
		resp := f.next()
		if resp.Err != nil {
			t.Fatal(resp.Err)
		}
		if resp.ProgressNotify {
			if seen != first+29 || resp.Revision < seen {
				t.Fatalf("progress at %d after events through %d, want after %d", resp.Revision, seen, first+29)
			}
			return
		}
		seen = resp.Events[len(resp.Events)-1].KV.ModRevision
	}
}

// next returns the next response.
func (f *follower) next() kv.WatchResponse {
	f.t.Helper()
	select {
	case resp, ok := <-f.ch:
		if !ok {
			f.t.Fatal("watch channel closed")
		}
		return resp
	case <-time.After(waitTimeout):
		f.t.Fatalf("no response within %v", waitTimeout)
	}
	return kv.WatchResponse{}
}

// TestPeriodicProgress checks that etcd's periodic progress notifications
// reach a watch that asked for them, with a revision it has caught up to.
// (The interval is process-wide in etcd; 100ms is its minimum and harmless
// to the other tests, whose watches skip notifications.)
func TestPeriodicProgress(t *testing.T) {
	ctx := testCtx(t)
	srv, err := embedded.Start(ctx, embedded.Config{Dir: t.TempDir(), ProgressNotifyInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	k := newKV(t, srv)
	rev := write(t, k, "k", 0, 1)[0]
	f := follow(t, k, kv.WatchRequest{Key: "k", StartRevision: rev, ProgressNotify: true})
	if err := f.until([]int64{rev}); err != nil {
		t.Fatal(err)
	}
	other := write(t, k, "other", 0, 1)[0]
	for {
		resp := f.next()
		if resp.Err != nil || len(resp.Events) > 0 {
			t.Fatalf("got %+v, want only progress notifications", resp)
		}
		if resp.ProgressNotify && resp.Revision >= other {
			return
		}
	}
}
