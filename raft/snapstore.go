package raft

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.etcd.io/raft/v3/raftpb"
)

// snapshots is the directory of snapshot files: one file per snapshot,
// named by index, written to a temporary file, synced and renamed.
type snapshots struct {
	dir  string
	keep int
}

func openSnapshots(dir string) (*snapshots, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("raft: create snapshot dir: %w", err)
	}
	return &snapshots{dir: dir, keep: 3}, nil
}

func (s *snapshots) path(index uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%016x.snap", index))
}

// save writes the snapshot that write produces.
func (s *snapshots) save(md *raftpb.SnapshotMetadata, write func(io.Writer) error) error {
	return s.create(md.GetIndex(), write)
}

// receive stores a snapshot streamed from the leader.
func (s *snapshots) receive(md *raftpb.SnapshotMetadata, r io.Reader) error {
	return s.create(md.GetIndex(), func(w io.Writer) error {
		_, err := io.Copy(w, r)
		return err
	})
}

func (s *snapshots) create(index uint64, write func(io.Writer) error) error {
	f, err := os.CreateTemp(s.dir, "snap-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	bw := bufio.NewWriterSize(f, 256<<10)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.path(index))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	d, err := os.Open(s.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// stream opens the stored snapshot at index as it travels to a follower,
// which passes it to receive.
func (s *snapshots) stream(index uint64) (io.ReadCloser, int64, error) { return s.open(index) }

// open opens the data of the snapshot at index.
func (s *snapshots) open(index uint64) (io.ReadCloser, int64, error) {
	f, err := os.Open(s.path(index))
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// purge deletes all but the newest snapshots, and stray temporary files.
func (s *snapshots) purge() {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	var names []string
	for _, e := range ents {
		switch {
		case strings.HasSuffix(e.Name(), ".snap"):
			names = append(names, e.Name())
		case strings.HasSuffix(e.Name(), ".tmp"):
			// A temporary file is either being written right now (receive
			// runs on a transport goroutine) or left by a crash; leave it
			// to the next start.
		}
	}
	sort.Strings(names)
	for i := 0; i < len(names)-s.keep; i++ {
		os.Remove(filepath.Join(s.dir, names[i]))
	}
}
