package rafterr_test

import (
	"errors"
	"fmt"

	"github.com/governor-io/governor/raft/rafterr"
)

// A client learns where the leader is from the error of a write sent to a
// follower.
func ExampleNotLeaderError() {
	var err error = fmt.Errorf("put /a: %w", &rafterr.NotLeaderError{LeaderID: 2, LeaderAddr: "10.0.0.2:2379"})
	var nl *rafterr.NotLeaderError
	fmt.Println(errors.Is(err, rafterr.ErrNotLeader), errors.As(err, &nl), nl.LeaderAddr)
	fmt.Println(&rafterr.NotLeaderError{})
	// Output:
	// true true 10.0.0.2:2379
	// raft: not the leader (leader unknown)
}
