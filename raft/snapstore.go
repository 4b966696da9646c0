package raft

import (
	"fmt"
	"io"
	"log/slog"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/governor-io/governor/raft/snap"
	"github.com/governor-io/governor/raft/wal"
)

// snapKeep is the number of snapshots kept on disk.
const snapKeep = 3

// snapshots is the member's view of its snapshot store.
type snapshots struct {
	store *snap.Store
	log   *slog.Logger
}

func openSnapshots(dir string, fs wal.FS, log *slog.Logger) (*snapshots, error) {
	s, err := snap.New(dir, snap.Options{Logger: log, FS: fs})
	if err != nil {
		return nil, fmt.Errorf("raft: open snapshot store: %w", err)
	}
	return &snapshots{store: s, log: log}, nil
}

// save writes the snapshot that write produces; it is durable on return.
func (s *snapshots) save(md *raftpb.SnapshotMetadata, write func(io.Writer) error) error {
	_, err := s.store.SaveFunc(md, write)
	return err
}

// receive stores a snapshot streamed from the leader, which must be the
// one md describes.
func (s *snapshots) receive(md *raftpb.SnapshotMetadata, r io.Reader) error {
	info, err := s.store.Receive(r)
	if err != nil {
		return err
	}
	if info.Index != md.GetIndex() || info.Term != md.GetTerm() {
		return fmt.Errorf("%w: received snapshot %d/%d for message about %d/%d", ErrCorruptEntry, info.Index, info.Term, md.GetIndex(), md.GetTerm())
	}
	return nil
}

// stream opens the stored snapshot at index as it travels to a follower.
func (s *snapshots) stream(index uint64) (io.ReadCloser, int64, error) {
	return s.store.Stream(index)
}

// open opens the data of the snapshot at index.
func (s *snapshots) open(index uint64) (io.ReadCloser, error) {
	return s.store.Open(index)
}

// purge deletes all but the newest snapshots.
func (s *snapshots) purge() {
	if _, err := s.store.Purge(snapKeep); err != nil {
		s.log.Warn("raft: purge snapshots", "err", err)
	}
}
