package rafttest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/governor-io/governor/raft/rafttest"
	"github.com/governor-io/governor/store/kv"
)

// Example cuts a member off, writes through the majority, heals the
// network and reads the write back on the member that missed it.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// In a test, pass the test's *testing.T to NewCluster; this example
	// borrows a *testing.B from testing.Benchmark to get one.
	testing.Benchmark(func(b *testing.B) {
		c := rafttest.NewCluster(b, rafttest.Options{Seed: 7})
		lead, err := c.Leader(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		var other uint64 = 1
		if lead.ID() == 1 {
			other = 2
		}
		c.Net.Isolate(other)
		kv.Put(ctx, lead, "/k", []byte("v"))
		c.Net.Heal()
		got, _, err := kv.Get(ctx, c.Node(other), "/k")
		if err == nil {
			fmt.Println(string(got.Value))
		}
		b.SkipNow()
	})
	// Output: v
}
