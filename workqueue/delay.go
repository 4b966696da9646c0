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
	heap    []delayed[T]
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
	ds.push(delayed[T]{at: at, item: item})
	if ds.heap[0].at != at || ds.heap[0].item != item {
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
	for len(ds.heap) > 0 && ds.heap[0].at <= now {
		x := ds.pop()
		if at, ok := ds.waiting[x.item]; !ok || at != x.at {
			continue // superseded by an earlier AddAfter
		}
		delete(ds.waiting, x.item)
		q.addLocked(x.item, 0)
	}
	if len(ds.heap) > 0 {
		ds.timer.Reset(ds.heap[0].at - now)
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
	ds.heap, ds.waiting = nil, nil
}

func (d *delayState[T]) push(x delayed[T]) {
	d.heap = append(d.heap, x)
	h := d.heap
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h[p].at <= h[i].at {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (d *delayState[T]) pop() delayed[T] {
	h := d.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = delayed[T]{}
	h = h[:last]
	d.heap = h
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		m := l
		if r := l + 1; r < len(h) && h[r].at < h[l].at {
			m = r
		}
		if h[i].at <= h[m].at {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	return top
}
