package snap_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/governor-io/governor/raft/snap"
)

func metadata(index, term uint64, voters ...uint64) *raftpb.SnapshotMetadata {
	return &raftpb.SnapshotMetadata{Index: &index, Term: &term, ConfState: &raftpb.ConfState{Voters: voters}}
}

// Save a snapshot by streaming the state machine into it, then load the
// newest one and read its data back.
func Example() {
	dir, err := os.MkdirTemp("", "snap-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	store, err := snap.New(dir, snap.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := store.Save(metadata(10, 2, 1, 2, 3), strings.NewReader("state at 10")); err != nil {
		log.Fatal(err)
	}
	// The state machine can also write itself straight into the file.
	if _, err := store.SaveFunc(metadata(20, 3, 1, 2, 3), func(w io.Writer) error {
		_, err := io.WriteString(w, "state at 20")
		return err
	}); err != nil {
		log.Fatal(err)
	}

	info, err := store.Load()
	if err != nil {
		log.Fatal(err)
	}
	r, err := store.Open(info.Index)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("index %d, term %d, voters %v, %d bytes: %s\n", info.Index, info.Term, info.ConfState.GetVoters(), info.Size, data)

	removed, err := store.Purge(1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("purged", removed)
	// Output:
	// index 20, term 3, voters [1 2 3], 11 bytes: state at 20
	// purged 1
}

// Send a snapshot to a follower: the leader streams the stored file, the
// follower's store checks and saves it.
func ExampleStore_Receive() {
	dir, err := os.MkdirTemp("", "snap-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	leader, err := snap.New(dir+"/leader", snap.Options{})
	if err != nil {
		log.Fatal(err)
	}
	follower, err := snap.New(dir+"/follower", snap.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := leader.Save(metadata(7, 1, 1), strings.NewReader("seven")); err != nil {
		log.Fatal(err)
	}

	stream, size, err := leader.Stream(7)
	if err != nil {
		log.Fatal(err)
	}
	defer stream.Close()
	// In a cluster, stream goes over the network, size bytes long.
	info, err := follower.Receive(stream)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("sent %d bytes; follower has index %d with %d bytes of data\n", size, info.Index, info.Size)
	// Output:
	// sent 41 bytes; follower has index 7 with 5 bytes of data
}
