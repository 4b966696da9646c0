package raft_test

import (
	"errors"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/raft"
)

// handTransport hands the member's Handler to the test, which plays the
// other member; what the member sends is dropped.
type handTransport struct{ h chan raft.Handler }

func (t *handTransport) Start(h raft.Handler) error { t.h <- h; return nil }
func (t *handTransport) Send([]*raftpb.Message)     {}
func (t *handTransport) AddPeer(uint64, string)     {}
func (t *handTransport) RemovePeer(uint64)          {}
func (t *handTransport) Addr() string               { return "" }
func (t *handTransport) Close() error               { return nil }

// TestUndecodableMembershipChangeStopsMember checks that a committed
// membership entry whose change or context does not decode stops the
// member with ErrCorruptEntry, as an undecodable data entry does, rather
// than being applied as some other change.
func TestUndecodableMembershipChangeStopsMember(t *testing.T) {
	goodV1, err := proto.Marshal(&raftpb.ConfChange{Type: raftpb.ConfChangeAddLearnerNode.Enum(), NodeId: new(uint64(3)), Context: []byte(`{"member":{"id":3}}`)})
	if err != nil {
		t.Fatal(err)
	}
	badContext, err := proto.Marshal(&raftpb.ConfChangeV2{
		Changes: []*raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddLearnerNode.Enum(), NodeId: new(uint64(3))}},
		Context: []byte(`{"member":`),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		typ  raftpb.EntryType
		data []byte
	}{
		{"garbage change", raftpb.EntryConfChange, []byte{0xff, 0xff, 0xff}},
		{"garbage change v2", raftpb.EntryConfChangeV2, []byte{0x0a, 0x05, 0x01}},
		{"undecodable context", raftpb.EntryConfChangeV2, badContext},
		{"v1 with a truncated tail", raftpb.EntryConfChange, goodV1[:len(goodV1)-3]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxFor(t, 10*time.Second)
			tr := &handTransport{h: make(chan raft.Handler, 1)}
			n, err := raft.Open(ctx, raft.Config{
				ID:             1,
				Dir:            t.TempDir(),
				InitialCluster: []raft.Member{{ID: 1}, {ID: 2}},
				Transport:      tr,
				// Never stepped: member 1 never campaigns.
				Clock: clocktest.New(time.Unix(0, 0)),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			h := <-tr.h
			// Member 2, leader of term 2, appends the entry after the two
			// bootstrap entries and commits it.
			app := &raftpb.Message{
				Type: raftpb.MsgApp.Enum(), From: new(uint64(2)), To: new(uint64(1)),
				Term: new(uint64(2)), LogTerm: new(uint64(1)), Index: new(uint64(2)), Commit: new(uint64(3)),
				Entries: []*raftpb.Entry{{Term: new(uint64(2)), Index: new(uint64(3)), Type: tc.typ.Enum(), Data: tc.data}},
			}
			if err := h.Process(ctx, app); err != nil {
				t.Fatal(err)
			}
			select {
			case <-n.Done():
			case <-ctx.Done():
				t.Fatalf("member still runs after applying an undecodable membership entry (applied %d)", n.AppliedIndex())
			}
			if err := n.Err(); !errors.Is(err, raft.ErrCorruptEntry) || !errors.Is(err, raft.ErrStopped) {
				t.Fatalf("Err() = %v, want ErrStopped and ErrCorruptEntry", err)
			}
			if got := n.AppliedIndex(); got != 2 {
				t.Fatalf("applied index %d, want 2 (the bad entry not applied)", got)
			}
		})
	}
}
