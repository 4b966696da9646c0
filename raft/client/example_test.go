package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/governor-io/governor/raft/client"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
)

// Example serves an engine and uses it from a Client, as a controller in
// another process would use a cluster member.
func Example() {
	engine := mvcc.New(mvcc.Options{}) // a *raft.Node in a real server
	defer engine.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := client.NewServer(engine, nil)
	go srv.Serve(ln)
	defer srv.Close()

	c, _ := client.New(client.Config{Endpoints: []string{ln.Addr().String()}})
	defer c.Close()
	ctx := context.Background()
	w, _ := c.Watch(ctx, kv.WatchRequest{Key: "/a"})
	rev, _ := kv.Put(ctx, c, "/a", []byte("1"))
	ev := <-w
	fmt.Println(rev, ev.Events[0].KV.Key, string(ev.Events[0].KV.Value))
	// Output: 1 /a 1
}

// Example_http shows the HTTP/JSON API that shares the framed protocol's
// port, as curl would use it, with its conveniences for people: /v1/put
// of a text value and ?text=1.
func Example_http() {
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := client.NewServer(engine, nil)
	go srv.Serve(ln)
	defer srv.Close()

	base := "http://" + ln.Addr().String()
	post := func(path, body string) string {
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Status + " " + strings.TrimSuffix(string(b), "\n")
	}
	fmt.Println(post("/v1/txn", `{"Success":[{"Type":1,"Key":"/a","Value":"aGk="}]}`))
	fmt.Println(post("/v1/range", `{"Key":"/a"}`))
	fmt.Println(strings.SplitAfter(post("/v1/range", `{"Key":"/a","Revision":9}`), `"future_revision"`)[0])
	fmt.Println(post("/v1/put", `{"key":"/b","value":"hello"}`))
	fmt.Println(post("/v1/range?text=1", `{"Key":"/b"}`))
	// Output:
	// 200 OK {"Succeeded":true,"Revision":1,"Responses":[{"Range":null,"Put":{"PrevKV":null},"Delete":null}]}
	// 200 OK {"KVs":[{"Key":"/a","Value":"aGk=","CreateRevision":1,"ModRevision":1,"Version":1}],"Count":1,"More":false,"Revision":1}
	// 400 Bad Request {"error":{"code":"future_revision"
	// 200 OK {"Revision":2}
	// 200 OK {"KVs":[{"Key":"/b","Value":"hello","CreateRevision":2,"ModRevision":2,"Version":1}],"Count":1,"More":false,"Revision":2}
}

// ExampleClient_errors shows that errors keep their identity across the
// wire.
func ExampleClient_errors() {
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := client.NewServer(engine, nil)
	go srv.Serve(ln)
	defer srv.Close()

	c, _ := client.New(client.Config{Endpoints: []string{ln.Addr().String()}})
	defer c.Close()
	ctx := context.Background()
	for range 3 {
		kv.Put(ctx, c, "/a", []byte("x"))
	}
	c.Compact(ctx, 2)
	_, err := c.Range(ctx, kv.RangeRequest{Key: "/a", Revision: 1})
	var ce *kv.CompactedError
	fmt.Println(errors.Is(err, kv.ErrCompacted), errors.As(err, &ce), ce.CompactRevision)
	// Output: true true 2
}
