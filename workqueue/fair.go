package workqueue

// fairness shares workers across tenants. Each tenant has its own lane;
// lanes with queued items sit in a min-heap ordered by items in processing,
// then by when the lane was last served, so Get always picks the tenant that
// has the fewest workers now and has waited longest among those.
type fairness[T comparable] struct {
	tenant func(T) string
	lanes  map[string]*lane[T]
	ready  []*lane[T]
	free   []*lane[T] // released lanes kept for reuse, with their buffers
	tick   uint64
}

// maxFreeLanes bounds the lanes kept for reuse, so that tenants that come
// and go do not allocate a lane each time.
const maxFreeLanes = 64

func newFairness[T comparable](tenant func(T) string) *fairness[T] {
	return &fairness[T]{tenant: tenant, lanes: make(map[string]*lane[T])}
}

// laneFor returns the lane of item's tenant, creating it on first use.
func (f *fairness[T]) laneFor(item T) *lane[T] {
	name := f.tenant(item)
	l := f.lanes[name]
	if l == nil {
		// A new tenant counts as served just now, so that tenants that
		// have waited longer keep their turn and ties stay deterministic.
		f.tick++
		if n := len(f.free); n > 0 {
			l = f.free[n-1]
			f.free[n-1] = nil
			f.free = f.free[:n-1]
		} else {
			l = &lane[T]{}
		}
		l.tenant, l.index, l.served = name, -1, f.tick
		f.lanes[name] = l
	}
	return l
}

// queuedIn is called after an item was pushed into l.
func (f *fairness[T]) queuedIn(l *lane[T]) {
	if l.index < 0 {
		l.index = len(f.ready)
		f.ready = append(f.ready, l)
		f.up(l.index)
	}
}

// next returns the lane to serve; at least one lane must be ready.
func (f *fairness[T]) next() *lane[T] { return f.ready[0] }

// served is called after Get took an item from l.
func (f *fairness[T]) served(l *lane[T]) {
	l.inFlight++
	f.tick++
	l.served = f.tick
	if l.queued == 0 {
		f.remove(l)
		return
	}
	f.fix(l.index)
}

// finished is called when an item of l is Done.
func (f *fairness[T]) finished(l *lane[T]) {
	l.inFlight--
	if l.index >= 0 {
		f.fix(l.index)
	}
}

// release forgets l once nothing refers to it any more.
func (f *fairness[T]) release(l *lane[T]) {
	if l.queued == 0 && l.inFlight == 0 && l.index < 0 {
		delete(f.lanes, l.tenant)
		if len(f.free) < maxFreeLanes && len(l.fifo.buf) <= 1024 && cap(l.ranked) <= 1024 {
			// Only stale slots can be left; clear them and keep the buffers.
			clear(l.fifo.buf)
			clear(l.ranked[:cap(l.ranked)])
			*l = lane[T]{fifo: ring[T]{buf: l.fifo.buf}, ranked: l.ranked[:0]}
			f.free = append(f.free, l)
		}
	}
}

func (f *fairness[T]) less(i, j int) bool {
	a, b := f.ready[i], f.ready[j]
	if a.inFlight != b.inFlight {
		return a.inFlight < b.inFlight
	}
	return a.served < b.served
}

func (f *fairness[T]) swap(i, j int) {
	f.ready[i], f.ready[j] = f.ready[j], f.ready[i]
	f.ready[i].index = i
	f.ready[j].index = j
}

func (f *fairness[T]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !f.less(i, p) {
			return
		}
		f.swap(i, p)
		i = p
	}
}

func (f *fairness[T]) down(i int) bool {
	start := i
	n := len(f.ready)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && f.less(r, l) {
			m = r
		}
		if !f.less(m, i) {
			break
		}
		f.swap(i, m)
		i = m
	}
	return i > start
}

func (f *fairness[T]) fix(i int) {
	if !f.down(i) {
		f.up(i)
	}
}

func (f *fairness[T]) remove(l *lane[T]) {
	i := l.index
	last := len(f.ready) - 1
	if i != last {
		f.swap(i, last)
	}
	f.ready[last] = nil
	f.ready = f.ready[:last]
	l.index = -1
	if i != last {
		f.fix(i)
	}
}
