package kvtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/governor-io/governor/store/kv"
)

func compactCases() []testCase {
	return []testCase{
		{"CompactKeepsStateAtRevision", testCompact},
		{"CompactRejectsBadRevisions", testCompactErrors},
		{"WatchCompactedRevision", testWatchCompacted},
		{"LaggingWatchMeetsCompaction", testWatchLaggingCompacted},
	}
}

func watchCases() []testCase {
	return []testCase{
		{"WatchDeliversChanges", testWatchChanges},
		{"WatchSelectsKeys", testWatchSelects},
		{"WatchTxnIsAtomic", testWatchAtomic},
		{"WatchPrevKV", testWatchPrevKV},
		{"WatchResumesAtEveryRevision", testWatchResume},
		{"WatchFromPastThenLive", testWatchPastThenLive},
		{"WatchFromFutureRevision", testWatchFuture},
		{"WatchCancelClosesChannel", testWatchCancel},
		{"WatchProgressNotify", testWatchProgress},
		{"WatchRejectsBadRequests", testWatchErrors},
		{"CloseEndsEverything", testClose},
	}
}

// stream is an open watch under test. It checks the guarantees that hold
// for every response: events in revision order, no revision split across
// responses or delivered twice.
type stream struct {
	t      *caseT
	ch     <-chan kv.WatchResponse
	cancel context.CancelFunc
	last   int64 // highest event revision delivered so far
	// progress is whether the watch asked for progress notifications;
	// one that did not must get none.
	progress bool
}

func openWatch(t *caseT, k kv.KV, req kv.WatchRequest) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(testContext(t))
	ch, err := k.Watch(ctx, req)
	if err != nil {
		cancel()
		t.Fatalf("watch %+v: %v", req, err)
	}
	s := &stream{t: t, ch: ch, cancel: cancel, progress: req.ProgressNotify}
	t.Cleanup(s.stop)
	return s
}

// stop cancels the watch and waits for its channel to close.
func (s *stream) stop() {
	s.cancel()
	timer := time.NewTimer(s.t.timeout)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-s.ch:
			if !ok {
				return
			}
		case <-timer.C:
			s.t.Errorf("watch channel not closed %v after its context was cancelled", s.t.timeout)
			return
		}
	}
}

// recv returns the next response, failing if none comes or the channel
// closes.
func (s *stream) recv() kv.WatchResponse {
	s.t.Helper()
	resp, ok := s.next()
	if !ok {
		s.t.Fatalf("watch channel closed unexpectedly")
	}
	return resp
}

// next returns the next response, checked, or false when the channel
// closes; it fails if neither happens within the timeout.
func (s *stream) next() (kv.WatchResponse, bool) {
	s.t.Helper()
	timer := time.NewTimer(s.t.timeout)
	defer timer.Stop()
	select {
	case resp, ok := <-s.ch:
		if ok {
			s.check(resp)
		}
		return resp, ok
	case <-timer.C:
		s.t.Fatalf("no watch response within %v", s.t.timeout)
	}
	return kv.WatchResponse{}, false
}

func (s *stream) check(resp kv.WatchResponse) {
	s.t.Helper()
	if resp.ProgressNotify && len(resp.Events) > 0 {
		s.t.Fatalf("progress notification with %d events", len(resp.Events))
	}
	if resp.ProgressNotify && !s.progress {
		s.t.Fatalf("progress notification at revision %d on a watch opened without ProgressNotify", resp.Revision)
	}
	for i, ev := range resp.Events {
		r := ev.KV.ModRevision
		if r < s.last || (r == s.last && i == 0) {
			s.t.Fatalf("event %s at revision %d after revision %d: out of order, duplicated, or a txn split across responses", ev.KV.Key, r, s.last)
		}
		s.last = r
	}
	if len(resp.Events) > 0 && resp.Revision < s.last {
		s.t.Fatalf("response revision %d below its last event's %d", resp.Revision, s.last)
	}
}

// eventsThrough collects events until one at revision rev or later has
// arrived, with all the events of that revision, skipping progress
// notifications (which check allows only on a watch that asked for them).
// It fails on a terminal error.
func (s *stream) eventsThrough(rev int64) []kv.Event {
	s.t.Helper()
	var out []kv.Event
	for s.last < rev {
		resp := s.recv()
		if resp.Err != nil {
			s.t.Fatalf("watch ended with %v while waiting for revision %d", resp.Err, rev)
		}
		out = append(out, resp.Events...)
	}
	return out
}

// terminal waits for a response with Err set and for the channel to close.
func (s *stream) terminal() error {
	s.t.Helper()
	for {
		resp := s.recv()
		if resp.Err != nil {
			timer := time.NewTimer(s.t.timeout)
			defer timer.Stop()
			select {
			case _, ok := <-s.ch:
				if ok {
					s.t.Fatalf("response after the terminal error %v", resp.Err)
				}
			case <-timer.C:
				s.t.Fatalf("channel not closed after the terminal error %v", resp.Err)
			}
			return resp.Err
		}
	}
}

// ev describes an expected event.
type ev struct {
	typ   kv.EventType
	key   string
	value string
	rev   int64
}

func (e ev) String() string { return fmt.Sprintf("%v %s=%q@%d", e.typ, e.key, e.value, e.rev) }

func describe(events []kv.Event) []ev {
	out := make([]ev, len(events))
	for i, e := range events {
		out[i] = ev{e.Type, e.KV.Key, string(e.KV.Value), e.KV.ModRevision}
	}
	// The order of events within one revision is the engine's choice.
	slices.SortStableFunc(out, func(a, b ev) int {
		if a.rev != b.rev {
			return int(a.rev - b.rev)
		}
		return strings.Compare(a.key, b.key)
	})
	return out
}

func wantEvents(t *caseT, what string, got []kv.Event, want []ev) {
	t.Helper()
	slices.SortStableFunc(want, func(a, b ev) int {
		if a.rev != b.rev {
			return int(a.rev - b.rev)
		}
		return strings.Compare(a.key, b.key)
	})
	if g := describe(got); !slices.Equal(g, want) {
		t.Fatalf("%s:\n got  %v\n want %v", what, g, want)
	}
}

func testCompact(t *caseT, k kv.KV) {
	a, b, c := key(t, "a"), key(t, "b"), key(t, "c")
	put(t, k, a, "a1")
	r2 := put(t, k, a, "a2")
	put(t, k, b, "b1")
	_, r4 := del(t, k, b, "")
	put(t, k, c, "c1")
	r6 := put(t, k, a, "a3")
	if err := k.Compact(testContext(t), r4); err != nil {
		t.Fatalf("compact at %d: %v", r4, err)
	}
	_, err := k.Range(testContext(t), kv.RangeRequest{Key: a, Revision: r4 - 1})
	var ce *kv.CompactedError
	if !errors.As(err, &ce) || ce.CompactRevision != r4 {
		t.Fatalf("range below the compaction: got %v, want CompactedError at %d", err, r4)
	}
	// The state as of the compaction revision stays readable.
	at := rangeReq(t, k, kv.RangeRequest{Key: space(t), End: kv.PrefixEnd(space(t)), Revision: r4})
	wantKeys(t, "at the compaction revision", at.KVs, a)
	wantKV(t, "a at the compaction revision", &at.KVs[0], "a2", r2-1, r2, 2)
	now := rangeReq(t, k, kv.RangeRequest{Key: space(t), End: kv.PrefixEnd(space(t))})
	wantKeys(t, "after compaction", now.KVs, a, c)
	wantKV(t, "a after compaction", &now.KVs[0], "a3", r2-1, r6, 3)
}

func testCompactErrors(t *caseT, k kv.KV) {
	a := key(t, "a")
	r1 := put(t, k, a, "1")
	r2 := put(t, k, a, "2")
	ctx := testContext(t)
	err := k.Compact(ctx, r2+100)
	wantErr(t, "compact at a future revision", err, kv.ErrFutureRevision)
	if err := k.Compact(ctx, r2); err != nil {
		t.Fatalf("compact at %d: %v", r2, err)
	}
	for _, rev := range []int64{r2, r1} {
		err := k.Compact(ctx, rev)
		var ce *kv.CompactedError
		if !errors.As(err, &ce) || ce.CompactRevision != r2 {
			t.Fatalf("compact at %d after compacting at %d: got %v", rev, r2, err)
		}
	}
}

func testWatchCompacted(t *caseT, k kv.KV) {
	a := key(t, "a")
	put(t, k, a, "1")
	r2 := put(t, k, a, "2")
	if err := k.Compact(testContext(t), r2); err != nil {
		t.Fatal(err)
	}
	for _, start := range []int64{r2, r2 - 1} {
		_, err := k.Watch(testContext(t), kv.WatchRequest{Key: a, StartRevision: start})
		var ce *kv.CompactedError
		if !errors.As(err, &ce) || ce.CompactRevision != r2 {
			t.Fatalf("watch from %d after compacting at %d: got %v", start, r2, err)
		}
	}
	s := openWatch(t, k, kv.WatchRequest{Key: a, StartRevision: r2 + 1})
	r3 := put(t, k, a, "3")
	wantEvents(t, "watch after the compaction revision", s.eventsThrough(r3), []ev{{kv.EventPut, a, "3", r3}})
}

func testWatchChanges(t *caseT, k kv.KV) {
	p := space(t)
	a, b := p+"a", p+"b"
	s := openWatch(t, k, kv.WatchRequest{Key: p, End: kv.PrefixEnd(p)})
	r1 := put(t, k, a, "1")
	put(t, k, p[:len(p)-1]+"0", "outside")
	r2 := put(t, k, a, "2")
	_, r3 := del(t, k, a, "")
	r4 := put(t, k, b, "b")
	got := s.eventsThrough(r4)
	wantEvents(t, "events", got, []ev{
		{kv.EventPut, a, "1", r1}, {kv.EventPut, a, "2", r2}, {kv.EventDelete, a, "", r3}, {kv.EventPut, b, "b", r4},
	})
	wantKV(t, "first put", &got[0].KV, "1", r1, r1, 1)
	if got[0].PrevKV != nil {
		t.Fatalf("put of a new key carries PrevKV %s", fmtKV(got[0].PrevKV))
	}
	wantKV(t, "second put", &got[1].KV, "2", r1, r2, 2)
	d := got[2]
	if d.KV.Key != a || d.KV.ModRevision != r3 || d.KV.Version != 0 || d.KV.CreateRevision != 0 || len(d.KV.Value) != 0 {
		t.Fatalf("delete event KV: %s", fmtKV(&d.KV))
	}
	wantKV(t, "delete event PrevKV", d.PrevKV, "2", r1, r2, 2)
}

func testWatchSelects(t *caseT, k kv.KV) {
	p := space(t)
	one := openWatch(t, k, kv.WatchRequest{Key: p + "b"})
	from := openWatch(t, k, kv.WatchRequest{Key: p + "b", End: "\x00"})
	ra := put(t, k, p+"a", "a")
	rb := put(t, k, p+"b", "b")
	rbb := put(t, k, p+"bb", "bb")
	rc := put(t, k, p+"c", "c")
	_ = ra
	wantEvents(t, "single key", one.eventsThrough(rb), []ev{{kv.EventPut, p + "b", "b", rb}})
	rb2 := put(t, k, p+"b", "b2")
	wantEvents(t, "single key, next", one.eventsThrough(rb2), []ev{{kv.EventPut, p + "b", "b2", rb2}})
	var got []kv.Event
	for _, e := range from.eventsThrough(rb2) {
		if strings.HasPrefix(e.KV.Key, p) { // from-key also selects keys of other tests
			got = append(got, e)
		}
	}
	wantEvents(t, "from key", got, []ev{
		{kv.EventPut, p + "b", "b", rb}, {kv.EventPut, p + "bb", "bb", rbb}, {kv.EventPut, p + "c", "c", rc}, {kv.EventPut, p + "b", "b2", rb2},
	})
}

func testWatchAtomic(t *caseT, k kv.KV) {
	p := space(t)
	put(t, k, p+"x", "x")
	s := openWatch(t, k, kv.WatchRequest{Key: p, End: kv.PrefixEnd(p)})
	var ops []kv.Op
	for _, n := range []string{"e", "a", "d", "b", "c"} {
		ops = append(ops, kv.OpPutKV(p+n, []byte(n)))
	}
	ops = append(ops, kv.OpDeleteKey(p+"x"))
	rev := txn(t, k, kv.TxnRequest{Success: ops}).Revision
	resp := s.recv()
	wantEvents(t, "one txn in one response", resp.Events, []ev{
		{kv.EventPut, p + "a", "a", rev}, {kv.EventPut, p + "b", "b", rev}, {kv.EventPut, p + "c", "c", rev},
		{kv.EventPut, p + "d", "d", rev}, {kv.EventPut, p + "e", "e", rev}, {kv.EventDelete, p + "x", "", rev},
	})
}

func testWatchPrevKV(t *caseT, k kv.KV) {
	a := key(t, "a")
	with := openWatch(t, k, kv.WatchRequest{Key: a, PrevKV: true})
	without := openWatch(t, k, kv.WatchRequest{Key: a})
	r1 := put(t, k, a, "1")
	r2 := put(t, k, a, "2")
	_, r3 := del(t, k, a, "")
	got := with.eventsThrough(r3)
	if len(got) != 3 || got[0].PrevKV != nil {
		t.Fatalf("with PrevKV: %v", describe(got))
	}
	wantKV(t, "prev of the update", got[1].PrevKV, "1", r1, r1, 1)
	wantKV(t, "prev of the delete", got[2].PrevKV, "2", r1, r2, 2)
	got = without.eventsThrough(r3)
	if len(got) != 3 || got[0].PrevKV != nil || got[1].PrevKV != nil {
		t.Fatalf("without PrevKV, puts carry a previous value: %v", describe(got))
	}
	wantKV(t, "prev of the delete without PrevKV", got[2].PrevKV, "2", r1, r2, 2)
}

// history writes a seeded mix of transactions under the test's key space
// and returns the events they must produce, in order.
func history(t *caseT, k kv.KV, n int) []ev {
	p := space(t)
	names := []string{"a", "b", "c", "d"}
	live := map[string]bool{}
	var want []ev
	for i := range n {
		var ops []kv.Op
		var pending []ev
		switch i % 5 {
		case 0, 1, 3: // one put
			key := p + names[(i*7)%len(names)]
			ops = append(ops, kv.OpPutKV(key, []byte(fmt.Sprint(i))))
			pending = append(pending, ev{kv.EventPut, key, fmt.Sprint(i), 0})
			live[key] = true
		case 2: // a txn putting two keys
			for _, name := range []string{names[i%4], names[(i+1)%4]} {
				ops = append(ops, kv.OpPutKV(p+name, []byte(fmt.Sprint(i))))
				pending = append(pending, ev{kv.EventPut, p + name, fmt.Sprint(i), 0})
				live[p+name] = true
			}
		case 4: // delete a range
			lo, hi := p+names[i%3], p+names[i%3+1]+"\x00"
			ops = append(ops, kv.OpDeleteRange(lo, hi))
			for _, name := range names {
				if key := p + name; live[key] && kv.InRange(key, lo, hi) {
					pending = append(pending, ev{kv.EventDelete, key, "", 0})
					delete(live, key)
				}
			}
		}
		rev := txn(t, k, kv.TxnRequest{Success: ops}).Revision
		for _, e := range pending {
			e.rev = rev
			want = append(want, e)
		}
	}
	return want
}

func testWatchResume(t *caseT, k kv.KV) {
	p := space(t)
	want := history(t, k, 25)
	first, last := want[0].rev, want[len(want)-1].rev
	for start := first; start <= last; start++ {
		s := openWatch(t, k, kv.WatchRequest{Key: p, End: kv.PrefixEnd(p), StartRevision: start})
		var exp []ev
		for _, e := range want {
			if e.rev >= start {
				exp = append(exp, e)
			}
		}
		wantEvents(t, fmt.Sprintf("watch from %d", start), s.eventsThrough(last), exp)
		s.stop()
	}
}

func testWatchPastThenLive(t *caseT, k kv.KV) {
	p := space(t)
	want := history(t, k, 10)
	s := openWatch(t, k, kv.WatchRequest{Key: p, End: kv.PrefixEnd(p), StartRevision: want[0].rev})
	want = append(want, history(t, k, 10)...)
	last := want[len(want)-1].rev
	wantEvents(t, "history then live", s.eventsThrough(last), want)
}

func testWatchCancel(t *caseT, k kv.KV) {
	ctx, cancel := context.WithCancel(testContext(t))
	ch, err := k.Watch(ctx, kv.WatchRequest{Key: key(t, "a")})
	if err != nil {
		t.Fatal(err)
	}
	put(t, k, key(t, "a"), "1")
	cancel()
	timer := time.NewTimer(t.timeout)
	defer timer.Stop()
	for {
		select {
		case resp, ok := <-ch:
			if !ok {
				return
			}
			if resp.Err != nil && !errors.Is(resp.Err, context.Canceled) {
				t.Fatalf("cancelled watch ended with %v", resp.Err)
			}
		case <-timer.C:
			t.Fatalf("channel not closed %v after cancel", t.timeout)
		}
	}
}

func testWatchProgress(t *caseT, k kv.KV) {
	a := key(t, "a")
	s := openWatch(t, k, kv.WatchRequest{Key: a, ProgressNotify: true})
	plain := openWatch(t, k, kv.WatchRequest{Key: a})
	put(t, k, key(t, "other"), "x")
	r := put(t, k, a, "1")
	rOther := put(t, k, key(t, "other"), "y")
	s.eventsThrough(r)
	if err := k.RequestProgress(testContext(t)); err != nil {
		t.Fatalf("RequestProgress: %v", err)
	}
	for {
		resp := s.recv()
		if resp.Err != nil {
			t.Fatalf("watch ended: %v", resp.Err)
		}
		if resp.ProgressNotify {
			if resp.Revision < rOther {
				t.Fatalf("progress notification at revision %d, want at least the current %d", resp.Revision, rOther)
			}
			break
		}
	}
	// A watch without ProgressNotify gets no notification; its next
	// response is the next event.
	r2 := put(t, k, a, "2")
	got := plain.eventsThrough(r2)
	wantEvents(t, "watch without progress", got, []ev{{kv.EventPut, a, "1", r}, {kv.EventPut, a, "2", r2}})
}

func testWatchErrors(t *caseT, k kv.KV) {
	_, err := k.Watch(testContext(t), kv.WatchRequest{})
	wantErr(t, "watch without key", err, kv.ErrEmptyKey)
	_, err = k.Watch(testContext(t), kv.WatchRequest{Key: key(t, "a"), StartRevision: -1})
	wantErr(t, "watch from a negative revision", err, kv.ErrInvalidRequest)
}

func testClose(t *caseT, k kv.KV) {
	a := key(t, "a")
	put(t, k, a, "1")
	s := openWatch(t, k, kv.WatchRequest{Key: a})
	if err := k.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wantErr(t, "watch after Close", s.terminal(), kv.ErrClosed)
	ctx := testContext(t)
	_, err := k.Range(ctx, kv.RangeRequest{Key: a})
	wantErr(t, "range after Close", err, kv.ErrClosed)
	_, err = k.Txn(ctx, kv.TxnRequest{Success: []kv.Op{kv.OpPutKV(a, nil)}})
	wantErr(t, "txn after Close", err, kv.ErrClosed)
	_, err = k.Watch(ctx, kv.WatchRequest{Key: a})
	wantErr(t, "watch after Close", err, kv.ErrClosed)
	wantErr(t, "compact after Close", k.Compact(ctx, 1), kv.ErrClosed)
	wantErr(t, "RequestProgress after Close", k.RequestProgress(ctx), kv.ErrClosed)
}

// testWatchLaggingCompacted compacts the history while a watch from the
// past is still being delivered. Whether the engine had already read the
// rest is its business; what it must not do is skip it: the watch either
// delivers every event, or ends with a CompactedError (or a LaggingError)
// after an unbroken prefix of them.
func testWatchLaggingCompacted(t *caseT, k kv.KV) {
	p := space(t)
	want := history(t, k, 30)
	first, last := want[0].rev, want[len(want)-1].rev
	s := openWatch(t, k, kv.WatchRequest{Key: p, End: kv.PrefixEnd(p), StartRevision: first})
	var got []kv.Event
	for len(got) == 0 {
		resp := s.recv()
		if resp.Err != nil {
			t.Fatalf("watch ended with %v before the compaction", resp.Err)
		}
		got = append(got, resp.Events...)
	}
	if err := k.Compact(testContext(t), last); err != nil {
		t.Fatalf("compact at %d: %v", last, err)
	}
	after := put(t, k, p+"after", "x")
	want = append(want, ev{kv.EventPut, p + "after", "x", after})
	var end error
	for s.last < after {
		resp := s.recv()
		if resp.Err != nil {
			end = resp.Err
			break
		}
		got = append(got, resp.Events...)
	}
	// got must be want up to the last revision delivered.
	var prefix []ev
	for _, e := range want {
		if e.rev <= s.last {
			prefix = append(prefix, e)
		}
	}
	wantEvents(t, "events around the compaction", got, prefix)
	if end == nil {
		return
	}
	var ce *kv.CompactedError
	switch {
	case errors.As(end, &ce):
		if ce.CompactRevision < s.last+1 {
			t.Fatalf("watch at revision %d ended with %v, though its next revision was not compacted", s.last, end)
		}
	case errors.Is(end, kv.ErrWatcherLagging):
	default:
		t.Fatalf("watch ended with %v, want a CompactedError or a LaggingError", end)
	}
}

func testWatchFuture(t *caseT, k kv.KV) {
	a := key(t, "a")
	now := currentRevision(t, k)
	s := openWatch(t, k, kv.WatchRequest{Key: a, StartRevision: now + 3})
	var revs []int64
	for i := range 4 {
		revs = append(revs, put(t, k, a, fmt.Sprint(i)))
	}
	if revs[0] != now+1 {
		t.Fatalf("first put at %d, want %d", revs[0], now+1)
	}
	wantEvents(t, "watch from a future revision", s.eventsThrough(revs[3]), []ev{
		{kv.EventPut, a, "2", revs[2]}, {kv.EventPut, a, "3", revs[3]},
	})
}
