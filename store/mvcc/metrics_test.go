package mvcc_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
	"github.com/governor-io/governor/store/mvcc/prommetrics"
)

// keepingRegistry is a registry that remembers what was registered on it,
// so that a test can still collect the engine's metrics after Close has
// unregistered them.
type keepingRegistry struct {
	*prometheus.Registry
	got []prometheus.Collector
}

func (r *keepingRegistry) Register(c prometheus.Collector) error {
	if err := r.Registry.Register(c); err != nil {
		return err
	}
	r.got = append(r.got, c)
	return nil
}

func TestMetrics(t *testing.T) {
	ctx := context.Background()
	reg := &keepingRegistry{Registry: prometheus.NewPedanticRegistry()}
	e, err := mvcc.Open(mvcc.Options{Metrics: prommetrics.New(reg)})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := e.Watch(wctx, kv.WatchRequest{Key: "/a/", End: kv.PrefixEnd("/a/")})
	if err != nil {
		t.Fatal(err)
	}
	mustTxn := func(req kv.TxnRequest) {
		t.Helper()
		if _, err := e.Txn(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	value := []byte("0123456789")
	mustTxn(kv.TxnRequest{Success: []kv.Op{kv.OpPutKV("/a/1", value)}})                            // rev 1
	mustTxn(kv.TxnRequest{Success: []kv.Op{kv.OpPutKV("/a/2", value), kv.OpPutKV("/b/1", value)}}) // rev 2: a txn
	mustTxn(kv.TxnRequest{Success: []kv.Op{kv.OpPutKV("/a/1", value)}})                            // rev 3
	mustTxn(kv.TxnRequest{Success: []kv.Op{kv.OpDeleteRange("/a/2", "")}})                         // rev 4
	mustTxn(kv.TxnRequest{Success: []kv.Op{kv.OpDeleteRange("/nothing", "")}})                     // no revision
	mustTxn(kv.TxnRequest{                                                                         // a txn; range op
		Compare: []kv.Compare{{Key: "/a/1", Target: kv.CompareVersion, Result: kv.Equal, Int: 2}},
		Success: []kv.Op{kv.OpGet("/a/1")},
	})
	if _, err := e.Range(ctx, kv.RangeRequest{Key: "/", End: kv.PrefixEnd("/")}); err != nil {
		t.Fatal(err)
	}

	// The watcher gets rev 1, 2 (one event: /b/1 is outside), 3 and 4.
	got := 0
	for got < 4 {
		select {
		case resp := <-ch:
			if resp.Err != nil {
				t.Fatal(resp.Err)
			}
			got += len(resp.Events)
		case <-time.After(10 * time.Second):
			t.Fatalf("got %d events, want 4", got)
		}
	}

	want := map[string]float64{
		"etcd_mvcc_put_total":                         4,
		"etcd_mvcc_delete_total":                      2,
		"etcd_mvcc_range_total":                       2,
		"etcd_mvcc_txn_total":                         2,
		"etcd_debugging_mvcc_total_put_size_in_bytes": 4*4 + 4*10,
		"etcd_debugging_mvcc_keys_total":              2,
		"etcd_debugging_mvcc_current_revision":        4,
		"etcd_debugging_mvcc_compact_revision":        0,
		"etcd_debugging_mvcc_watcher_total":           1,
		"etcd_debugging_mvcc_slow_watcher_total":      0,
	}
	checkMetrics(t, reg.Registry, want)

	sizeBefore := gathered(t, reg.Registry)["etcd_mvcc_db_total_size_in_bytes"]
	if sizeBefore <= 3*10+3*4 {
		t.Fatalf("db size %v: less than the keys and values it holds", sizeBefore)
	}
	if err := e.Compact(ctx, 4); err != nil {
		t.Fatal(err)
	}
	after := gathered(t, reg.Registry)
	// Compacting at 4 drops /a/1@1, and /a/2 whole (tombstone at 4).
	if after["etcd_mvcc_db_total_size_in_bytes"] >= sizeBefore {
		t.Fatalf("db size %v after compaction, %v before: want less", after["etcd_mvcc_db_total_size_in_bytes"], sizeBefore)
	}
	if after["etcd_debugging_mvcc_compact_revision"] != 4 {
		t.Fatalf("compact revision %v, want 4", after["etcd_debugging_mvcc_compact_revision"])
	}
	if got := after["etcd_debugging_mvcc_db_compaction_keys_total"]; got != 3 {
		t.Fatalf("revisions compacted: %v, want 3 (/a/1@1, /a/2@2 and its tombstone)", got)
	}
	for _, name := range []string{
		"etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds",
		"etcd_debugging_mvcc_db_compaction_total_duration_milliseconds",
	} {
		if n := testutil.CollectAndCount(reg, name); n != 1 {
			t.Fatalf("%s: %d series, want 1", name, n)
		}
	}

	// A restored engine counts the same size as the one it copies.
	var snap strings.Builder
	if err := e.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	reg2 := prometheus.NewPedanticRegistry()
	e2 := mvcc.New(mvcc.Options{Metrics: prommetrics.New(reg2)})
	if err := e2.Restore(strings.NewReader(snap.String())); err != nil {
		t.Fatal(err)
	}
	restored := gathered(t, reg2)
	if restored["etcd_mvcc_db_total_size_in_bytes"] != after["etcd_mvcc_db_total_size_in_bytes"] || restored["etcd_debugging_mvcc_keys_total"] != 2 {
		t.Fatalf("restored engine: size %v keys %v, want %v and 2", restored["etcd_mvcc_db_total_size_in_bytes"],
			restored["etcd_debugging_mvcc_keys_total"], after["etcd_mvcc_db_total_size_in_bytes"])
	}
	e2.Close()
	if n := testutil.CollectAndCount(reg2); n != 0 {
		t.Fatalf("%d metrics still registered after Close", n)
	}

	// The events counter is complete once the dispatcher has stopped.
	e.Close()
	if n := testutil.CollectAndCount(reg.Registry); n != 0 {
		t.Fatalf("%d metrics still registered after Close", n)
	}
	var events float64
	for _, c := range reg.got {
		events += collected(t, c)["etcd_debugging_mvcc_events_total"]
	}
	if events != 4 {
		t.Fatalf("events_total %v, want 4", events)
	}
}

func TestMetricsRegistrationError(t *testing.T) {
	reg := prometheus.NewRegistry()
	e1, err := mvcc.Open(mvcc.Options{Metrics: prommetrics.New(reg)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = mvcc.Open(mvcc.Options{Metrics: prommetrics.New(reg)})
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) {
		t.Fatalf("second Open on one registry: %v, want an AlreadyRegisteredError", err)
	}
	// New runs without metrics rather than fail.
	e2 := mvcc.New(mvcc.Options{Metrics: prommetrics.New(reg)})
	if _, err := kv.Put(context.Background(), e2, "k", nil); err != nil {
		t.Fatal(err)
	}
	e2.Close()
	e1.Close()
	// Close freed the names.
	e3, err := mvcc.Open(mvcc.Options{Metrics: prommetrics.New(reg)})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	e3.Close()
}

func TestNoMetrics(t *testing.T) {
	// Without a provider nothing is registered anywhere: the default
	// registry keeps only what it had.
	before := testutil.CollectAndCount(prometheus.DefaultRegisterer.(prometheus.Collector))
	e := mvcc.New(mvcc.Options{})
	if _, err := kv.Put(context.Background(), e, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if after := testutil.CollectAndCount(prometheus.DefaultRegisterer.(prometheus.Collector)); after != before {
		t.Fatalf("default registry: %d metrics, had %d", after, before)
	}
	e.Close()
}

func checkMetrics(t *testing.T, g prometheus.Gatherer, want map[string]float64) {
	t.Helper()
	got := gathered(t, g)
	for name, w := range want {
		v, ok := got[name]
		if !ok {
			t.Errorf("%s: not exported", name)
			continue
		}
		if v != w {
			t.Errorf("%s = %v, want %v", name, v, w)
		}
	}
}

// gathered returns the value of every counter and gauge g exports.
func gathered(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]float64)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				out[mf.GetName()] += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[mf.GetName()] += m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func collected(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	r := prometheus.NewRegistry()
	if err := r.Register(c); err != nil {
		t.Fatal(err)
	}
	return gathered(t, r)
}
