package client

import (
	"context"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
)

// BenchmarkPut measures the client protocol alone: 64 concurrent Puts of
// 256 B through a Client and Handler over an in-memory engine.
func BenchmarkPut(b *testing.B) {
	for _, proto := range []string{"http", "framed"} {
		b.Run("proto="+proto, func(b *testing.B) {
			e := mvcc.New(mvcc.Options{})
			defer e.Close()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := NewServer(e, nil)
			go srv.Serve(ln)
			defer srv.Close()
			ep := ln.Addr().String()
			if proto == "http" {
				ep = "http://" + ep
			}
			c, err := New(Config{Endpoints: []string{ep}})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			val := make([]byte, 256)
			var next atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for range 64 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						if _, err := kv.Put(context.Background(), c, "/bench/"+strconv.Itoa(int(i%10000)), val); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}
