package mvcc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
)

const timeout = 20 * time.Second

func newEngine(t *testing.T, opts mvcc.Options) *mvcc.Engine {
	t.Helper()
	e := mvcc.New(opts)
	t.Cleanup(func() { e.Close() })
	return e
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*timeout)
	t.Cleanup(cancel)
	return ctx
}

func mustPut(t *testing.T, e kv.KV, key, value string) int64 {
	t.Helper()
	rev, err := kv.Put(ctxFor(t), e, key, []byte(value))
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return rev
}

func recv(t *testing.T, ch <-chan kv.WatchResponse) (kv.WatchResponse, bool) {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case resp, ok := <-ch:
		return resp, ok
	case <-timer.C:
		t.Fatalf("no watch response within %v", timeout)
		return kv.WatchResponse{}, false
	}
}

// drain cancels nothing; it reads ch until it closes.
func drain(t *testing.T, ch <-chan kv.WatchResponse) {
	t.Helper()
	for {
		if _, ok := recv(t, ch); !ok {
			return
		}
	}
}

func TestLaggingWatcherEndsWithResumeRevision(t *testing.T) {
	e := newEngine(t, mvcc.Options{WatchBufferSize: 4})
	ctx, cancel := context.WithCancel(ctxFor(t))
	defer cancel()
	ch, err := e.Watch(ctx, kv.WatchRequest{Key: "/k/", End: kv.PrefixEnd("/k/")})
	if err != nil {
		t.Fatal(err)
	}
	// Nobody reads: the writers must go on, and the watcher must end once
	// its buffer is full, with its terminal response in the last slot.
	var last int64
	for i := 0; len(ch) < cap(ch); i++ {
		if i == 1_000_000 {
			t.Fatalf("watcher never ended; %d responses buffered", len(ch))
		}
		last = mustPut(t, e, fmt.Sprintf("/k/%d", i%10), "v")
	}
	var got []int64
	var lagErr *kv.LaggingError
	for {
		resp, ok := recv(t, ch)
		if !ok {
			break
		}
		if resp.Err != nil {
			if !errors.As(resp.Err, &lagErr) || !errors.Is(resp.Err, kv.ErrWatcherLagging) {
				t.Fatalf("terminal error %v, want a LaggingError", resp.Err)
			}
			continue
		}
		for _, ev := range resp.Events {
			got = append(got, ev.KV.ModRevision)
		}
	}
	if lagErr == nil {
		t.Fatal("channel closed without a LaggingError")
	}
	if len(got) == 0 || lagErr.ResumeRevision != got[len(got)-1]+1 {
		t.Fatalf("resume revision %d after delivering %v", lagErr.ResumeRevision, got)
	}
	// Resuming from the revision given misses nothing.
	ch2, err := e.Watch(ctx, kv.WatchRequest{Key: "/k/", End: kv.PrefixEnd("/k/"), StartRevision: lagErr.ResumeRevision})
	if err != nil {
		t.Fatal(err)
	}
	for got[len(got)-1] < last {
		resp, ok := recv(t, ch2)
		if !ok || resp.Err != nil {
			t.Fatalf("resumed watch ended: %v", resp.Err)
		}
		for _, ev := range resp.Events {
			got = append(got, ev.KV.ModRevision)
		}
	}
	for i, r := range got {
		if r != got[0]+int64(i) {
			t.Fatalf("gap or duplicate at %d: %v", i, got)
		}
	}
	cancel()
	drain(t, ch2)
}

func TestCatchUpDoesNotBlockWriters(t *testing.T) {
	e := newEngine(t, mvcc.Options{WatchWindow: 8, WatchBufferSize: 2})
	for i := range 200 {
		mustPut(t, e, fmt.Sprintf("/k/%d", i), "v")
	}
	ctx, cancel := context.WithCancel(ctxFor(t))
	ch, err := e.Watch(ctx, kv.WatchRequest{Key: "/k/", End: kv.PrefixEnd("/k/"), StartRevision: 1})
	if err != nil {
		t.Fatal(err)
	}
	// The catch-up goroutine blocks on the unread channel; writes go on.
	for i := range 2000 {
		mustPut(t, e, fmt.Sprintf("/k/%d", i%50), "w")
	}
	var n int64
	var lastRev int64
	for lastRev < e.Revision() {
		resp, ok := recv(t, ch)
		if !ok {
			t.Fatal("watch closed")
		}
		if resp.Err != nil {
			// A burst past the window with a two-slot buffer may end it.
			if !errors.Is(resp.Err, kv.ErrWatcherLagging) {
				t.Fatalf("watch ended with %v", resp.Err)
			}
			break
		}
		for _, ev := range resp.Events {
			n++
			if ev.KV.ModRevision != n {
				t.Fatalf("event %d at revision %d", n, ev.KV.ModRevision)
			}
			lastRev = ev.KV.ModRevision
		}
	}
	cancel()
	drain(t, ch)
}

func TestAutoCompactByRevisions(t *testing.T) {
	e := newEngine(t, mvcc.Options{AutoCompactRevisions: 10})
	for i := range 100 {
		mustPut(t, e, fmt.Sprintf("k%d", i%3), fmt.Sprint(i))
	}
	cr := e.CompactRevision()
	if cr < 100-11 || cr > 90 {
		t.Fatalf("compact revision %d after 100 writes keeping 10", cr)
	}
	if _, err := e.Range(ctxFor(t), kv.RangeRequest{Key: "k0", Revision: 90}); err != nil {
		t.Fatalf("range within the window: %v", err)
	}
	_, err := e.Range(ctxFor(t), kv.RangeRequest{Key: "k0", Revision: cr - 1})
	if !errors.Is(err, kv.ErrCompacted) {
		t.Fatalf("range below the window: %v", err)
	}
}

func TestAutoCompactByAge(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	checked := make(chan struct{}, 1)
	e := newEngine(t, mvcc.WithAgeCheckHook(mvcc.Options{Clock: clk, AutoCompactAge: 10 * time.Second}, func() {
		checked <- struct{}{}
	}))
	if err := clk.BlockUntilWaiters(ctxFor(t), 1); err != nil {
		t.Fatal(err)
	}
	step := func() {
		t.Helper()
		clk.Step(time.Second)
		select {
		case <-checked:
		case <-time.After(timeout):
			t.Fatal("age check did not run")
		}
	}
	for i := range 5 {
		mustPut(t, e, "k", fmt.Sprint(i)) // revisions 1..5 at t=0
	}
	step() // t=1s: sample rev 5
	for i := range 5 {
		mustPut(t, e, "k", fmt.Sprint(i)) // revisions 6..10 at t=1s
	}
	for range 9 { // t=2s..10s
		step()
	}
	if cr := e.CompactRevision(); cr != 0 {
		t.Fatalf("compacted to %d before anything aged out", cr)
	}
	step() // t=11s: the sample at t=1s (rev 5) is 10s old
	if cr := e.CompactRevision(); cr != 5 {
		t.Fatalf("compact revision %d, want 5", cr)
	}
	step() // t=12s: the sample at t=2s (rev 10) is 10s old
	if cr := e.CompactRevision(); cr != 10 {
		t.Fatalf("compact revision %d, want 10", cr)
	}
}

func TestPeriodicProgressNotify(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e := newEngine(t, mvcc.Options{Clock: clk, ProgressInterval: time.Minute})
	ctx, cancel := context.WithCancel(ctxFor(t))
	defer cancel()
	rev := mustPut(t, e, "other", "x")
	ch, err := e.Watch(ctx, kv.WatchRequest{Key: "k", ProgressNotify: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := clk.BlockUntilWaiters(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clk.Step(time.Minute)
	resp, _ := recv(t, ch)
	if !resp.ProgressNotify || resp.Revision != rev || len(resp.Events) != 0 {
		t.Fatalf("want an idle progress notification at %d, got %+v", rev, resp)
	}
	r2 := mustPut(t, e, "k", "v")
	resp, _ = recv(t, ch)
	if len(resp.Events) != 1 || resp.Events[0].KV.ModRevision != r2 {
		t.Fatalf("want the put at %d, got %+v", r2, resp)
	}
	cancel()
	drain(t, ch)
}

// randomTxn returns a seeded random transaction over a few keys.
func randomTxn(rng *rand.Rand) kv.TxnRequest {
	key := func() string { return fmt.Sprintf("/r/%d", rng.IntN(8)) }
	var req kv.TxnRequest
	if rng.IntN(3) == 0 {
		req.Compare = []kv.Compare{{Key: key(), Target: kv.CompareVersion, Result: kv.CompareResult(rng.IntN(4)), Int: int64(rng.IntN(3))}}
	}
	for branch := range 2 {
		var ops []kv.Op
		used := map[string]bool{}
		for range rng.IntN(4) {
			k := key()
			switch rng.IntN(4) {
			case 0:
				ops = append(ops, kv.OpGet(k))
			case 1:
				if !used[k] {
					ops = append(ops, kv.OpDeleteKey(k))
					used[k] = true
				}
			default:
				if !used[k] {
					ops = append(ops, kv.OpPutKV(k, []byte(fmt.Sprint(rng.Int()))))
					used[k] = true
				}
			}
		}
		if branch == 0 {
			req.Success = ops
		} else {
			req.Failure = ops
		}
	}
	return req
}

func snapshot(t *testing.T, e *mvcc.Engine) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := e.Snapshot(&buf); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return buf.Bytes()
}

func TestDeterministic(t *testing.T) {
	ctx := ctxFor(t)
	a, b := newEngine(t, mvcc.Options{}), newEngine(t, mvcc.Options{})
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 2000 {
		req := randomTxn(rng)
		ra, errA := a.Txn(ctx, req)
		rb, errB := b.Txn(ctx, req)
		if (errA == nil) != (errB == nil) || (errA == nil && (ra.Revision != rb.Revision || ra.Succeeded != rb.Succeeded)) {
			t.Fatalf("txn %d diverged: %v %v / %+v %+v", i, errA, errB, ra, rb)
		}
		if i%300 == 299 {
			rev := a.Revision() - 5
			errA, errB = a.Compact(ctx, rev), b.Compact(ctx, rev)
			if (errA == nil) != (errB == nil) {
				t.Fatalf("compact diverged: %v %v", errA, errB)
			}
		}
	}
	if !bytes.Equal(snapshot(t, a), snapshot(t, b)) {
		t.Fatal("same calls, different state")
	}
}

// buildHistory writes a seeded history with a compaction in the middle.
func buildHistory(t *testing.T, e *mvcc.Engine, seed uint64, n int) {
	t.Helper()
	ctx := ctxFor(t)
	rng := rand.New(rand.NewPCG(seed, seed))
	for i := range n {
		if _, err := e.Txn(ctx, randomTxn(rng)); err != nil {
			t.Fatal(err)
		}
		if i == n/2 {
			if err := e.Compact(ctx, e.Revision()-3); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	ctx := ctxFor(t)
	src := newEngine(t, mvcc.Options{})
	buildHistory(t, src, 1, 400)
	data := snapshot(t, src)

	dst := newEngine(t, mvcc.Options{})
	mustPut(t, dst, "/to/be/replaced", "x")
	if err := dst.Restore(bytes.NewReader(data)); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if dst.Revision() != src.Revision() || dst.CompactRevision() != src.CompactRevision() {
		t.Fatalf("restored revisions %d/%d, want %d/%d", dst.Revision(), dst.CompactRevision(), src.Revision(), src.CompactRevision())
	}
	for rev := src.CompactRevision(); rev <= src.Revision(); rev++ {
		want, err := src.Range(ctx, kv.RangeRequest{Key: "\x00", End: "\x00", Revision: rev})
		if err != nil {
			t.Fatal(err)
		}
		got, err := dst.Range(ctx, kv.RangeRequest{Key: "\x00", End: "\x00", Revision: rev})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got.KVs) != fmt.Sprint(want.KVs) {
			t.Fatalf("at %d: restored %v, want %v", rev, got.KVs, want.KVs)
		}
	}
	if !bytes.Equal(snapshot(t, dst), data) {
		t.Fatal("snapshot of the restored engine differs")
	}
	// Both engines continue identically.
	rng := rand.New(rand.NewPCG(9, 9))
	for range 100 {
		req := randomTxn(rng)
		ra, _ := src.Txn(ctx, req)
		rb, _ := dst.Txn(ctx, req)
		if ra.Revision != rb.Revision {
			t.Fatalf("diverged after restore: %d vs %d", ra.Revision, rb.Revision)
		}
	}
	if !bytes.Equal(snapshot(t, dst), snapshot(t, src)) {
		t.Fatal("engines diverged after restore")
	}
}

func TestRestoreMovesWatchersForward(t *testing.T) {
	ctx, cancel := context.WithCancel(ctxFor(t))
	defer cancel()
	leader, follower := newEngine(t, mvcc.Options{}), newEngine(t, mvcc.Options{})
	for i := range 5 {
		mustPut(t, leader, "k", fmt.Sprint(i))
		mustPut(t, follower, "k", fmt.Sprint(i))
	}
	ch, err := follower.Watch(ctx, kv.WatchRequest{Key: "k", PrevKV: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := 5; i < 10; i++ {
		mustPut(t, leader, "k", fmt.Sprint(i))
	}
	if err := follower.Restore(bytes.NewReader(snapshot(t, leader))); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 5 {
		resp, ok := recv(t, ch)
		if !ok || resp.Err != nil {
			t.Fatalf("watch ended: %v", resp.Err)
		}
		for _, ev := range resp.Events {
			got = append(got, fmt.Sprintf("%d:%s<-%s", ev.KV.ModRevision, ev.KV.Value, ev.PrevKV.Value))
		}
	}
	want := []string{"6:5<-4", "7:6<-5", "8:7<-6", "9:8<-7", "10:9<-8"}
	if !slices.Equal(got, want) {
		t.Fatalf("after restore the watcher got %v, want %v", got, want)
	}
	cancel()
	drain(t, ch)
}

func TestRestoreRejectsBadSnapshots(t *testing.T) {
	src := newEngine(t, mvcc.Options{})
	buildHistory(t, src, 3, 50)
	good := snapshot(t, src)
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	for name, data := range map[string][]byte{
		"empty":                  nil,
		"garbage":                []byte("not a snapshot at all"),
		"truncated":              good[:len(good)-7],
		"bit flip":               flipped,
		"version 2":              mvcc.EncodeRawSnapshot(2, 1, 0, nil),
		"compact above revision": mvcc.EncodeRawSnapshot(1, 3, 5, nil),
		"keys out of order": mvcc.EncodeRawSnapshot(1, 2, 0, []mvcc.RawKey{
			{Key: "b", Entries: []mvcc.RawEntry{{ModRev: 1, CreateRev: 1, Version: 1}}},
			{Key: "a", Entries: []mvcc.RawEntry{{ModRev: 2, CreateRev: 2, Version: 1}}},
		}),
		"entry above revision": mvcc.EncodeRawSnapshot(1, 1, 0, []mvcc.RawKey{
			{Key: "a", Entries: []mvcc.RawEntry{{ModRev: 2, CreateRev: 2, Version: 1}}},
		}),
		"tombstone first": mvcc.EncodeRawSnapshot(1, 1, 0, []mvcc.RawKey{
			{Key: "a", Entries: []mvcc.RawEntry{{ModRev: 1}}},
		}),
		"bad version": mvcc.EncodeRawSnapshot(1, 2, 0, []mvcc.RawKey{
			{Key: "a", Entries: []mvcc.RawEntry{{ModRev: 1, CreateRev: 1, Version: 1}, {ModRev: 2, CreateRev: 1, Version: 3}}},
		}),
		"history below compaction": mvcc.EncodeRawSnapshot(1, 3, 2, []mvcc.RawKey{
			{Key: "a", Entries: []mvcc.RawEntry{{ModRev: 1, CreateRev: 1, Version: 1}, {ModRev: 2, CreateRev: 1, Version: 2}}},
		}),
	} {
		dst := newEngine(t, mvcc.Options{})
		rev := mustPut(t, dst, "keep", "me")
		err := dst.Restore(bytes.NewReader(data))
		if !errors.Is(err, mvcc.ErrBadSnapshot) {
			t.Errorf("%s: restore gave %v, want ErrBadSnapshot", name, err)
		}
		if got, _, _ := kv.Get(ctxFor(t), dst, "keep"); got == nil || dst.Revision() != rev {
			t.Errorf("%s: a failed restore changed the state", name)
		}
	}
	// The raw encoder itself produces loadable snapshots.
	ok := mvcc.EncodeRawSnapshot(1, 2, 0, []mvcc.RawKey{
		{Key: "a", Entries: []mvcc.RawEntry{{ModRev: 1, CreateRev: 1, Version: 1, Value: []byte("x")}, {ModRev: 2}}},
	})
	if err := newEngine(t, mvcc.Options{}).Restore(bytes.NewReader(ok)); err != nil {
		t.Fatalf("valid raw snapshot: %v", err)
	}
}

func FuzzRestore(f *testing.F) {
	for seed := range uint64(3) {
		e := mvcc.New(mvcc.Options{})
		rng := rand.New(rand.NewPCG(seed, seed))
		for range 20 {
			e.Txn(context.Background(), randomTxn(rng))
		}
		var buf bytes.Buffer
		e.Snapshot(&buf)
		e.Close()
		f.Add(buf.Bytes())
	}
	f.Add([]byte("GVRMVCC\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e := mvcc.New(mvcc.Options{})
		defer e.Close()
		err := e.Restore(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, mvcc.ErrBadSnapshot) {
				t.Fatalf("error %v does not wrap ErrBadSnapshot", err)
			}
			return
		}
		// Whatever loads must read back, and snapshot to the same bytes.
		var buf bytes.Buffer
		if err := e.Snapshot(&buf); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), data) {
			t.Fatalf("restored snapshot re-encodes differently")
		}
		if _, err := e.Range(context.Background(), kv.RangeRequest{Key: "\x00", End: "\x00", Revision: e.CompactRevision()}); err != nil {
			t.Fatalf("range of restored state: %v", err)
		}
	})
}
