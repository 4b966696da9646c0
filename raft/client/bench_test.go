package client

import (
	"context"
	"encoding/json"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
)

// BenchmarkCodec compares the framed protocol's binary payloads with the
// JSON ones it replaced (and that HTTP still carries): one encode and one
// decode of each message, with 256 B values.
func BenchmarkCodec(b *testing.B) {
	val := make([]byte, 256)
	rangeReq := rangeRequest{RangeRequest: kv.RangeRequest{Key: "/bench/read"}}
	rangeResp := kv.RangeResponse{KVs: []kv.KeyValue{{Key: "/bench/read", Value: val, CreateRevision: 2, ModRevision: 9, Version: 4}}, Count: 1, Revision: 12345}
	put := kv.TxnRequest{Success: []kv.Op{kv.OpPutKV("/bench/1234", val)}}
	putResp := kv.TxnResponse{Succeeded: true, Revision: 12346, Responses: []kv.OpResponse{{Put: &kv.PutResponse{}}}}
	var list kv.RangeResponse
	for i := range 100 {
		list.KVs = append(list.KVs, kv.KeyValue{Key: "/bench/" + strconv.Itoa(i), Value: val, CreateRevision: 2, ModRevision: int64(i), Version: 1})
	}
	list.Count, list.Revision = 100, 12345
	for _, m := range []struct {
		name   string
		binary func(buf []byte) ([]byte, error)
		json   func() error
	}{
		{"rangeRequest", func(buf []byte) ([]byte, error) {
			buf = appendRangeRequest(buf, &rangeReq)
			_, err := decodeRangeRequest(buf)
			return buf, err
		}, func() error {
			p, _ := json.Marshal(&rangeReq)
			var out rangeRequest
			return json.Unmarshal(p, &out)
		}},
		{"rangeResponse/kvs=1", func(buf []byte) ([]byte, error) {
			buf = appendRangeResponse(buf, &rangeResp)
			var out kv.RangeResponse
			return buf, decodeRangeResponse(buf, &out)
		}, func() error {
			p, _ := json.Marshal(&rangeResp)
			var out kv.RangeResponse
			return json.Unmarshal(p, &out)
		}},
		{"rangeResponse/kvs=100", func(buf []byte) ([]byte, error) {
			buf = appendRangeResponse(buf, &list)
			var out kv.RangeResponse
			return buf, decodeRangeResponse(buf, &out)
		}, func() error {
			p, _ := json.Marshal(&list)
			var out kv.RangeResponse
			return json.Unmarshal(p, &out)
		}},
		{"putRequest", func(buf []byte) ([]byte, error) {
			buf = appendTxnRequest(buf, &put)
			_, err := decodeTxnRequest(buf)
			return buf, err
		}, func() error {
			p, _ := json.Marshal(&put)
			var out kv.TxnRequest
			return json.Unmarshal(p, &out)
		}},
		{"putResponse", func(buf []byte) ([]byte, error) {
			buf = appendTxnResponse(buf, &putResp)
			var out kv.TxnResponse
			return buf, decodeTxnResponse(buf, &out)
		}, func() error {
			p, _ := json.Marshal(&putResp)
			var out kv.TxnResponse
			return json.Unmarshal(p, &out)
		}},
	} {
		b.Run("msg="+m.name+"/codec=binary", func(b *testing.B) {
			b.ReportAllocs()
			// The buffer is reused, as a connection's batch is.
			var buf []byte
			for b.Loop() {
				var err error
				if buf, err = m.binary(buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("msg="+m.name+"/codec=json", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := m.json(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRange measures linearizable-read traffic through the client
// protocol alone: 1 or 64 concurrent Ranges of one 256 B key through a
// Client and Server over an in-memory engine.
func BenchmarkRange(b *testing.B) {
	for _, proto := range []string{"http", "framed"} {
		for _, clients := range []int{1, 64} {
			b.Run("proto="+proto+"/clients="+strconv.Itoa(clients), func(b *testing.B) {
				c := benchClient(b, proto)
				if _, err := kv.Put(context.Background(), c, "/bench/read", make([]byte, 256)); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				runClients(b, clients, func(int64) error {
					_, _, err := kv.Get(context.Background(), c, "/bench/read")
					return err
				})
			})
		}
	}
}

// benchClient serves an in-memory engine and returns a client of it over
// proto; all close with the benchmark.
func benchClient(b *testing.B, proto string) *Client {
	e := mvcc.New(mvcc.Options{})
	b.Cleanup(func() { e.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := NewServer(e, nil)
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	ep := ln.Addr().String()
	if proto == "http" {
		ep = "http://" + ep
	}
	c, err := New(Config{Endpoints: []string{ep}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// runClients runs op b.N times from n goroutines.
func runClients(b *testing.B, n int, op func(i int64) error) {
	var next atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if err := op(i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkPut measures the client protocol alone: 64 concurrent Puts of
// 256 B through a Client and Handler over an in-memory engine.
func BenchmarkPut(b *testing.B) {
	for _, proto := range []string{"http", "framed"} {
		b.Run("proto="+proto, func(b *testing.B) {
			c := benchClient(b, proto)
			val := make([]byte, 256)
			b.ReportAllocs()
			runClients(b, 64, func(i int64) error {
				_, err := kv.Put(context.Background(), c, "/bench/"+strconv.Itoa(int(i%10000)), val)
				return err
			})
		})
	}
}
