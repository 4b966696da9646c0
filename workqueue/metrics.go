package workqueue

import "time"

// MetricsProvider makes the metrics of a [Queue], one set per queue name.
// The package prommetrics implements it with Prometheus, under the names
// that client-go's workqueue uses. A queue created without a provider keeps
// no metrics and pays nothing for them.
type MetricsProvider interface {
	// NewDepthMetric returns the gauge of items waiting to be handed out.
	NewDepthMetric(name string) GaugeMetric
	// NewAddsMetric returns the counter of items added.
	NewAddsMetric(name string) CounterMetric
	// NewLatencyMetric returns the histogram of seconds an item waits in
	// the queue before Get hands it out.
	NewLatencyMetric(name string) HistogramMetric
	// NewWorkDurationMetric returns the histogram of seconds from Get to
	// Done.
	NewWorkDurationMetric(name string) HistogramMetric
	// NewRetriesMetric returns the counter of AddAfter and AddRateLimited
	// calls.
	NewRetriesMetric(name string) CounterMetric
	// NewUnfinishedWorkSecondsMetric registers value, which returns the
	// seconds of work in progress summed over all items in processing. The
	// provider calls value when it reports, so no goroutine polls for it.
	NewUnfinishedWorkSecondsMetric(name string, value func() float64)
	// NewLongestRunningProcessorSecondsMetric registers value, which
	// returns the seconds the longest-running item has been in processing.
	NewLongestRunningProcessorSecondsMetric(name string, value func() float64)
}

// GaugeMetric is a value that goes up and down.
type GaugeMetric interface {
	// Inc adds one.
	Inc()
	// Dec subtracts one.
	Dec()
}

// CounterMetric is a value that only goes up.
type CounterMetric interface {
	// Inc adds one.
	Inc()
}

// HistogramMetric records observations, in seconds.
type HistogramMetric interface {
	// Observe records one observation.
	Observe(seconds float64)
}

// recorder keeps the timestamps behind a queue's metrics. Its methods are
// called with the queue's lock held; the queue calls them only when it has a
// recorder, so a queue without metrics never reads the clock for them.
type recorder[T comparable] struct {
	q         *Queue[T]
	depth     GaugeMetric
	adds      CounterMetric
	latency   HistogramMetric
	work      HistogramMetric
	retries   CounterMetric
	addedAt   map[T]time.Time
	startedAt map[T]time.Time
}

func newRecorder[T comparable](q *Queue[T], name string, p MetricsProvider) *recorder[T] {
	r := &recorder[T]{
		q:         q,
		depth:     p.NewDepthMetric(name),
		adds:      p.NewAddsMetric(name),
		latency:   p.NewLatencyMetric(name),
		work:      p.NewWorkDurationMetric(name),
		retries:   p.NewRetriesMetric(name),
		addedAt:   make(map[T]time.Time),
		startedAt: make(map[T]time.Time),
	}
	p.NewUnfinishedWorkSecondsMetric(name, r.unfinished)
	p.NewLongestRunningProcessorSecondsMetric(name, r.longest)
	return r
}

func (r *recorder[T]) added(item T) {
	r.adds.Inc()
	r.depth.Inc()
	if _, ok := r.addedAt[item]; !ok {
		r.addedAt[item] = r.q.clock.Now()
	}
}

func (r *recorder[T]) got(item T) {
	now := r.q.clock.Now()
	r.depth.Dec()
	if t, ok := r.addedAt[item]; ok {
		r.latency.Observe(now.Sub(t).Seconds())
		delete(r.addedAt, item)
	}
	r.startedAt[item] = now
}

func (r *recorder[T]) done(item T) {
	if t, ok := r.startedAt[item]; ok {
		r.work.Observe(r.q.clock.Since(t).Seconds())
		delete(r.startedAt, item)
	}
}

func (r *recorder[T]) retried() { r.retries.Inc() }

func (r *recorder[T]) unfinished() float64 {
	r.q.mu.Lock()
	defer r.q.mu.Unlock()
	now := r.q.clock.Now()
	var total float64
	for _, t := range r.startedAt {
		total += now.Sub(t).Seconds()
	}
	return total
}

func (r *recorder[T]) longest() float64 {
	r.q.mu.Lock()
	defer r.q.mu.Unlock()
	now := r.q.clock.Now()
	var longest float64
	for _, t := range r.startedAt {
		longest = max(longest, now.Sub(t).Seconds())
	}
	return longest
}
