package mvcc

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/governor-io/governor/store/kv"
)

// Watch fan-out.
//
// Writers publish each writing transaction as one batch into a ring of the
// most recent revisions (Options.WatchWindow) and kick the dispatcher; they
// never wait for a watcher. One dispatcher goroutine owns the live
// watchers: each round it takes the batches that arrived since a watcher's
// cursor, filters them once per group of watchers with the same selection
// and cursor, and does a non-blocking send of one response per watcher. A
// watcher whose channel is full is ended with a LaggingError that names the
// first revision it did not get; one slot of every channel is kept free for
// that terminal response. A watcher whose cursor is older than the ring
// (a new watch from the past, or a live one left behind by a burst) is
// handed to a goroutine of its own that replays the history from the index
// under the read lock, chunk by chunk, and then hands the watcher back.

type watcher struct {
	ctx      context.Context
	key, end string
	prevKV   bool
	progress bool
	out      chan kv.WatchResponse
	stopCtx  func() bool
	sel      *selector // shared by the watchers with the same selection

	cancelled atomic.Bool

	// Owned by whoever currently drives the watcher: the dispatcher or a
	// catch-up goroutine, never both.
	next          int64 // first revision not yet delivered
	progressSeen  uint64
	sentSinceTick bool
}

// selKey is what a watcher selects: its range and whether it wants PrevKV
// on puts.
type selKey struct {
	key, end string
	prevKV   bool
}

// selector is shared by every live watcher with the same selKey, so that
// the dispatcher finds the events it already filtered for one of them
// without hashing the key and end of each: in the usual case all the
// watchers of a selector are at the same revision, and the first of them
// in a round leaves its events in the cache for the others.
type selector struct {
	selKey
	refs int // watchers holding it; guarded by hub.mu

	// The cache, used only by the dispatcher: in round, the watchers at
	// revision next get evs.
	round uint64
	next  int64
	evs   []kv.Event
}

// batch is the events of one transaction, sorted by key. PrevKV is set on
// every event whose key existed before; the dispatcher strips it on puts
// for watchers that did not ask for it.
type batch struct {
	rev    int64
	events []kv.Event
}

// batchOfOne is a batch of one event with its storage.
type batchOfOne struct {
	batch
	event [1]kv.Event
	prev  [1]kv.KeyValue
}

type hub struct {
	e      *Engine
	active atomic.Int64 // watchers not yet finished
	slow   atomic.Int64 // watchers in a catch-up goroutine
	kick   chan struct{}

	// The ring is written only by writers, who hold e.mu.Lock, and read
	// by the dispatcher without a lock: a slot is valid for revision r
	// only if it holds the batch of r, which the dispatcher checks.
	ring []atomic.Pointer[batch]
	head atomic.Int64 // newest revision in the ring
	from atomic.Int64 // oldest revision recorded since recording (re)started

	mu          sync.Mutex
	selectors   map[selKey]*selector
	joins       []*watcher
	progressSeq uint64
	started     bool
	stopped     bool
}

func (h *hub) init(e *Engine) {
	h.e = e
	h.kick = make(chan struct{}, 1)
	h.ring = make([]atomic.Pointer[batch], e.opts.WatchWindow)
	h.selectors = make(map[selKey]*selector)
}

func (h *hub) signal() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// recording reports whether writers must publish events. The caller holds
// e.mu.Lock.
func (h *hub) recording() bool { return h.active.Load() > 0 }

// publish records the changes of the transaction that wrote rev. The caller
// holds e.mu.Lock.
func (h *hub) publish(rev int64, changes []change) {
	slices.SortFunc(changes, func(a, b change) int { return strings.Compare(a.ki.key, b.ki.key) })
	nprev := 0
	for i := range changes {
		if changes[i].hasPrev {
			nprev++
		}
	}
	var (
		b      *batch
		events []kv.Event
		prevs  []kv.KeyValue
	)
	if len(changes) == 1 {
		// The usual transaction writes one key: one allocation holds
		// the batch, its event and the previous value.
		one := new(batchOfOne)
		b, events, prevs = &one.batch, one.event[:], one.prev[:0]
	} else {
		b = new(batch)
		events = make([]kv.Event, len(changes))
		prevs = make([]kv.KeyValue, 0, nprev)
	}
	for i := range changes {
		c := &changes[i]
		ev := &events[i]
		if c.hasPrev {
			prevs = append(prevs, c.ki.keyValue(&c.prev, false))
			ev.PrevKV = &prevs[len(prevs)-1]
		}
		if c.deleted {
			ev.Type = kv.EventDelete
			ev.KV = kv.KeyValue{Key: c.ki.key, ModRevision: rev}
		} else {
			ev.Type = kv.EventPut
			ev.KV = c.ki.keyValue(&c.ki.entries[len(c.ki.entries)-1], false)
		}
	}
	b.rev, b.events = rev, events
	h.ring[rev%int64(len(h.ring))].Store(b)
	h.head.Store(rev)
	h.signal()
}

// reset restarts the ring after the engine's state was replaced. The
// caller holds e.mu.Lock.
func (h *hub) reset(rev int64) {
	for i := range h.ring {
		h.ring[i].Store(nil)
	}
	h.from.Store(rev + 1)
	h.head.Store(rev)
	h.signal()
}

// Watch implements [kv.KV.Watch]. Events of one transaction are sorted by
// key, both live and when replayed from history.
func (e *Engine) Watch(ctx context.Context, req kv.WatchRequest) (<-chan kv.WatchResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if req.Key == "" {
		return nil, fmt.Errorf("mvcc: watch: %w", kv.ErrEmptyKey)
	}
	if req.StartRevision < 0 {
		return nil, fmt.Errorf("mvcc: watch: negative start revision: %w", kv.ErrInvalidRequest)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, kv.ErrClosed
	}
	if req.StartRevision > 0 && req.StartRevision <= e.compactRev {
		return nil, &kv.CompactedError{CompactRevision: e.compactRev}
	}
	w := &watcher{
		ctx:      ctx,
		key:      strings.Clone(req.Key),
		end:      strings.Clone(req.End),
		prevKV:   req.PrevKV,
		progress: req.ProgressNotify,
		out:      make(chan kv.WatchResponse, e.opts.WatchBufferSize),
		next:     req.StartRevision,
	}
	if w.next == 0 {
		w.next = e.rev + 1
	}
	h := &e.hub
	w.stopCtx = context.AfterFunc(ctx, func() {
		w.cancelled.Store(true)
		h.signal()
	})
	if h.active.Add(1) == 1 {
		// Recording restarts: the ring holds nothing older than now.
		h.from.Store(e.rev + 1)
		h.head.Store(e.rev)
	}
	h.mu.Lock()
	sk := selKey{w.key, w.end, w.prevKV}
	sel := h.selectors[sk]
	if sel == nil {
		sel = &selector{selKey: sk}
		h.selectors[sk] = sel
	}
	sel.refs++
	w.sel = sel
	w.progressSeen = h.progressSeq
	h.joins = append(h.joins, w)
	if !h.started {
		h.started = true
		e.bg.Add(1)
		go h.run()
	}
	h.mu.Unlock()
	h.signal()
	return w.out, nil
}

// RequestProgress implements [kv.KV.RequestProgress].
func (e *Engine) RequestProgress(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.RLock()
	closed := e.closed
	e.mu.RUnlock()
	if closed {
		return kv.ErrClosed
	}
	h := &e.hub
	h.mu.Lock()
	h.progressSeq++
	h.mu.Unlock()
	h.signal()
	return nil
}

// finish ends w with resp (nil: just close, for a cancelled context). The
// caller owns w.
func (h *hub) finish(w *watcher, resp *kv.WatchResponse) {
	w.stopCtx()
	h.mu.Lock()
	if w.sel.refs--; w.sel.refs == 0 {
		delete(h.selectors, w.sel.selKey)
	}
	h.mu.Unlock()
	h.active.Add(-1)
	if resp == nil {
		close(w.out)
		return
	}
	select {
	case w.out <- *resp:
		close(w.out)
	default:
		// Only a catch-up goroutine can have filled the last slot; the
		// terminal response waits for the reader or its context.
		r := *resp
		go func() {
			select {
			case w.out <- r:
			case <-w.ctx.Done():
			}
			close(w.out)
		}()
	}
}

// groupKey identifies the watchers that get the same events in a round.
type groupKey struct {
	sel  *selector
	next int64
}

// run is the dispatcher goroutine.
func (h *hub) run() {
	e := h.e
	defer e.bg.Done()
	var tickC <-chan time.Time
	if e.opts.ProgressInterval > 0 {
		t := e.opts.Clock.NewTicker(e.opts.ProgressInterval)
		defer t.Stop()
		tickC = t.C()
	}
	var (
		round   uint64
		live    []*watcher
		batches []*batch
		groups  = make(map[groupKey][]kv.Event)
		behind  = make(map[groupKey][]*watcher)
	)
	for {
		tick := false
		select {
		case <-h.kick:
		case <-tickC:
			tick = true
		case <-e.done:
			h.mu.Lock()
			h.stopped = true
			joins := h.joins
			h.joins = nil
			h.mu.Unlock()
			for _, w := range append(live, joins...) {
				h.finish(w, &kv.WatchResponse{Err: kv.ErrClosed})
			}
			return
		}

		h.mu.Lock()
		live = append(live, h.joins...)
		clear(h.joins)
		h.joins = h.joins[:0]
		seq := h.progressSeq
		h.mu.Unlock()

		head := h.head.Load()
		oldest := max(h.from.Load(), head-int64(len(h.ring))+1)
		minNext := head + 1
		for _, w := range live {
			if w.next >= oldest && w.next < minNext {
				minNext = w.next
			}
		}
		// batches[i] is the batch of revision base+i. A slot that does not
		// hold the revision asked for was overwritten (or never written):
		// everything up to it must come from the index.
		batches = batches[:0]
		base := minNext
		for r := minNext; r <= head; r++ {
			b := h.ring[r%int64(len(h.ring))].Load()
			if b == nil || b.rev != r {
				oldest, base = r+1, r+1
				batches = batches[:0]
				continue
			}
			batches = append(batches, b)
		}

		clear(groups)
		clear(behind)
		sent := 0
		round++
		kept := live[:0]
		for _, w := range live {
			if w.cancelled.Load() {
				h.finish(w, nil)
				continue
			}
			if w.next < oldest {
				gk := groupKey{w.sel, w.next}
				behind[gk] = append(behind[gk], w)
				continue
			}
			if w.next <= head {
				var evs []kv.Event
				if sel := w.sel; sel.round == round && sel.next == w.next {
					evs = sel.evs
				} else {
					gk := groupKey{sel, w.next}
					var ok bool
					evs, ok = groups[gk]
					if !ok {
						evs = filterBatches(batches[w.next-base:], w.key, w.end, w.prevKV)
						groups[gk] = evs
					}
					sel.round, sel.next, sel.evs = round, w.next, evs
				}
				if len(evs) > 0 {
					if len(w.out) >= cap(w.out)-1 {
						h.finish(w, &kv.WatchResponse{Err: &kv.LaggingError{ResumeRevision: w.next}, Revision: w.next - 1})
						continue
					}
					w.out <- kv.WatchResponse{Events: evs, Revision: head}
					w.sentSinceTick = true
					sent += len(evs)
				}
				w.next = head + 1
			}
			if w.progress && (w.progressSeen < seq || (tick && !w.sentSinceTick)) && len(w.out) < cap(w.out)-1 {
				w.out <- kv.WatchResponse{Revision: min(head, w.next-1), ProgressNotify: true}
				w.progressSeen = seq
			}
			if tick {
				w.sentSinceTick = false
			}
			kept = append(kept, w)
		}
		clear(live[len(kept):])
		live = kept
		// Watchers left behind together catch up together: one replay
		// of the history, whatever their number.
		if m := e.metrics; m != nil && sent > 0 {
			m.events.Add(float64(sent))
		}
		for _, ws := range behind {
			h.slow.Add(int64(len(ws)))
			e.bg.Add(1)
			go h.catchUp(ws)
		}
		if sent > 0 {
			// Let the watchers just woken read before the next round:
			// the writes that arrive meanwhile then go out together,
			// one wakeup per watcher for many revisions.
			runtime.Gosched()
		}
	}
}

// filterBatches returns the events of batches in [key, end), without PrevKV
// on puts unless prevKV. When nothing has to be dropped or changed it
// returns a batch's own slice, shared by every watcher that gets it.
func filterBatches(batches []*batch, key, end string, prevKV bool) []kv.Event {
	if len(batches) == 1 && batchUsable(batches[0], key, end, prevKV) {
		return batches[0].events
	}
	n := 0
	for _, b := range batches {
		for i := range b.events {
			if kv.InRange(b.events[i].KV.Key, key, end) {
				n++
			}
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]kv.Event, 0, n)
	for _, b := range batches {
		for _, ev := range b.events {
			if !kv.InRange(ev.KV.Key, key, end) {
				continue
			}
			if !prevKV && ev.Type == kv.EventPut {
				ev.PrevKV = nil
			}
			out = append(out, ev)
		}
	}
	return out
}

func batchUsable(b *batch, key, end string, prevKV bool) bool {
	for i := range b.events {
		ev := &b.events[i]
		if !kv.InRange(ev.KV.Key, key, end) || (!prevKV && ev.Type == kv.EventPut && ev.PrevKV != nil) {
			return false
		}
	}
	return true
}

// catchUpChunk bounds the revisions replayed from the index per response.
const catchUpChunk = 1024

// catchUp replays history for ws, watchers with the same selection and
// cursor, from the index until they reach the current revision, then
// hands them back to the dispatcher. It holds the read lock only while it
// collects one chunk, so writers are never blocked for long and never wait
// for a reader. A lone watcher (a new watch from the past) is sent to with
// blocking sends; in a group, a watcher whose buffer is full is ended with
// a LaggingError, so that no watcher holds up the others.
func (h *hub) catchUp(ws []*watcher) {
	e := h.e
	defer e.bg.Done()
	defer func() { h.slow.Add(-int64(len(ws))) }()
	w0 := ws[0]
	next := w0.next
	finishAll := func(resp *kv.WatchResponse) {
		for _, w := range ws {
			h.finish(w, resp)
		}
	}
	for {
		e.mu.RLock()
		if e.closed {
			e.mu.RUnlock()
			finishAll(&kv.WatchResponse{Err: kv.ErrClosed})
			return
		}
		if next <= e.compactRev {
			cr := e.compactRev
			e.mu.RUnlock()
			finishAll(&kv.WatchResponse{Err: &kv.CompactedError{CompactRevision: cr}})
			return
		}
		head := e.rev
		hi := min(head, next+catchUpChunk-1)
		var evs []kv.Event
		if next <= hi {
			evs = e.historyLocked(w0.key, w0.end, w0.prevKV, next, hi)
		}
		e.mu.RUnlock()
		if len(evs) > 0 {
			resp := kv.WatchResponse{Events: evs, Revision: hi}
			if m := e.metrics; m != nil {
				m.events.Add(float64(len(evs) * len(ws)))
			}
			if len(ws) == 1 {
				select {
				case w0.out <- resp:
					w0.sentSinceTick = true
				case <-w0.ctx.Done():
					h.finish(w0, nil)
					return
				case <-e.done:
					h.finish(w0, &kv.WatchResponse{Err: kv.ErrClosed})
					return
				}
			} else {
				kept := ws[:0]
				for _, w := range ws {
					switch {
					case w.cancelled.Load():
						h.finish(w, nil)
					case len(w.out) >= cap(w.out)-1:
						h.finish(w, &kv.WatchResponse{Err: &kv.LaggingError{ResumeRevision: next}, Revision: next - 1})
					default:
						w.out <- resp
						w.sentSinceTick = true
						kept = append(kept, w)
					}
				}
				h.slow.Add(-int64(len(ws) - len(kept)))
				clear(ws[len(kept):])
				ws = kept
				if len(ws) == 0 {
					return
				}
				w0 = ws[0]
			}
		}
		if hi >= next {
			next = hi + 1
		}
		if hi >= head {
			for _, w := range ws {
				w.next = next
			}
			h.mu.Lock()
			if h.stopped {
				h.mu.Unlock()
				finishAll(&kv.WatchResponse{Err: kv.ErrClosed})
				return
			}
			h.joins = append(h.joins, ws...)
			h.mu.Unlock()
			h.signal()
			return
		}
	}
}

// historyLocked rebuilds the events in [key, end) at revisions lo..hi from
// the index, in revision order and by key within a revision. The caller
// holds e.mu and has checked that lo is above the compaction revision.
func (e *Engine) historyLocked(key, end string, prevKV bool, lo, hi int64) []kv.Event {
	var evs []kv.Event
	e.ascend(key, end, func(ki *keyIndex) bool {
		ents := ki.entries
		i, _ := slices.BinarySearchFunc(ents, lo, func(en entry, r int64) int {
			switch {
			case en.modRev < r:
				return -1
			case en.modRev > r:
				return 1
			}
			return 0
		})
		for ; i < len(ents) && ents[i].modRev <= hi; i++ {
			en := &ents[i]
			var prev *kv.KeyValue
			if i > 0 && !ents[i-1].tombstone() {
				p := ki.keyValue(&ents[i-1], false)
				prev = &p
			}
			if en.tombstone() {
				evs = append(evs, kv.Event{Type: kv.EventDelete, KV: kv.KeyValue{Key: ki.key, ModRevision: en.modRev}, PrevKV: prev})
				continue
			}
			if !prevKV {
				prev = nil
			}
			evs = append(evs, kv.Event{Type: kv.EventPut, KV: ki.keyValue(en, false), PrevKV: prev})
		}
		return true
	})
	slices.SortStableFunc(evs, func(a, b kv.Event) int {
		switch {
		case a.KV.ModRevision < b.KV.ModRevision:
			return -1
		case a.KV.ModRevision > b.KV.ModRevision:
			return 1
		}
		return 0
	})
	return evs
}
