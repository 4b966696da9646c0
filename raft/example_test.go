package raft_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/store/kv"
)

// Example runs a single-member cluster, writes a key and reads it back
// linearizably.
func Example() {
	dir, _ := os.MkdirTemp("", "raft-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	n, err := raft.Open(ctx, raft.Config{
		ID:             1,
		Dir:            dir,
		InitialCluster: []raft.Member{{ID: 1, PeerAddr: "127.0.0.1:0"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer n.Close()
	rev, _ := kv.Put(ctx, n, "/greeting", []byte("hello"))
	got, _, _ := kv.Get(ctx, n, "/greeting")
	fmt.Println(rev, string(got.Value))
	// Output: 1 hello
}

// ExampleNotLeaderError shows how a client learns where to send a write
// that a follower refused.
func ExampleNotLeaderError() {
	var err error = &raft.NotLeaderError{LeaderID: 2, LeaderAddr: "10.0.0.2:2379"}
	var nl *raft.NotLeaderError
	if errors.Is(err, raft.ErrNotLeader) && errors.As(err, &nl) {
		fmt.Println("retry at", nl.LeaderAddr)
	}
	// Output: retry at 10.0.0.2:2379
}
