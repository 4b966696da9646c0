package mvcc_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
)

// BenchmarkPut measures one-put transactions of 256-byte values, on keys
// that are new (the index grows by one key per put) and on keys that
// exist (each put adds a revision to one of 10k keys).
func BenchmarkPut(b *testing.B) {
	value := make([]byte, 256)
	for _, mode := range []string{"new", "existing"} {
		b.Run("keys="+mode, func(b *testing.B) {
			e := mvcc.New(mvcc.Options{})
			defer e.Close()
			ctx := context.Background()
			n := b.N
			if mode == "existing" {
				n = 10_000
			}
			keys := make([]string, n)
			for i := range keys {
				keys[i] = fmt.Sprintf("/registry/pods/ns%03d/pod-%07d", i%100, i*7919%n)
			}
			if mode == "existing" {
				for _, k := range keys {
					if _, err := kv.Put(ctx, e, k, value); err != nil {
						b.Fatal(err)
					}
				}
			}
			ops := []kv.Op{{}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				ops[0] = kv.OpPutKV(keys[i%n], value)
				if _, err := e.Txn(ctx, kv.TxnRequest{Success: ops}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGet measures a single-key Range over 100k keys.
func BenchmarkGet(b *testing.B) {
	e := mvcc.New(mvcc.Options{})
	defer e.Close()
	ctx := context.Background()
	const n = 100_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("/registry/pods/ns%03d/pod-%07d", i%100, i)
		if _, err := kv.Put(ctx, e, keys[i], []byte("v")); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := e.Range(ctx, kv.RangeRequest{Key: keys[i*7919%n]}); err != nil {
			b.Fatal(err)
		}
	}
}
