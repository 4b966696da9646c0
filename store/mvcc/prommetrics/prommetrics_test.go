package prommetrics_test

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
	"github.com/governor-io/governor/store/mvcc/prommetrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A provider registers when its engine opens and unregisters when it
// closes; a second engine cannot take names that are in use.
func TestRegisterAndUnregister(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	e, err := mvcc.Open(mvcc.Options{Metrics: prommetrics.New(reg)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(context.Background(), e, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(gathered(t, reg, "etcd_mvcc_put_total")); got != 1 {
		t.Errorf("etcd_mvcc_put_total = %v, want 1", got)
	}
	_, err = mvcc.Open(mvcc.Options{Metrics: prommetrics.New(reg)})
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) {
		t.Errorf("second engine on the registry: %v, want an AlreadyRegisteredError", err)
	}
	e.Close()
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 0 {
		t.Errorf("after Close: %d series, %v; want none", n, err)
	}
}

// gathered returns the one sample of name as a collector.
func gathered(t *testing.T, g prometheus.Gatherer, name string) prometheus.Collector {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	c := prometheus.NewGauge(prometheus.GaugeOpts{Name: "copy", Help: "copy"})
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			c.Set(m.GetCounter().GetValue() + m.GetGauge().GetValue())
		}
	}
	return c
}
