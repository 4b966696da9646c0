package raft_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/governor-io/governor/raft"
)

// ExampleNode_AddMember adds a learner to a cluster of one, and shows the
// typed errors of changes that the cluster refuses.
func ExampleNode_AddMember() {
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
	if _, err := n.WaitLeader(ctx); err != nil {
		fmt.Println(err)
		return
	}
	// A learner receives the log but does not vote; start it with
	// Config.Join, then promote it.
	if err := n.AddMember(ctx, raft.Member{ID: 2, PeerAddr: "127.0.0.1:1", Learner: true}); err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range n.Members() {
		fmt.Printf("member %d learner=%v\n", m.ID, m.Learner)
	}
	err = n.AddMember(ctx, raft.Member{ID: 2, PeerAddr: "127.0.0.1:1"})
	fmt.Println(errors.Is(err, raft.ErrMemberExists))
	err = n.PromoteMember(ctx, 1)
	fmt.Println(errors.Is(err, raft.ErrNotLearner))
	err = n.RemoveMember(ctx, 1)
	fmt.Println(errors.Is(err, raft.ErrLastVoter))
	// Output:
	// member 1 learner=false
	// member 2 learner=true
	// true
	// true
	// true
}
