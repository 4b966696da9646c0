package mvcc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
)

// fill writes keys keys, each versions times, in transactions of 100
// puts, and returns the revision after the first round of puts.
func fill(t *testing.T, e *mvcc.Engine, keys, versions int) (firstRound int64) {
	t.Helper()
	ctx := ctxFor(t)
	for v := range versions {
		for lo := 0; lo < keys; lo += 100 {
			var ops []kv.Op
			for i := lo; i < min(lo+100, keys); i++ {
				ops = append(ops, kv.OpPutKV(fmt.Sprintf("/k/%06d", i), []byte(fmt.Sprint(v))))
			}
			if _, err := e.Txn(ctx, kv.TxnRequest{Success: ops}); err != nil {
				t.Fatal(err)
			}
		}
		if v == 0 {
			firstRound = e.Revision()
		}
	}
	return firstRound
}

// TestCompactionLetsWritersIn compacts 100k revisions of 10k keys and
// checks, at the first pause between batches, that the compaction has
// already taken effect for readers and that a writer gets through before
// the compaction ends.
func TestCompactionLetsWritersIn(t *testing.T) {
	const keys, versions, batch = 10_000, 10, 1000
	paused := make(chan struct{})
	resume := make(chan struct{})
	batches := 0 // pauses between batches
	e := newEngine(t, mvcc.WithCompactionHook(mvcc.Options{CompactionBatchLimit: batch}, func() {
		batches++
		if batches == 1 {
			paused <- struct{}{}
			<-resume
		}
	}))
	fill(t, e, keys, versions)
	rev := e.Revision() - 1 // the last round of puts stays in history
	ctx := ctxFor(t)
	done := make(chan error, 1)
	go func() { done <- e.Compact(ctx, rev) }()
	select {
	case <-paused:
	case err := <-done:
		t.Fatalf("Compact returned (%v) without releasing the write lock between batches", err)
	}

	// Mid-compaction: the compaction is visible, and exact.
	_, err := e.Range(ctx, kv.RangeRequest{Key: "/k/", Revision: rev - 1})
	var ce *kv.CompactedError
	if !errors.As(err, &ce) || ce.CompactRevision != rev {
		t.Fatalf("range below the compaction during it: %v", err)
	}
	at, err := e.Range(ctx, kv.RangeRequest{Key: "/k/", End: kv.PrefixEnd("/k/"), Revision: rev})
	if err != nil {
		t.Fatal(err)
	}
	if at.Count != keys || string(at.KVs[0].Value) != "9" || string(at.KVs[keys-1].Value) != "8" {
		t.Fatalf("range at the compaction revision during it: count %d, first %s, last %s", at.Count, at.KVs[0].Value, at.KVs[keys-1].Value)
	}
	// A writer gets the lock while the compaction is still running.
	wrote := mustPut(t, e, "/k/000000", "during")
	select {
	case err := <-done:
		t.Fatalf("compaction ended (%v) before the hook let it go on", err)
	default:
	}
	close(resume)
	if err := <-done; err != nil {
		t.Fatalf("Compact: %v", err)
	}
	// The hook runs between batches: one time fewer than there are.
	if batches+1 < keys/batch {
		t.Fatalf("%d batches for %d keys, want at least %d", batches+1, keys, keys/batch)
	}
	got, _, err := kv.Get(ctx, e, "/k/000000")
	if err != nil || got == nil || string(got.Value) != "during" || got.ModRevision != wrote {
		t.Fatalf("the write made during the compaction: %+v, %v", got, err)
	}
	// Every key now holds the revision current at rev and those after it,
	// no more: a snapshot restores (its validation rejects older history)
	// and re-encodes to the same bytes as an engine compacted in one go.
	var snap bytes.Buffer
	if err := e.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	ref := newEngine(t, mvcc.Options{CompactionBatchLimit: keys + 1})
	fill(t, ref, keys, versions)
	if err := ref.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	mustPut(t, ref, "/k/000000", "during")
	var want bytes.Buffer
	if err := ref.Snapshot(&want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snap.Bytes(), want.Bytes()) {
		t.Fatalf("state after a batched compaction differs from one compacted in one batch (%d vs %d bytes)", snap.Len(), want.Len())
	}
}

// TestCompactionInterleaved writes, deletes and compacts again between
// the batches of compactions (batches of 3 keys), and checks that the
// engine ends in the same state as one that compacts in one batch and
// is given the same calls in the same order.
func TestCompactionInterleaved(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			ctx := ctxFor(t)
			ref := newEngine(t, mvcc.Options{CompactionBatchLimit: 1 << 30})
			var e *mvcc.Engine
			steps := 0
			// step applies one random call to both engines.
			step := func() {
				steps++
				key := fmt.Sprintf("/k/%02d", rng.IntN(40))
				switch n := rng.IntN(10); {
				case n < 6:
					v := []byte(fmt.Sprint(steps))
					_, errA := kv.Put(ctx, e, key, v)
					_, errB := kv.Put(ctx, ref, key, v)
					if errA != nil || errB != nil {
						t.Fatalf("put: %v, %v", errA, errB)
					}
				case n < 8:
					end := fmt.Sprintf("/k/%02d", rng.IntN(40))
					_, _, errA := kv.Delete(ctx, e, key, end)
					_, _, errB := kv.Delete(ctx, ref, key, end)
					if errA != nil || errB != nil {
						t.Fatalf("delete: %v, %v", errA, errB)
					}
				default:
					lo := e.CompactRevision() + 1
					if hi := e.Revision(); lo <= hi {
						rev := lo + rng.Int64N(hi-lo+1)
						// The reference first: e's batches run
						// further steps on both.
						errB := ref.Compact(ctx, rev)
						errA := e.Compact(ctx, rev)
						if errA != nil || errB != nil {
							t.Fatalf("compact at %d: %v, %v", rev, errA, errB)
						}
					}
				}
			}
			const total = 400
			e = newEngine(t, mvcc.WithCompactionHook(mvcc.Options{CompactionBatchLimit: 3}, func() {
				if steps < total {
					step()
				}
			}))
			for steps < total {
				step()
			}
			var got, want bytes.Buffer
			if err := e.Snapshot(&got); err != nil {
				t.Fatal(err)
			}
			if err := ref.Snapshot(&want); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("after %d steps the batched engine differs from the reference", steps)
			}
		})
	}
}

// TestSnapshotDuringCompaction takes a snapshot between two batches of a
// compaction: it must hold no history below the compaction revision, or
// Restore rejects it.
func TestSnapshotDuringCompaction(t *testing.T) {
	paused := make(chan struct{})
	resume := make(chan struct{})
	var pauses atomic.Int32
	e := newEngine(t, mvcc.WithCompactionHook(mvcc.Options{CompactionBatchLimit: 10}, func() {
		if pauses.Add(1) == 1 {
			paused <- struct{}{}
			<-resume
		}
	}))
	fill(t, e, 100, 3)
	rev := e.Revision() - 1
	ctx := ctxFor(t)
	done := make(chan error, 1)
	go func() { done <- e.Compact(ctx, rev) }()
	<-paused
	var snap bytes.Buffer
	if err := e.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	close(resume)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	restored := newEngine(t, mvcc.Options{})
	if err := restored.Restore(&snap); err != nil {
		t.Fatalf("restoring a snapshot taken during a compaction: %v", err)
	}
	if restored.CompactRevision() != rev {
		t.Fatalf("restored compaction revision %d, want %d", restored.CompactRevision(), rev)
	}
}

// TestAutoCompactionOutsideWrites checks that the write that triggers an
// automatic compaction by revisions does not remove the history itself:
// it returns while the removal goes on in the background, and other
// writes get through between its batches.
func TestAutoCompactionOutsideWrites(t *testing.T) {
	paused := make(chan struct{})
	resume := make(chan struct{})
	var pauses atomic.Int32
	e := newEngine(t, mvcc.WithCompactionHook(mvcc.Options{AutoCompactRevisions: 100, CompactionBatchLimit: 10}, func() {
		if pauses.Add(1) == 1 {
			paused <- struct{}{}
			<-resume
		}
	}))
	defer close(resume)
	fill(t, e, 1000, 1) // revisions 1..10
	for e.CompactRevision() == 0 {
		mustPut(t, e, "/other", "x") // the put of revision 111 compacts
	}
	if cr := e.CompactRevision(); cr != e.Revision()-100 {
		t.Fatalf("compaction revision %d at revision %d, want 100 kept", cr, e.Revision())
	}
	select {
	case <-paused:
	case <-time.After(timeout):
		t.Fatal("no batch of the automatic compaction ran in the background")
	}
	mustPut(t, e, "/other", "during")
	_, err := e.Range(ctxFor(t), kv.RangeRequest{Key: "/k/000000", Revision: e.CompactRevision() - 1})
	if !errors.Is(err, kv.ErrCompacted) {
		t.Fatalf("range below the automatic compaction while it runs: %v", err)
	}
}

// TestCatchUpMeetsCompaction compacts the history while a watch from the
// past is still replaying it (5000 revisions, far more than the watcher's
// buffer of 2 responses of at most 1024 revisions holds): the watch
// delivers an unbroken prefix of the history, then ends with a
// CompactedError.
func TestCatchUpMeetsCompaction(t *testing.T) {
	e := newEngine(t, mvcc.Options{WatchBufferSize: 2, WatchWindow: 16})
	const revs = 5000
	for i := range revs {
		mustPut(t, e, fmt.Sprintf("/k/%d", i%7), fmt.Sprint(i))
	}
	ctx, cancel := context.WithCancel(ctxFor(t))
	defer cancel()
	ch, err := e.Watch(ctx, kv.WatchRequest{Key: "/k/", End: kv.PrefixEnd("/k/"), StartRevision: 1})
	if err != nil {
		t.Fatal(err)
	}
	next := int64(1)
	take := func(resp kv.WatchResponse) {
		t.Helper()
		for _, ev := range resp.Events {
			if ev.KV.ModRevision != next {
				t.Fatalf("event at revision %d, want %d: a gap", ev.KV.ModRevision, next)
			}
			next++
		}
	}
	first, ok := recv(t, ch)
	if !ok || first.Err != nil {
		t.Fatalf("first response: %+v, open=%v", first, ok)
	}
	take(first)
	if err := e.Compact(ctxFor(t), revs); err != nil {
		t.Fatal(err)
	}
	for {
		resp, ok := recv(t, ch)
		if !ok {
			t.Fatal("watch closed without an error")
		}
		if resp.Err != nil {
			var ce *kv.CompactedError
			if !errors.As(resp.Err, &ce) || ce.CompactRevision != revs {
				t.Fatalf("watch ended with %v, want a CompactedError at %d", resp.Err, revs)
			}
			if next > revs {
				t.Fatalf("watch delivered all %d revisions, then ended with %v", revs, resp.Err)
			}
			drain(t, ch)
			return
		}
		take(resp)
	}
}
