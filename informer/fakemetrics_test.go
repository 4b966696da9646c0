package informer

import (
	"sync"
	"testing"
)

// fakeMetrics is a [MetricsProvider] that keeps what it is given, for
// tests.
type fakeMetrics struct {
	mu       sync.Mutex
	counts   map[string]float64   // by kind/name
	observes map[string][]float64 // by kind/name
	statsFns map[int]func() Stats
	next     int
}

func newFakeMetrics() *fakeMetrics {
	return &fakeMetrics{counts: map[string]float64{}, observes: map[string][]float64{}, statsFns: map[int]func() Stats{}}
}

type fakeCounter struct {
	m   *fakeMetrics
	key string
}

func (c fakeCounter) Inc() {
	c.m.mu.Lock()
	c.m.counts[c.key]++
	c.m.mu.Unlock()
}

type fakeHistogram struct {
	m   *fakeMetrics
	key string
}

func (h fakeHistogram) Observe(v float64) {
	h.m.mu.Lock()
	h.m.observes[h.key] = append(h.m.observes[h.key], v)
	h.m.mu.Unlock()
}

func (m *fakeMetrics) NewListsMetric(name string) CounterMetric {
	return fakeCounter{m, "lists/" + name}
}

func (m *fakeMetrics) NewWatchesMetric(name string) CounterMetric {
	return fakeCounter{m, "watches/" + name}
}

func (m *fakeMetrics) NewListDurationMetric(name string) HistogramMetric {
	return fakeHistogram{m, "list_duration/" + name}
}

func (m *fakeMetrics) NewItemsPerListMetric(name string) HistogramMetric {
	return fakeHistogram{m, "items_per_list/" + name}
}

func (m *fakeMetrics) NewWatchDurationMetric(name string) HistogramMetric {
	return fakeHistogram{m, "watch_duration/" + name}
}

func (m *fakeMetrics) NewItemsPerWatchMetric(name string) HistogramMetric {
	return fakeHistogram{m, "items_per_watch/" + name}
}

func (m *fakeMetrics) AddStats(f func() Stats) func() {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.next
	m.next++
	m.statsFns[id] = f
	return func() {
		m.mu.Lock()
		delete(m.statsFns, id)
		m.mu.Unlock()
	}
}

func (m *fakeMetrics) count(kind, name string) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[kind+"/"+name]
}

func (m *fakeMetrics) observed(kind, name string) []float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.observes[kind+"/"+name]
}

// stats returns the figures of the one registered reflector.
func (m *fakeMetrics) stats(t *testing.T) Stats {
	t.Helper()
	m.mu.Lock()
	fns := make([]func() Stats, 0, len(m.statsFns))
	for _, f := range m.statsFns {
		fns = append(fns, f)
	}
	m.mu.Unlock()
	if len(fns) != 1 {
		t.Fatalf("%d stats functions registered, want 1", len(fns))
	}
	return fns[0]()
}
