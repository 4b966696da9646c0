package workqueue

import (
	"time"

	"github.com/governor-io/governor/clock"
)

// delayed is an item waiting for its time, as an offset from delayState.base.
type delayed[T comparable] struct {
	at   time.Duration
	item T
}

// delayState holds the items of AddAfter. One heap, one timer and one
// goroutine serve every delayed item; the goroutine starts with the first
// delay and stops at shutdown. A second AddAfter with an earlier time pushes
// a new heap entry and the old one goes stale (its time no longer matches
// the waiting map), which keeps the heap free of index bookkeeping.
type delayState[T comparable] struct {
	base    time.Time
	heap    delayHeap[T]
	waiting map[T]time.Duration // earliest pending time per item
	timer   clock.Timer         // nil until the first delay
	stop    chan struct{}
	exited  chan struct{}
}

// wait blocks until the delay goroutine, if any, has exited after a stop.
func (d *delayState[T]) wait() {
	if d.exited != nil {
		<-d.exited
	}
}

// AddAfter adds item once d has passed on the queue's clock. If item is
// already waiting, the earlier of the two times wins. A d <= 0 adds at once.
// Delayed items are dropped at shutdown.
func (q *Queue[T]) AddAfter(item T, d time.Duration) {
	if d <= 0 {
		q.mu.Lock()
		if q.metrics != nil && !q.shuttingDown {
			q.metrics.retried()
		}
		q.addLocked(item, 0)
		q.mu.Unlock()
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shuttingDown {
		return
	}
	if q.metrics != nil {
		q.metrics.retried()
	}
	ds := &q.delay
	if ds.timer == nil {
		ds.base = q.clock.Now()
		ds.waiting = make(map[T]time.Duration)
	}
	now := q.clock.Since(ds.base)
	at := now + d
	if prev, ok := ds.waiting[item]; ok && prev <= at {
		return
	}
	ds.waiting[item] = at
	ds.heap.push(delayed[T]{at: at, item: item})
	if head := ds.heap.get(0); head.at != at || head.item != item {
		return // not the new head: the timer is already early enough
	}
	if ds.timer == nil {
		ds.timer = q.clock.NewTimer(d)
		ds.stop = make(chan struct{})
		ds.exited = make(chan struct{})
		go q.delayLoop(ds.timer, ds.stop, ds.exited)
		return
	}
	ds.timer.Reset(d)
}

// delayLoop moves due items into the queue whenever the timer fires.
func (q *Queue[T]) delayLoop(timer clock.Timer, stop, exited chan struct{}) {
	defer close(exited)
	for {
		select {
		case <-stop:
			return
		case <-timer.C():
		}
		q.mu.Lock()
		q.fireDueLocked()
		q.mu.Unlock()
	}
}

// fireDueLocked adds every item whose time has come and re-arms the timer
// for the next one.
func (q *Queue[T]) fireDueLocked() {
	if q.shuttingDown {
		return
	}
	ds := &q.delay
	now := q.clock.Since(ds.base)
	for ds.heap.len() > 0 && ds.heap.get(0).at <= now {
		x := ds.heap.pop()
		if at, ok := ds.waiting[x.item]; !ok || at != x.at {
			continue // superseded by an earlier AddAfter
		}
		delete(ds.waiting, x.item)
		q.addLocked(x.item, 0)
	}
	if ds.heap.len() > 0 {
		ds.timer.Reset(ds.heap.get(0).at - now)
	}
}

// stopDelayLocked stops the delay goroutine and drops the delayed items.
func (q *Queue[T]) stopDelayLocked() {
	ds := &q.delay
	if ds.timer == nil {
		return
	}
	ds.timer.Stop()
	close(ds.stop)
	ds.heap, ds.waiting = delayHeap[T]{}, nil
}

// delayChunk is the size of one block of the delay heap. The heap grows by
// whole blocks instead of by copying, so absorbing many delayed items costs
// their own size and no more.
const delayChunk = 256

// delayHeap is a binary min-heap on at, stored in fixed-size blocks.
type delayHeap[T comparable] struct {
	chunks [][]delayed[T]
	n      int
}

func (h *delayHeap[T]) len() int { return h.n }

func (h *delayHeap[T]) get(i int) *delayed[T] { return &h.chunks[i/delayChunk][i%delayChunk] }

func (h *delayHeap[T]) swap(i, j int) {
	a, b := h.get(i), h.get(j)
	*a, *b = *b, *a
}

func (h *delayHeap[T]) push(x delayed[T]) {
	if h.n == len(h.chunks)*delayChunk {
		size := delayChunk
		if h.n == 0 {
			size = 8 // most queues delay few items at a time
		}
		h.chunks = append(h.chunks, make([]delayed[T], size))
	} else if c := h.chunks[h.n/delayChunk]; h.n%delayChunk == len(c) {
		// Grow the small first block up to a full one.
		nc := make([]delayed[T], min(2*len(c), delayChunk))
		copy(nc, c)
		h.chunks[h.n/delayChunk] = nc
	}
	i := h.n
	h.n++
	*h.get(i) = x
	for i > 0 {
		p := (i - 1) / 2
		if h.get(p).at <= h.get(i).at {
			break
		}
		h.swap(i, p)
		i = p
	}
}

func (h *delayHeap[T]) pop() delayed[T] {
	top := *h.get(0)
	h.n--
	last := h.get(h.n)
	*h.get(0) = *last
	*last = delayed[T]{}
	if len(h.chunks) > 1 && h.n <= (len(h.chunks)-2)*delayChunk {
		h.chunks[len(h.chunks)-1] = nil // keep one spare block, free the rest
		h.chunks = h.chunks[:len(h.chunks)-1]
	}
	i := 0
	for {
		l := 2*i + 1
		if l >= h.n {
			break
		}
		m := l
		if r := l + 1; r < h.n && h.get(r).at < h.get(l).at {
			m = r
		}
		if h.get(i).at <= h.get(m).at {
			break
		}
		h.swap(i, m)
		i = m
	}
	return top
}
