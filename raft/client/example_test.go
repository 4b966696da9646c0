package client_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/governor-io/governor/raft/client"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
)

// Example serves an engine over HTTP and uses it from a Client, as a
// controller in another process would use a cluster member.
func Example() {
	engine := mvcc.New(mvcc.Options{}) // a *raft.Node in a real server
	defer engine.Close()
	srv := httptest.NewServer(client.NewHandler(engine))
	defer srv.Close()

	c, _ := client.New(client.Config{Endpoints: []string{srv.URL}})
	defer c.Close()
	ctx := context.Background()
	w, _ := c.Watch(ctx, kv.WatchRequest{Key: "/a"})
	rev, _ := kv.Put(ctx, c, "/a", []byte("1"))
	ev := <-w
	fmt.Println(rev, ev.Events[0].KV.Key, string(ev.Events[0].KV.Value))
	// Output: 1 /a 1
}
