package workqueue

// slot is one enqueue of an item. A slot whose seq no longer matches its
// entry is stale and is skipped.
type slot[T comparable] struct {
	e   *entry[T]
	seq uint64
}

// ring is a FIFO of slots in a power-of-two circular buffer, so that a
// steady flow of items allocates nothing.
type ring[T comparable] struct {
	buf  []slot[T]
	head int
	n    int
}

func (r *ring[T]) push(s slot[T]) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = s
	r.n++
}

func (r *ring[T]) grow() {
	size := max(16, 2*len(r.buf))
	buf := make([]slot[T], size)
	for i := range r.n {
		buf[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
	}
	r.buf, r.head = buf, 0
}

func (r *ring[T]) peek() *slot[T] { return &r.buf[r.head] }

func (r *ring[T]) pop() slot[T] {
	s := r.buf[r.head]
	r.buf[r.head] = slot[T]{} // drop the reference for the collector
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return s
}

// ranked is a slot with a priority other than 0, ordered by rank, then seq.
type ranked[T comparable] struct {
	rank int64
	slot slot[T]
}

// rankHeap is a binary min-heap on (rank, seq).
type rankHeap[T comparable] []ranked[T]

func (h rankHeap[T]) less(i, j int) bool {
	if h[i].rank != h[j].rank {
		return h[i].rank < h[j].rank
	}
	return h[i].slot.seq < h[j].slot.seq
}

func (h *rankHeap[T]) push(x ranked[T]) {
	*h = append(*h, x)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *rankHeap[T]) pop() ranked[T] {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = ranked[T]{}
	s = s[:last]
	*h = s
	i := 0
	for {
		l := 2*i + 1
		if l >= len(s) {
			break
		}
		m := l
		if r := l + 1; r < len(s) && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	return top
}

// lane holds the queued items of one tenant, or of the whole queue without
// fair sharing. Priority-0 slots have rank == seq, which only grows, so they
// stay in FIFO order in the ring; the heap holds the rest. A queue that never
// sees a priority never touches the heap.
type lane[T comparable] struct {
	fifo   ring[T]
	ranked rankHeap[T]
	queued int // live slots

	// fair sharing only
	tenant   string
	inFlight int    // items of this lane in processing
	served   uint64 // fairness tick of the last Get from this lane
	index    int    // position in the fairness heap, -1 when not in it
}

func (l *lane[T]) push(e *entry[T], seq uint64, rank int64, prio int32) {
	s := slot[T]{e: e, seq: seq}
	if prio == 0 {
		l.fifo.push(s)
		return
	}
	l.ranked.push(ranked[T]{rank: rank, slot: s})
}

// pop removes the slot with the lowest rank; the lane must not be empty.
func (l *lane[T]) pop() slot[T] {
	if len(l.ranked) == 0 {
		return l.fifo.pop()
	}
	if l.fifo.n == 0 {
		return l.ranked.pop().slot
	}
	head := l.fifo.peek()
	top := &l.ranked[0]
	if top.rank < int64(head.seq) || (top.rank == int64(head.seq) && top.slot.seq < head.seq) {
		return l.ranked.pop().slot
	}
	return l.fifo.pop()
}
