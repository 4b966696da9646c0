package embedded_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/governor-io/governor/store/etcdkv/embedded"
)

// An embedded etcd keeps its data across a stop and a start.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "embedded-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	srv, err := embedded.Start(ctx, embedded.Config{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	put := func(key, value string) {
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{srv.Endpoint()}})
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Put(ctx, key, value); err != nil {
			log.Fatal(err)
		}
		resp, err := c.Get(ctx, "k", clientv3.WithPrefix())
		if err != nil {
			log.Fatal(err)
		}
		var pairs []string
		for _, kv := range resp.Kvs {
			pairs = append(pairs, fmt.Sprintf("%s=%s", kv.Key, kv.Value))
		}
		fmt.Println(strings.Join(pairs, " "))
	}
	put("k1", "before")
	if err := srv.Stop(); err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		log.Fatal(err)
	}
	put("k2", "after")
	// Output:
	// k1=before
	// k1=before k2=after
}
