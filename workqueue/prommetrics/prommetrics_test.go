package prommetrics_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/workqueue"
	"github.com/governor-io/governor/workqueue/prommetrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestQueueMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	p, err := prommetrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	fake := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	q := workqueue.New(workqueue.Options[string]{Name: "pods", Clock: fake, Metrics: p})
	defer q.ShutDown()

	q.Add("a")
	q.Add("b")
	q.Add("a") // deduplicated: not an add
	fake.Step(2 * time.Second)
	a, _ := q.Get()
	fake.Step(3 * time.Second)
	b, _ := q.Get()
	fake.Step(time.Second)
	q.AddAfter("c", time.Minute)
	q.AddRateLimited("d")

	expect := `
# HELP workqueue_adds_total Total number of adds handled by the workqueue.
# TYPE workqueue_adds_total counter
workqueue_adds_total{name="pods"} 2
# HELP workqueue_depth Current depth of the workqueue.
# TYPE workqueue_depth gauge
workqueue_depth{name="pods"} 0
# HELP workqueue_longest_running_processor_seconds Seconds the longest-running item of the workqueue has been in processing.
# TYPE workqueue_longest_running_processor_seconds gauge
workqueue_longest_running_processor_seconds{name="pods"} 4
# HELP workqueue_retries_total Total number of retries handled by the workqueue.
# TYPE workqueue_retries_total counter
workqueue_retries_total{name="pods"} 2
# HELP workqueue_unfinished_work_seconds Seconds of work in progress not yet observed by work_duration; large values suggest stuck workers.
# TYPE workqueue_unfinished_work_seconds gauge
workqueue_unfinished_work_seconds{name="pods"} 5
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(expect),
		prommetrics.AddsName, prommetrics.DepthName, prommetrics.LongestRunningProcessorName,
		prommetrics.RetriesName, prommetrics.UnfinishedWorkName); err != nil {
		t.Fatal(err)
	}

	q.Done(a)
	q.Done(b)
	// queue_duration: a waited 2s, b 5s. work_duration: a 4s, b 1s.
	for _, c := range []struct {
		name     string
		sum      float64
		observed uint64
	}{
		{prommetrics.QueueDurationName, 7, 2},
		{prommetrics.WorkDurationName, 5, 2},
	} {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, mf := range mfs {
			if mf.GetName() != c.name {
				continue
			}
			found = true
			h := mf.GetMetric()[0].GetHistogram()
			if h.GetSampleCount() != c.observed || h.GetSampleSum() != c.sum {
				t.Errorf("%s: count %d sum %v, want %d and %v", c.name, h.GetSampleCount(), h.GetSampleSum(), c.observed, c.sum)
			}
		}
		if !found {
			t.Errorf("%s not gathered", c.name)
		}
	}
	if got := testutil.ToFloat64(p.NewDepthMetric("pods").(prometheus.Gauge)); got != 0 {
		t.Fatalf("depth = %v", got)
	}
}

func TestDepthCountsQueuedItems(t *testing.T) {
	reg := prometheus.NewRegistry()
	p, err := prommetrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	q := workqueue.New(workqueue.Options[int]{Name: "jobs", Metrics: p})
	defer q.ShutDown()
	for i := range 5 {
		q.Add(i)
	}
	depth := p.NewDepthMetric("jobs").(prometheus.Gauge)
	if got := testutil.ToFloat64(depth); got != 5 {
		t.Fatalf("depth = %v, want 5", got)
	}
	item, _ := q.Get()
	q.Add(item) // re-added while processing: counted as queued again
	if got := testutil.ToFloat64(depth); got != 5 {
		t.Fatalf("depth = %v, want 5", got)
	}
	q.Done(item)
	if got := testutil.ToFloat64(p.NewAddsMetric("jobs").(prometheus.Counter)); got != 6 {
		t.Fatalf("adds = %v, want 6", got)
	}
}

func TestNewReportsRegistrationConflicts(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := prommetrics.New(reg); err != nil {
		t.Fatal(err)
	}
	_, err := prommetrics.New(reg)
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) {
		t.Fatalf("second New on one registry: err = %v, want AlreadyRegisteredError", err)
	}
}
