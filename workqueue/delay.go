package workqueue

import (
	"hash/maphash"
	"time"

	"github.com/governor-io/governor/clock"
)

// delayed is an item waiting for its time. at is nanoseconds after
// delayState.base; slot is where the index points at this node and hash the
// low bits of the item's hash, kept so that the index never hashes twice.
type delayed[T comparable] struct {
	item T
	at   int64
	slot uint32
	hash uint32
}

// delayState holds the items of AddAfter. One heap, one timer and one
// goroutine serve every delayed item; the goroutine starts with the first
// delay and stops at shutdown. An open-addressing index of 4-byte heap
// positions finds an item that is already waiting, so that the earlier of
// two times wins by moving the node up the heap in place; a delayed item
// costs its heap node and a few bytes of index, and no map entry.
type delayState[T comparable] struct {
	base   time.Time
	heap   delayHeap[T]
	index  []uint32 // heap position + 1 per slot, 0 for a free slot; len is a power of two
	seed   maphash.Seed
	timer  clock.Timer // nil until the first delay
	stop   chan struct{}
	exited chan struct{}
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
		ds.seed = maphash.MakeSeed()
	}
	at := int64(q.clock.Since(ds.base) + d)
	if ds.insert(item, at) != 0 {
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
	now := int64(q.clock.Since(ds.base))
	for ds.heap.n > 0 && ds.heap.get(0).at <= now {
		q.addLocked(ds.popHead(), 0)
	}
	if ds.heap.n > 0 {
		ds.timer.Reset(time.Duration(ds.heap.get(0).at - now))
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
	ds.heap, ds.index = delayHeap[T]{}, nil
}

// hash returns the hash of item under the state's seed.
func (d *delayState[T]) hash(item T) uint32 {
	if s, ok := any(item).(string); ok {
		return uint32(maphash.String(d.seed, s))
	}
	return uint32(maphash.Comparable(d.seed, item))
}

// insert puts item in the heap at time at, or moves it to at if it is
// already waiting for a later time. It returns the item's heap position (0
// is the head), or -1 when the item keeps an earlier time.
func (d *delayState[T]) insert(item T, at int64) int {
	if 2*(d.heap.n+1) > len(d.index) {
		d.resize(max(16, 2*len(d.index)))
	}
	h := d.hash(item)
	mask := uint32(len(d.index) - 1)
	i := h & mask
	for ; d.index[i] != 0; i = (i + 1) & mask {
		n := d.heap.get(int(d.index[i] - 1))
		if n.hash == h && n.item == item {
			if n.at <= at {
				return -1
			}
			n.at = at
			return d.heap.up(int(d.index[i]-1), d.index)
		}
	}
	p := d.heap.n
	d.heap.push(delayed[T]{item: item, at: at, slot: i, hash: h})
	d.index[i] = uint32(p + 1)
	return d.heap.up(p, d.index)
}

// popHead removes the item at the head of the heap and returns it.
func (d *delayState[T]) popHead() T {
	top := *d.heap.get(0)
	d.unindex(top.slot)
	d.heap.removeHead(d.index)
	if len(d.index) > 1024 && 8*d.heap.n < len(d.index) {
		d.resize(len(d.index) / 4)
	}
	return top.item
}

// unindex frees slot i of the index, moving later entries of its probe run
// back so that every lookup still finds them without tombstones.
func (d *delayState[T]) unindex(i uint32) {
	mask := uint32(len(d.index) - 1)
	for {
		d.index[i] = 0
		j := i
		for {
			j = (j + 1) & mask
			p := d.index[j]
			if p == 0 {
				return
			}
			n := d.heap.get(int(p - 1))
			home := n.hash & mask
			// The entry at j may move to i unless its home lies
			// cyclically in (i, j].
			if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
				d.index[i] = p
				n.slot = i
				i = j
				break
			}
		}
	}
}

// resize rebuilds the index with size slots, a power of two.
func (d *delayState[T]) resize(size int) {
	d.index = make([]uint32, size)
	mask := uint32(size - 1)
	for p := range d.heap.n {
		n := d.heap.get(p)
		i := n.hash & mask
		for d.index[i] != 0 {
			i = (i + 1) & mask
		}
		d.index[i] = uint32(p + 1)
		n.slot = i
	}
}

// delayChunk is the size of one block of the delay heap. The heap grows by
// whole blocks instead of by copying, so absorbing many delayed items costs
// their own size and no more.
const delayChunk = 256

// delayHeap is a binary min-heap on at, stored in fixed-size blocks. Every
// move of a node updates the index slot that points at it.
type delayHeap[T comparable] struct {
	chunks [][]delayed[T]
	n      int
}

func (h *delayHeap[T]) get(i int) *delayed[T] { return &h.chunks[i/delayChunk][i%delayChunk] }

// push appends x at position n; the caller sifts it up.
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
	*h.get(h.n) = x
	h.n++
}

// up moves the node at i towards the head while it is earlier than its
// parent, and returns where it ends.
func (h *delayHeap[T]) up(i int, index []uint32) int {
	x := *h.get(i)
	for i > 0 {
		p := (i - 1) / 2
		pn := h.get(p)
		if pn.at <= x.at {
			break
		}
		*h.get(i) = *pn
		index[pn.slot] = uint32(i + 1)
		i = p
	}
	*h.get(i) = x
	index[x.slot] = uint32(i + 1)
	return i
}

// removeHead drops the node at position 0, whose index slot is already free.
func (h *delayHeap[T]) removeHead(index []uint32) {
	h.n--
	last := h.get(h.n)
	x := *last
	*last = delayed[T]{}
	if len(h.chunks) > 1 && h.n <= (len(h.chunks)-2)*delayChunk {
		h.chunks[len(h.chunks)-1] = nil // keep one spare block, free the rest
		h.chunks = h.chunks[:len(h.chunks)-1]
	}
	if h.n == 0 {
		return
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
		mn := h.get(m)
		if x.at <= mn.at {
			break
		}
		*h.get(i) = *mn
		index[mn.slot] = uint32(i + 1)
		i = m
	}
	*h.get(i) = x
	index[x.slot] = uint32(i + 1)
}
