package mvcc_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
	"github.com/governor-io/governor/store/mvcc/prommetrics"
)

func Example() {
	ctx := context.Background()
	e := mvcc.New(mvcc.Options{})
	defer e.Close()

	rev, _ := kv.Put(ctx, e, "/pods/default/web", []byte("v1"))
	kv.Put(ctx, e, "/pods/default/web", []byte("v2"))

	// Create only if absent: the compare fails, the failure branch reads.
	resp, _ := e.Txn(ctx, kv.TxnRequest{
		Compare: []kv.Compare{{Key: "/pods/default/web", Target: kv.CompareVersion, Result: kv.Equal, Int: 0}},
		Success: []kv.Op{kv.OpPutKV("/pods/default/web", []byte("v0"))},
		Failure: []kv.Op{kv.OpGet("/pods/default/web")},
	})
	got := resp.Responses[0].Range.KVs[0]
	fmt.Println(resp.Succeeded, string(got.Value), got.Version)

	// The past stays readable until compacted.
	old, _ := e.Range(ctx, kv.RangeRequest{Key: "/pods/default/web", Revision: rev})
	fmt.Println(string(old.KVs[0].Value))
	// Output:
	// false v2 2
	// v1
}

func ExampleEngine_Watch() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := mvcc.New(mvcc.Options{})
	defer e.Close()

	kv.Put(ctx, e, "/pods/a", []byte("1"))
	kv.Put(ctx, e, "/pods/b", []byte("2"))
	kv.Delete(ctx, e, "/pods/a", "")

	// Replay everything from revision 1, then follow live changes.
	ch, _ := e.Watch(ctx, kv.WatchRequest{Key: "/pods/", End: kv.PrefixEnd("/pods/"), StartRevision: 1})
	for n := 0; n < 3; {
		resp := <-ch
		for _, ev := range resp.Events {
			fmt.Println(ev.Type, ev.KV.Key, ev.KV.ModRevision)
			n++
		}
	}
	// Output:
	// PUT /pods/a 1
	// PUT /pods/b 2
	// DELETE /pods/a 3
}

func ExampleEngine_Snapshot() {
	ctx := context.Background()
	src := mvcc.New(mvcc.Options{})
	defer src.Close()
	kv.Put(ctx, src, "k", []byte("v"))

	var buf bytes.Buffer
	if err := src.Snapshot(&buf); err != nil {
		panic(err)
	}
	dst := mvcc.New(mvcc.Options{})
	defer dst.Close()
	if err := dst.Restore(&buf); err != nil {
		panic(err)
	}
	kvs, rev, _ := kv.Get(ctx, dst, "k")
	fmt.Println(string(kvs.Value), rev)
	// Output: v 1
}

// The engine exports etcd's MVCC metrics on the registerer it is given.
func Example_metrics() {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	e, err := mvcc.Open(mvcc.Options{Metrics: prommetrics.New(reg)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()

	kv.Put(ctx, e, "/pods/default/web", []byte("v1"))
	kv.Put(ctx, e, "/pods/default/db", []byte("v1"))
	kv.Delete(ctx, e, "/pods/default/db", "")

	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		switch mf.GetName() {
		case "etcd_mvcc_put_total", "etcd_mvcc_delete_total", "etcd_debugging_mvcc_keys_total", "etcd_debugging_mvcc_current_revision":
			m := mf.GetMetric()[0]
			fmt.Println(mf.GetName(), m.GetCounter().GetValue()+m.GetGauge().GetValue())
		}
	}
	// Output:
	// etcd_debugging_mvcc_current_revision 3
	// etcd_debugging_mvcc_keys_total 1
	// etcd_mvcc_delete_total 1
	// etcd_mvcc_put_total 2
}
