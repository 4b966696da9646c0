package snap

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/governor-io/governor/raft/diskfs"
)

const (
	snapExt   = ".snap"
	tmpExt    = ".tmp"
	brokenExt = ".broken"
	bufSize   = 256 << 10
)

// Options configures a [Store]. The zero value is ready to use.
type Options struct {
	// Logger receives warnings about corrupt snapshots set aside. Nil
	// discards them.
	Logger *slog.Logger
	// FS is the file system; nil means the operating system's. Tests pass
	// a [github.com/governor-io/governor/raft/wal/waltest.MemFS] to inject
	// faults and crashes.
	FS diskfs.FS
}

// Store keeps snapshots as files in one directory, named
// <index>-<term>.snap (16 hexadecimal digits each). Every file is written
// under a temporary name, synced, renamed and the directory synced, so a
// crash leaves either the whole snapshot or none. Its methods are safe for
// concurrent use.
type Store struct {
	dir string
	log *slog.Logger
	fs  diskfs.FS
	mu  sync.Mutex // serialises changes to the directory
	tmp atomic.Uint64
}

// Info describes a saved snapshot.
type Info struct {
	// Index and Term are those of the last entry the snapshot covers.
	Index, Term uint64
	// ConfState is the membership at Index.
	ConfState *raftpb.ConfState
	// Size is the length of the state machine's data in bytes.
	Size int64
	// Path is the snapshot's file.
	Path string
}

// Metadata returns the snapshot's metadata as raft wants it.
func (i Info) Metadata() *raftpb.SnapshotMetadata {
	idx, term := i.Index, i.Term
	return &raftpb.SnapshotMetadata{Index: &idx, Term: &term, ConfState: i.ConfState}
}

// New returns the store in dir, creating dir if needed and removing the
// temporary files of saves that a crash interrupted.
func New(dir string, opts Options) (*Store, error) {
	s := &Store{dir: dir, log: opts.Logger, fs: opts.FS}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.fs == nil {
		s.fs = diskfs.OSFS{}
	}
	if err := s.fs.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("snap: %w", err)
	}
	des, err := s.fs.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("snap: %w", err)
	}
	removed := false
	for _, de := range des {
		if strings.HasSuffix(de.Name(), tmpExt) {
			if err := s.fs.Remove(filepath.Join(dir, de.Name())); err != nil {
				return nil, fmt.Errorf("snap: remove leftover: %w", err)
			}
			removed = true
		}
	}
	if removed {
		if err := s.syncDir(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func fileName(index, term uint64) string {
	return fmt.Sprintf("%016x-%016x%s", index, term, snapExt)
}

func parseName(name string) (index, term uint64, ok bool) {
	base, found := strings.CutSuffix(name, snapExt)
	if !found || len(base) != 33 || base[16] != '-' {
		return 0, 0, false
	}
	index, err1 := strconv.ParseUint(base[:16], 16, 64)
	term, err2 := strconv.ParseUint(base[17:], 16, 64)
	return index, term, err1 == nil && err2 == nil
}

func (s *Store) syncDir() error {
	if err := s.fs.SyncDir(s.dir); err != nil {
		return fmt.Errorf("snap: sync directory %s: %w", s.dir, err)
	}
	return nil
}

// offsetWriter writes sequentially through WriteAt.
type offsetWriter struct {
	f   diskfs.File
	off int64
}

func (o *offsetWriter) Write(p []byte) (int, error) {
	n, err := o.f.WriteAt(p, o.off)
	o.off += int64(n)
	return n, err
}

// Save writes a snapshot whose data is read from data until EOF. The data
// is streamed to disk, never held in memory. The snapshot is durable when
// Save returns.
func (s *Store) Save(md *raftpb.SnapshotMetadata, data io.Reader) (Info, error) {
	return s.SaveFunc(md, func(w io.Writer) error {
		_, err := io.Copy(w, data)
		return err
	})
}

// SaveFunc writes a snapshot whose data write produces, so that a state
// machine can serialise itself straight to the file. If write fails, nothing
// is saved. The snapshot is durable when SaveFunc returns.
func (s *Store) SaveFunc(md *raftpb.SnapshotMetadata, write func(w io.Writer) error) (Info, error) {
	if md == nil {
		return Info{}, errors.New("snap: save: nil metadata")
	}
	meta, err := proto.Marshal(md)
	if err != nil {
		return Info{}, fmt.Errorf("snap: save: %w", err)
	}
	return s.writeFile(md, func(f diskfs.File, bw *bufio.Writer) (int64, error) {
		if _, err := bw.Write(encodeHeader(0, meta)); err != nil {
			return 0, err
		}
		cw := &crcWriter{w: bw}
		if err := write(cw); err != nil {
			return 0, err
		}
		if _, err := bw.Write(crcBytes(cw.crc)); err != nil {
			return 0, err
		}
		if err := bw.Flush(); err != nil {
			return 0, err
		}
		// Now that the length is known, write the real header.
		if _, err := f.WriteAt(encodeHeader(uint64(cw.n), meta)[:headerSize], 0); err != nil {
			return 0, err
		}
		return cw.n, nil
	})
}

// Receive reads a snapshot in the stream format that [Store.Stream] sends
// (the file as stored) and saves it, checking the header and data CRCs on
// the way: a damaged or short stream gives [ErrCorrupt] and saves nothing.
// It reads exactly one snapshot from r and no further.
func (s *Store) Receive(r io.Reader) (Info, error) {
	h, raw, err := readHeader(r)
	if err != nil {
		return Info{}, fmt.Errorf("snap: receive: %w", err)
	}
	return s.writeFile(h.meta, func(_ diskfs.File, bw *bufio.Writer) (int64, error) {
		if _, err := bw.Write(raw); err != nil {
			return 0, err
		}
		vr := &verifyingReader{r: r, left: h.dataLen}
		n, err := io.Copy(bw, vr)
		if err != nil {
			return 0, err
		}
		if _, err := bw.Write(crcBytes(vr.crc)); err != nil {
			return 0, err
		}
		return n, bw.Flush()
	})
}

// writeFile runs fill on a new temporary file, then syncs, renames and syncs
// the directory.
func (s *Store) writeFile(md *raftpb.SnapshotMetadata, fill func(diskfs.File, *bufio.Writer) (int64, error)) (Info, error) {
	name := fileName(md.GetIndex(), md.GetTerm())
	tmp := filepath.Join(s.dir, fmt.Sprintf("%s.%d%s", name, s.tmp.Add(1), tmpExt))
	f, err := s.fs.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if err != nil {
		return Info{}, fmt.Errorf("snap: save %s: %w", name, err)
	}
	fail := func(err error) (Info, error) {
		f.Close()
		s.fs.Remove(tmp)
		return Info{}, fmt.Errorf("snap: save %s: %w", name, err)
	}
	n, err := fill(f, bufio.NewWriterSize(&offsetWriter{f: f}, bufSize))
	if err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		s.fs.Remove(tmp)
		return Info{}, fmt.Errorf("snap: save %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	path := filepath.Join(s.dir, name)
	if err := s.fs.Rename(tmp, path); err != nil {
		s.fs.Remove(tmp)
		return Info{}, fmt.Errorf("snap: save %s: %w", name, err)
	}
	if err := s.syncDir(); err != nil {
		return Info{}, err
	}
	return Info{Index: md.GetIndex(), Term: md.GetTerm(), ConfState: md.GetConfState(), Size: n, Path: path}, nil
}

func crcBytes(crc uint32) []byte {
	return []byte{byte(crc), byte(crc >> 8), byte(crc >> 16), byte(crc >> 24)}
}

// names returns the snapshot files' (index, term, path), oldest first.
func (s *Store) names() ([]Info, error) {
	des, err := s.fs.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("snap: %w", err)
	}
	var out []Info
	for _, de := range des {
		if idx, term, ok := parseName(de.Name()); ok {
			out = append(out, Info{Index: idx, Term: term, Path: filepath.Join(s.dir, de.Name())})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Index != out[j].Index {
			return out[i].Index < out[j].Index
		}
		return out[i].Term < out[j].Term
	})
	return out, nil
}

// List returns the snapshots in the store, oldest first, from their headers
// alone (the data is not verified; [Store.Load] does that). Files whose
// header is unreadable are left out.
func (s *Store) List() ([]Info, error) {
	names, err := s.names()
	if err != nil {
		return nil, err
	}
	var out []Info
	for _, n := range names {
		info, err := s.readInfo(n.Path)
		if err != nil {
			s.log.Warn("snap: unreadable snapshot header", "file", n.Path, "err", err)
			continue
		}
		out = append(out, info)
	}
	return out, nil
}

// openFile opens a snapshot file, checks its header, name and length, and
// returns a reader positioned at the data.
func (s *Store) openFile(path string) (diskfs.File, *bufio.Reader, Info, error) {
	f, err := s.fs.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, nil, Info{}, err
	}
	info, br, err := checkHeader(f, path)
	if err != nil {
		f.Close()
		return nil, nil, Info{}, err
	}
	return f, br, info, nil
}

func checkHeader(f diskfs.File, path string) (Info, *bufio.Reader, error) {
	fi, err := f.Stat()
	if err != nil {
		return Info{}, nil, err
	}
	br := bufio.NewReaderSize(io.NewSectionReader(f, 0, fi.Size()), bufSize)
	h, _, err := readHeader(br)
	if err != nil {
		return Info{}, nil, err
	}
	if want := headerSize + h.metaLen + h.dataLen + trailerSize; fi.Size() != want {
		return Info{}, nil, corruptf("file is %d bytes, header says %d", fi.Size(), want)
	}
	idx, term, _ := parseName(filepath.Base(path))
	if h.meta.GetIndex() != idx || h.meta.GetTerm() != term {
		return Info{}, nil, corruptf("header says index %d term %d, file name %d-%d", h.meta.GetIndex(), h.meta.GetTerm(), idx, term)
	}
	return Info{Index: idx, Term: term, ConfState: h.meta.GetConfState(), Size: h.dataLen, Path: path}, br, nil
}

func (s *Store) readInfo(path string) (Info, error) {
	f, _, info, err := s.openFile(path)
	if err != nil {
		return Info{}, err
	}
	f.Close()
	return info, nil
}

// verify reads a whole snapshot file and checks every CRC.
func (s *Store) verify(path string) (Info, error) {
	f, br, info, err := s.openFile(path)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	if _, err := io.Copy(io.Discard, &verifyingReader{r: br, left: info.Size}); err != nil {
		return Info{}, err
	}
	return info, nil
}

// Load returns the newest snapshot that passes every check, reading all of
// its data to verify the CRC. Corrupt snapshots met on the way are renamed
// to *.broken, with a warning logged, and skipped. It returns
// [ErrNoSnapshot] if none is valid.
func (s *Store) Load() (Info, error) { return s.LoadNewest(nil) }

// LoadNewest is [Store.Load] restricted to the snapshots accept returns true
// for (nil accepts all), so that a node can pick the newest snapshot that
// its WAL also has a marker for.
func (s *Store) LoadNewest(accept func(Info) bool) (Info, error) {
	names, err := s.names()
	if err != nil {
		return Info{}, err
	}
	for i := len(names) - 1; i >= 0; i-- {
		n := names[i]
		if accept != nil && !accept(n) {
			continue
		}
		info, err := s.verify(n.Path)
		if err == nil {
			return info, nil
		}
		if !errors.Is(err, ErrCorrupt) {
			return Info{}, fmt.Errorf("snap: load %s: %w", n.Path, err)
		}
		s.log.Warn("snap: setting aside corrupt snapshot", "file", n.Path, "err", err)
		if err := s.quarantine(n.Path); err != nil {
			return Info{}, err
		}
	}
	return Info{}, ErrNoSnapshot
}

func (s *Store) quarantine(path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fs.Rename(path, path+brokenExt); err != nil {
		return fmt.Errorf("snap: set aside %s: %w", path, err)
	}
	return s.syncDir()
}

func (s *Store) find(index uint64) (string, error) {
	names, err := s.names()
	if err != nil {
		return "", err
	}
	for i := len(names) - 1; i >= 0; i-- {
		if names[i].Index == index {
			return names[i].Path, nil
		}
	}
	return "", fmt.Errorf("%w: index %d", ErrNotFound, index)
}

// Reader streams a snapshot's data. It verifies the data CRC as it goes:
// the Read that reaches the end returns [ErrCorrupt] instead of io.EOF if
// the data was damaged.
type Reader struct {
	// Info describes the snapshot; Info.Size is the data's length.
	Info
	f diskfs.File
	v *verifyingReader
}

// Read reads the snapshot's data.
func (r *Reader) Read(p []byte) (int, error) { return r.v.Read(p) }

// Close closes the file.
func (r *Reader) Close() error { return r.f.Close() }

// Open returns a stream of the data of the snapshot at index, for a state
// machine to restore from. The caller must Close it.
func (s *Store) Open(index uint64) (*Reader, error) {
	path, err := s.find(index)
	if err != nil {
		return nil, err
	}
	f, br, info, err := s.openFile(path)
	if err != nil {
		return nil, fmt.Errorf("snap: open %s: %w", path, err)
	}
	return &Reader{Info: info, f: f, v: &verifyingReader{r: br, left: info.Size}}, nil
}

// Stream returns the snapshot file at index as stored (header, metadata,
// data and CRC) and its length, for a transport to send to a follower, whose
// [Store.Receive] checks and stores it. The caller must Close it.
func (s *Store) Stream(index uint64) (io.ReadCloser, int64, error) {
	path, err := s.find(index)
	if err != nil {
		return nil, 0, err
	}
	f, err := s.fs.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("snap: stream: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("snap: stream: %w", err)
	}
	return fileStream{io.NewSectionReader(f, 0, fi.Size()), f}, fi.Size(), nil
}

// Purge deletes all but the newest keep snapshots (by index, then term) and
// returns how many it deleted. Snapshots set aside as corrupt are left for
// an operator.
func (s *Store) Purge(keep int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names, err := s.names()
	if err != nil {
		return 0, err
	}
	removed := 0
	for i := 0; i < len(names)-max(keep, 0); i++ {
		if err := s.fs.Remove(names[i].Path); err != nil {
			return removed, fmt.Errorf("snap: purge: %w", err)
		}
		removed++
	}
	if removed > 0 {
		if err := s.syncDir(); err != nil {
			return removed, err
		}
	}
	return removed, nil
}

// fileStream reads a whole file and closes it.
type fileStream struct {
	*io.SectionReader
	io.Closer
}
