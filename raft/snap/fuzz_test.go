package snap_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/governor-io/governor/raft/snap"
)

// FuzzSnapshotDecode feeds arbitrary bytes to Receive, the decoder of the
// snapshot file and stream format. It must fail with ErrCorrupt or store a
// snapshot that then loads and reads back byte for byte: never a panic.
func FuzzSnapshotDecode(f *testing.F) {
	seedDir := f.TempDir()
	s, err := snap.New(seedDir, snap.Options{})
	if err != nil {
		f.Fatal(err)
	}
	for i, data := range []string{"", "x", strings.Repeat("state", 50)} {
		if _, err := s.Save(metadata(uint64(i+1), 1, 1, 2, 3), strings.NewReader(data)); err != nil {
			f.Fatal(err)
		}
		stream, _, err := s.Stream(uint64(i + 1))
		if err != nil {
			f.Fatal(err)
		}
		raw, err := io.ReadAll(stream)
		stream.Close()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := snap.New(t.TempDir(), snap.Options{})
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Receive(bytes.NewReader(raw))
		if err != nil {
			if !errors.Is(err, snap.ErrCorrupt) {
				t.Fatalf("Receive = %v, want nil or ErrCorrupt", err)
			}
			return
		}
		loaded, err := s.Load()
		if err != nil || loaded.Index != info.Index || loaded.Size != info.Size {
			t.Fatalf("Load after Receive = %+v, %v; received %+v", loaded, err, info)
		}
		r, err := s.Open(info.Index)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		data, err := io.ReadAll(r)
		if err != nil || int64(len(data)) != info.Size {
			t.Fatalf("read back %d bytes, %v; want %d", len(data), err, info.Size)
		}
		if !bytes.Contains(raw, data) {
			t.Fatal("data read back is not what was received")
		}
	})
}
