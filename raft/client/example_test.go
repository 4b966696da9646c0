package client_test

import (
	"context"
	"fmt"
	"net"

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
