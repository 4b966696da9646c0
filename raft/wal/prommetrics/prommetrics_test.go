package prommetrics_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/governor-io/governor/raft/wal/prommetrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A second provider on one registry (a member reopened in the same
// process) shares the histogram rather than fail.
func TestSecondProviderShares(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	p1, err := prommetrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := prommetrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	p1.NewFsyncDurationMetric().Observe(0.01)
	p2.NewFsyncDurationMetric().Observe(0.02)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 1 || mfs[0].GetName() != prommetrics.FsyncDurationName || mfs[0].GetMetric()[0].GetHistogram().GetSampleCount() != 2 {
		t.Fatalf("gathered %v, want one %s with 2 samples", mfs, prommetrics.FsyncDurationName)
	}
}
