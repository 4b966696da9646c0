package main

import (
	"fmt"
	"net/http"

	"github.com/governor-io/governor/raft"
)

// member is what /healthz needs of a *raft.Node: whether it has stopped,
// and whether it knows a leader.
type member interface {
	Leader() uint64
	Err() error
}

// healthz answers 200 "ok" while m runs and knows a leader, and 503
// saying why otherwise. The KV API itself, with its conveniences for
// curl, is raft/client's Handler.
func healthz(m member) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := leaderKnown(m); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "unhealthy: %v\n", err)
			return
		}
		fmt.Fprintln(w, "ok")
	}
}

// leaderKnown fails with the member's error when it has stopped, and
// with [raft.ErrNoLeader] when it knows of no leader.
func leaderKnown(m member) error {
	if err := m.Err(); err != nil {
		return err
	}
	if m.Leader() == 0 {
		return raft.ErrNoLeader
	}
	return nil
}
