package prommetrics_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/governor-io/governor/examples/cluster/client/prommetrics"
)

func TestProviderRecordsEachMetricUnderClientGosName(t *testing.T) {
	reg := prometheus.NewRegistry()
	p, err := prommetrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	p.RequestResult("200", "GET", "h:1")
	p.RequestResult("<error>", "POST", "h:1")
	p.RequestLatency("GET", "h:1", 30*time.Millisecond)
	p.RequestRetry("503", "GET", "h:1")
	p.RateLimiterLatency("GET", "h:1", 0)
	for name, want := range map[string]int{
		prommetrics.RequestsName: 2, prommetrics.RequestDurationName: 1,
		prommetrics.RetriesName: 1, prommetrics.RateLimiterDurationName: 1,
	} {
		if n, err := testutil.GatherAndCount(reg, name); err != nil || n != want {
			t.Errorf("%s: %d series (%v), want %d", name, n, err, want)
		}
	}
	if _, err := prommetrics.New(reg); err == nil {
		t.Error("a second provider registered the same names")
	}
}
