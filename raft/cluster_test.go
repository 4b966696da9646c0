package raft_test

import (
	"context"
	"testing"
	"time"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/rafttest"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/kvtest"
)

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// follower returns a member of c that does not lead.
func follower(t *testing.T, c *rafttest.Cluster) *raft.Node {
	t.Helper()
	lead, err := c.Leader(ctxFor(t, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range c.Nodes() {
		if n != lead {
			return n
		}
	}
	t.Fatal("no follower")
	return nil
}

// TestConformanceThreeMembers runs the KV conformance suite against a
// follower of a three-member cluster: every write is forwarded to the
// leader and every read goes through ReadIndex.
func TestConformanceThreeMembers(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.KV {
		c := rafttest.NewCluster(t, rafttest.Options{})
		f := follower(t, c)
		t.Cleanup(func() {
			if t.Failed() {
				for id, n := range c.Nodes() {
					t.Logf("member %d: %+v", id, n.Status())
				}
			}
		})
		return f
	})
}
