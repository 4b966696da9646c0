package wal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/governor-io/governor/clock"
)

// DefaultSegmentSize is the size segments are preallocated to, and at which
// the WAL moves to a new segment, unless [Options] says otherwise.
const DefaultSegmentSize = 64 << 20

const (
	segmentExt = ".wal"
	tmpExt     = ".tmp"
	lockName   = "LOCK"
)

// Options configures a [WAL]. The zero value gives 64 MiB segments on the
// operating system's file system, no logging, the wall clock and no metrics.
type Options struct {
	// SegmentSize is the size each segment is preallocated to. A Save that
	// would cross it goes to a new segment; a single Save larger than a
	// segment makes that segment larger. Zero means [DefaultSegmentSize].
	SegmentSize int64
	// FS is the file system; nil means [OSFS].
	FS FS
	// Logger receives recovery warnings (a torn tail truncated). Nil
	// discards them.
	Logger *slog.Logger
	// Clock times fsyncs for the metric. Nil means [clock.Real].
	Clock clock.Clock
	// Metrics, if not nil, receives the duration of every fsync
	// (etcd_disk_wal_fsync_duration_seconds with package prommetrics).
	Metrics MetricsProvider
}

func (o Options) withDefaults() Options {
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.FS == nil {
		o.FS = OSFS{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	return o
}

// segment is what the WAL knows about one segment file.
type segment struct {
	seq  uint64
	path string
	// maxIndex is the highest entry index in the segment (0 if none).
	maxIndex uint64
	// markers are the indexes of the snapshot markers in the segment, in
	// the order they were written.
	markers []uint64
}

// WAL is a write-ahead log in a directory: Raft's HardState, entries and
// snapshot markers, appended to segment files and made durable before Save
// returns. Its methods are safe for concurrent use. See the package
// documentation for the file format and the recovery rules.
type WAL struct {
	mu    sync.Mutex
	dir   string
	opts  Options
	fsync HistogramMetric // nil without Options.Metrics
	lock  io.Closer

	segs    []*segment // oldest first; the last one is being written
	f       File       // the last segment
	off     int64      // where the next record goes in f
	hdrEnd  int64      // end of f's segment header record
	lastCRC uint32     // CRC of the last record in f

	meta      []byte
	hs        hardState
	lastIndex uint64 // highest index a next entry may follow
	buf       []byte

	recovered *state // what Open read, handed out by the first ReadAll
	err       error  // sticky: a failed write or fsync
	closed    bool
}

// Exists reports whether dir holds a WAL (at least one segment file) on the
// operating system's file system. [ExistsIn] asks another [FS].
func Exists(dir string) bool { return ExistsIn(OSFS{}, dir) }

// ExistsIn reports whether dir holds a WAL on fsys (nil means [OSFS]): use
// it with the FS given in [Options].
func ExistsIn(fsys FS, dir string) bool {
	if fsys == nil {
		fsys = OSFS{}
	}
	segs, err := listSegments(fsys, dir)
	return err == nil && len(segs) > 0
}

// Create makes a new WAL in dir, creating dir if needed, and writes its first
// segment with metadata (opaque to the WAL; typically the node and cluster
// IDs). It fails with [ErrExist] if dir already holds a WAL. The first
// segment is written to a temporary name, synced and renamed, so a crash
// during Create leaves either no WAL or a complete empty one.
func Create(dir string, metadata []byte, opts Options) (*WAL, error) {
	o := opts.withDefaults()
	if err := o.FS.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("wal: create %s: %w", dir, err)
	}
	if err := o.FS.SyncDir(filepath.Dir(filepath.Clean(dir))); err != nil {
		return nil, fmt.Errorf("wal: create %s: sync parent directory: %w", dir, err)
	}
	w, err := newWAL(dir, o)
	if err != nil {
		return nil, err
	}
	segs, err := listSegments(o.FS, dir)
	if err == nil && len(segs) > 0 {
		err = fmt.Errorf("%w: %s", ErrExist, dir)
	}
	if err == nil {
		w.meta = slices.Clone(metadata)
		err = w.createSegment(1, 0, 0)
	}
	if err != nil {
		w.lock.Close()
		return nil, err
	}
	w.recovered = &state{meta: slices.Clone(metadata)}
	return w, nil
}

// Open opens the WAL in dir for appending. It reads every segment, checks
// every record, and repairs a torn tail: if the last segment ends with a
// record that is cut short or fails its CRC, and no valid record follows it,
// the record is a write that a crash interrupted before Save returned, and it
// is truncated away (with a warning logged). A bad record anywhere else gives
// a [*CorruptError] (errors.Is [ErrCorrupt]) and no WAL. Open fails with
// [ErrNotExist] if dir holds no WAL and [ErrLocked] if another WAL has it
// open. What Open read is returned by the first [WAL.ReadAll].
func Open(dir string, opts Options) (*WAL, error) {
	o := opts.withDefaults()
	w, err := newWAL(dir, o)
	if err != nil {
		return nil, err
	}
	st, err := w.open()
	if err != nil {
		if w.f != nil {
			w.f.Close()
		}
		w.lock.Close()
		return nil, err
	}
	w.recovered = st
	return w, nil
}

func newWAL(dir string, o Options) (*WAL, error) {
	var h HistogramMetric
	if o.Metrics != nil {
		h = o.Metrics.NewFsyncDurationMetric()
	}
	lock, err := o.FS.Lock(filepath.Join(dir, lockName))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNotExist, dir)
		}
		return nil, fmt.Errorf("wal: lock %s: %w", dir, err)
	}
	return &WAL{dir: dir, opts: o, fsync: h, lock: lock}, nil
}

func (w *WAL) open() (*state, error) {
	segs, err := listSegments(w.opts.FS, w.dir)
	if err != nil {
		return nil, fmt.Errorf("wal: open %s: %w", w.dir, err)
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotExist, w.dir)
	}
	if err := w.removeTemps(); err != nil {
		return nil, err
	}
	w.segs = segs
	st, err := w.replay(true)
	if err != nil {
		return nil, err
	}
	w.meta = st.meta
	w.hs = st.hs
	w.lastIndex = st.lastIndex()
	return st, nil
}

// removeTemps deletes segments that a crash left half created.
func (w *WAL) removeTemps() error {
	des, err := w.opts.FS.ReadDir(w.dir)
	if err != nil {
		return fmt.Errorf("wal: open %s: %w", w.dir, err)
	}
	for _, de := range des {
		if strings.HasSuffix(de.Name(), segmentExt+tmpExt) {
			if err := w.opts.FS.Remove(filepath.Join(w.dir, de.Name())); err != nil {
				return fmt.Errorf("wal: remove leftover %s: %w", de.Name(), err)
			}
		}
	}
	return nil
}

func segmentName(seq uint64) string { return fmt.Sprintf("%016x%s", seq, segmentExt) }

// listSegments returns the segments of dir in sequence order. A gap in the
// sequence is corruption: a segment in the middle is missing.
func listSegments(fsys FS, dir string) ([]*segment, error) {
	des, err := fsys.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var segs []*segment
	for _, de := range des {
		name := de.Name()
		if !strings.HasSuffix(name, segmentExt) || len(name) != 16+len(segmentExt) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, segmentExt), 16, 64)
		if err != nil {
			continue
		}
		segs = append(segs, &segment{seq: seq, path: filepath.Join(dir, name)})
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].seq < segs[j].seq })
	for i := 1; i < len(segs); i++ {
		if segs[i].seq != segs[i-1].seq+1 {
			return nil, &CorruptError{File: segs[i].path, Offset: 0,
				Reason: fmt.Sprintf("segment %d is missing (previous is %d)", segs[i-1].seq+1, segs[i-1].seq)}
		}
	}
	return segs, nil
}

// state is the log as replayed from disk.
type state struct {
	meta []byte
	hs   hardState
	snap *SnapshotMarker
	ents []*raftpb.Entry
}

// appendEntry adds e; an entry at index i replaces any entries at i or above,
// as a new leader overwrites a follower's uncommitted tail.
func (s *state) appendEntry(e *raftpb.Entry) {
	idx := e.GetIndex()
	if n := len(s.ents); n > 0 && idx <= s.ents[n-1].GetIndex() {
		i := sort.Search(n, func(i int) bool { return s.ents[i].GetIndex() >= idx })
		clear(s.ents[i:])
		s.ents = s.ents[:i]
	}
	s.ents = append(s.ents, e)
}

// snapshot records m and drops the entries it covers.
func (s *state) snapshot(m SnapshotMarker) {
	s.snap = &m
	s.dropThrough(m.Index)
}

func (s *state) dropThrough(index uint64) {
	i := sort.Search(len(s.ents), func(i int) bool { return s.ents[i].GetIndex() > index })
	if i > 0 {
		s.ents = append([]*raftpb.Entry(nil), s.ents[i:]...)
	}
}

func (s *state) lastIndex() uint64 {
	if n := len(s.ents); n > 0 {
		return s.ents[n-1].GetIndex()
	}
	if s.snap != nil {
		return s.snap.Index
	}
	return 0
}

// check verifies that the entries follow the snapshot (or index 0) without
// a gap.
func (s *state) check(dir string) error {
	var base uint64
	if s.snap != nil {
		base = s.snap.Index
		s.dropThrough(base)
	}
	for i, e := range s.ents {
		if want := base + 1 + uint64(i); e.GetIndex() != want {
			return &CorruptError{File: dir, Offset: -1,
				Reason: fmt.Sprintf("log has a gap: entry %d where %d was expected", e.GetIndex(), want)}
		}
	}
	return nil
}

func corrupt(path string, off int64, format string, args ...any) error {
	return &CorruptError{File: path, Offset: off, Reason: fmt.Sprintf(format, args...)}
}

// replay reads every segment in order and rebuilds the state. With repair
// set (Open) it also truncates a torn tail, opens the last segment for
// writing and records the write position and per-segment indexes.
func (w *WAL) replay(repair bool) (*state, error) {
	st := &state{}
	r := newSegmentReader()
	var prevEnd int64
	var prevCRC uint32
	for i, seg := range w.segs {
		last := i == len(w.segs)-1
		flag := os.O_RDONLY
		if repair && last {
			flag = os.O_RDWR
		}
		f, err := w.opts.FS.OpenFile(seg.path, flag, 0)
		if err != nil {
			return nil, fmt.Errorf("wal: open segment: %w", err)
		}
		keep := false
		var idx segIndex
		end, hdrEnd, lastCRC, err := w.replaySegment(st, seg, r, f, &idx, i > 0, prevEnd, prevCRC, last && repair)
		if err == nil && repair {
			// Only Open's replay sets what ReleaseTo relies on; a later
			// ReadAll that fails half way must not disturb it.
			seg.maxIndex, seg.markers = idx.maxIndex, idx.markers
		}
		if err == nil && repair && last {
			w.f, w.off, w.hdrEnd, w.lastCRC = f, end, hdrEnd, lastCRC
			keep = true
		}
		if !keep {
			f.Close()
		}
		if err != nil {
			return nil, err
		}
		prevEnd, prevCRC = end, lastCRC
	}
	if err := st.check(w.dir); err != nil {
		return nil, err
	}
	return st, nil
}

// replaySegment applies one segment's records to st. It returns where the
// valid records end, where the header record ends and the last valid CRC.
// segIndex is what replaySegment learns for ReleaseTo.
type segIndex struct {
	maxIndex uint64
	markers  []uint64
}

func (w *WAL) replaySegment(st *state, seg *segment, r *segmentReader, f File, idx *segIndex, chained bool, prevEnd int64, prevCRC uint32, repair bool) (end, hdrEnd int64, lastCRC uint32, err error) {
	if err := r.reset(f, seg.path, seg.seq); err != nil {
		return 0, 0, 0, err
	}
	typ, payload, crc, bad, err := r.next()
	if err != nil {
		return 0, 0, 0, err
	}
	if bad == badNone && typ != recSegment {
		bad = "first record is not a segment header"
	}
	if bad != badNone {
		return 0, 0, 0, corrupt(seg.path, 0, "segment header: %s", bad)
	}
	h, why := decodeSegHeader(payload)
	switch {
	case why != "":
		return 0, 0, 0, corrupt(seg.path, 0, "segment header: %s", why)
	case h.seq != seg.seq:
		return 0, 0, 0, corrupt(seg.path, 0, "segment header names sequence %d", h.seq)
	case chained && (h.prevEnd != prevEnd || h.prevCRC != prevCRC):
		return 0, 0, 0, corrupt(seg.path, 0,
			"previous segment's records end at offset %d (CRC %08x) but this segment says %d (CRC %08x)",
			prevEnd, prevCRC, h.prevEnd, h.prevCRC)
	}
	st.meta = h.meta
	if !h.hs.empty() {
		st.hs = h.hs
	}
	hdrEnd, lastCRC = r.off, crc
	size := r.size
	for r.off < size {
		off := r.off
		typ, payload, crc, bad, err = r.next()
		if err != nil {
			return 0, 0, 0, err
		}
		if bad != badNone {
			break
		}
		switch typ {
		case recBatch:
			b, why := decodeBatch(payload)
			if why != "" {
				return 0, 0, 0, corrupt(seg.path, off, "batch: %s", why)
			}
			if b.hasHS {
				st.hs = b.hs
			}
			for _, e := range b.ents {
				st.appendEntry(e)
				idx.maxIndex = max(idx.maxIndex, e.GetIndex())
			}
		case recSnapshot:
			m, why := decodeMarker(payload)
			if why != "" {
				return 0, 0, 0, corrupt(seg.path, off, "snapshot marker: %s", why)
			}
			st.snapshot(m)
			idx.markers = append(idx.markers, m.Index)
		default:
			return 0, 0, 0, corrupt(seg.path, off, "segment header inside a segment")
		}
		lastCRC = crc
	}
	off := r.off
	if off >= size {
		return off, hdrEnd, lastCRC, nil
	}
	if zero, err := r.zeroFrom(off); err != nil || zero {
		return off, hdrEnd, lastCRC, err
	}
	// A bad record with something other than zeros after it.
	if !repair {
		if w.f == nil || seg != w.segs[len(w.segs)-1] {
			return 0, 0, 0, corrupt(seg.path, off, "%s", bad)
		}
		// The segment being written: bytes past the last good record can
		// only be a failed write, which already made the WAL unusable.
		return off, hdrEnd, lastCRC, nil
	}
	p, found, err := r.findRecord(off)
	if err != nil {
		return 0, 0, 0, err
	}
	if found {
		return 0, 0, 0, corrupt(seg.path, off, "%s, and a valid record follows at offset %d", bad, p)
	}
	w.opts.Logger.Warn("wal: truncating torn record at the tail of the log",
		"file", seg.path, "offset", off, "reason", bad, "bytes", size-off)
	if err := f.Truncate(off); err != nil {
		return 0, 0, 0, fmt.Errorf("wal: truncate torn tail of %s: %w", seg.path, err)
	}
	if err := f.Allocate(w.opts.SegmentSize); err != nil {
		return 0, 0, 0, fmt.Errorf("wal: preallocate %s: %w", seg.path, err)
	}
	if err := f.Sync(); err != nil {
		return 0, 0, 0, fmt.Errorf("%w: %s: %w", ErrFsyncFailed, seg.path, err)
	}
	return off, hdrEnd, lastCRC, nil
}

// createSegment writes segment seq under a temporary name, syncs it, renames
// it into place and syncs the directory, then makes it the segment being
// written.
func (w *WAL) createSegment(seq uint64, prevEnd int64, prevCRC uint32) error {
	path := filepath.Join(w.dir, segmentName(seq))
	tmp := path + tmpExt
	fsys := w.opts.FS
	if err := fsys.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: remove %s: %w", ErrWriteFailed, tmp, err)
	}
	f, err := fsys.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("%w: create %s: %w", ErrWriteFailed, tmp, err)
	}
	buf := beginRecord(w.buf[:0])
	buf = encodeSegHeader(buf, segHeader{seq: seq, prevEnd: prevEnd, prevCRC: prevCRC, hs: w.hs, meta: w.meta})
	frame, crc := finishRecord(buf, recSegment, seq, 0)
	w.buf = frame[:0]
	fail := func(err error) error {
		f.Close()
		fsys.Remove(tmp)
		return err
	}
	if err := f.Allocate(w.opts.SegmentSize); err != nil {
		return fail(fmt.Errorf("%w: preallocate %s: %w", ErrWriteFailed, tmp, err))
	}
	if _, err := f.WriteAt(frame, 0); err != nil {
		return fail(fmt.Errorf("%w: write %s: %w", ErrWriteFailed, tmp, err))
	}
	if err := w.sync(f); err != nil {
		return fail(fmt.Errorf("%w: %s: %w", ErrFsyncFailed, tmp, err))
	}
	if err := fsys.Rename(tmp, path); err != nil {
		return fail(fmt.Errorf("%w: rename %s: %w", ErrWriteFailed, tmp, err))
	}
	if err := fsys.SyncDir(w.dir); err != nil {
		f.Close()
		return fmt.Errorf("%w: directory %s: %w", ErrFsyncFailed, w.dir, err)
	}
	if w.f != nil {
		if err := w.f.Close(); err != nil {
			w.opts.Logger.Warn("wal: close segment", "file", w.segs[len(w.segs)-1].path, "err", err)
		}
	}
	w.f, w.off, w.hdrEnd, w.lastCRC = f, int64(len(frame)), int64(len(frame)), crc
	w.segs = append(w.segs, &segment{seq: seq, path: path})
	return nil
}

func (w *WAL) sync(f File) error {
	if w.fsync == nil {
		return f.Sync()
	}
	start := w.opts.Clock.Now()
	err := f.Sync()
	w.fsync.Observe(w.opts.Clock.Since(start).Seconds())
	return err
}

// usable returns the error that stops any operation.
func (w *WAL) usable() error {
	if w.closed {
		return ErrClosed
	}
	return w.err
}

// ReadAll returns what the WAL holds: its metadata, the latest HardState
// (empty, never nil, if none was saved), the latest snapshot marker (nil if
// none), and the entries after that marker's index, in order and without
// gaps. Where the log holds conflicting entries (a later Save rewrote index i
// onwards), the later ones win. The first call after [Open] returns what Open
// read; later calls, and calls after a write, read the segments again.
func (w *WAL) ReadAll() (metadata []byte, hs *raftpb.HardState, snap *SnapshotMarker, ents []*raftpb.Entry, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return nil, nil, nil, nil, err
	}
	st := w.recovered
	w.recovered = nil
	if st == nil {
		if st, err = w.replay(false); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	return st.meta, st.hs.proto(), st.snap, st.ents, nil
}

// Save appends hs (if not nil and not empty) and ents as one record and
// syncs the segment before it returns: when Save returns nil, both are
// durable. Entries must be contiguous and start at most one past the last
// index in the log (a lower start overwrites the tail, as a new leader
// does); otherwise Save returns [ErrOutOfOrder] and writes nothing. Raft's
// Ready can carry a snapshot and the entries after it: call [WAL.SaveSnapshot]
// for the snapshot first.
//
// If the write or the sync fails, Save returns an error matching
// [ErrWriteFailed] or [ErrFsyncFailed], and so does every later call: the WAL
// must be closed and reopened from disk.
func (w *WAL) Save(hs *raftpb.HardState, ents []*raftpb.Entry) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	h := hardStateOf(hs)
	hasHS := !h.empty() && h != w.hs
	if !hasHS && len(ents) == 0 {
		return nil
	}
	if err := w.checkEntries(ents); err != nil {
		return err
	}
	buf := w.buf[:0]
	if need := headerSize + batchSizeHint(ents); cap(buf) < need {
		buf = make([]byte, 0, need)
	}
	buf = encodeBatch(beginRecord(buf), h, hasHS, ents)
	if err := w.append(recBatch, buf); err != nil {
		return err
	}
	if hasHS {
		w.hs = h
	}
	if n := len(ents); n > 0 {
		last := ents[n-1].GetIndex()
		w.lastIndex = last
		seg := w.segs[len(w.segs)-1]
		seg.maxIndex = max(seg.maxIndex, last)
	}
	return nil
}

func (w *WAL) checkEntries(ents []*raftpb.Entry) error {
	for i, e := range ents {
		if e == nil {
			return fmt.Errorf("%w: entry %d is nil", ErrOutOfOrder, i)
		}
		idx := e.GetIndex()
		switch {
		case i == 0 && (idx == 0 || idx > w.lastIndex+1):
			return fmt.Errorf("%w: first entry %d does not follow the last index %d", ErrOutOfOrder, idx, w.lastIndex)
		case i > 0 && idx != ents[i-1].GetIndex()+1:
			return fmt.Errorf("%w: entry %d follows entry %d", ErrOutOfOrder, idx, ents[i-1].GetIndex())
		}
	}
	return nil
}

// SaveSnapshot appends a snapshot marker and syncs it. Save the snapshot
// itself (see package snap) before the marker, and the marker before the
// entries that follow the snapshot. Errors are sticky as for [WAL.Save].
func (w *WAL) SaveSnapshot(m SnapshotMarker) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	buf := encodeMarker(beginRecord(w.buf[:0]), m)
	if err := w.append(recSnapshot, buf); err != nil {
		return err
	}
	w.lastIndex = max(w.lastIndex, m.Index)
	seg := w.segs[len(w.segs)-1]
	seg.markers = append(seg.markers, m.Index)
	return nil
}

// append writes the record in buf (a header placeholder and its payload),
// moving to a new segment first if it would cross the segment size, and
// syncs it.
func (w *WAL) append(typ recordType, buf []byte) error {
	// What Open read is stale once anything is appended.
	w.recovered = nil
	n := len(buf) - headerSize
	if n > MaxRecordSize {
		w.buf = buf[:0]
		return fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, n, MaxRecordSize)
	}
	if w.off > w.hdrEnd && w.off+frameSize(n) > w.opts.SegmentSize {
		// createSegment reuses w.buf; keep the record in its own slice.
		w.buf = nil
		seq := w.segs[len(w.segs)-1].seq + 1
		if err := w.createSegment(seq, w.off, w.lastCRC); err != nil {
			w.err = err
			return err
		}
	}
	seq := w.segs[len(w.segs)-1].seq
	frame, crc := finishRecord(buf, typ, seq, w.off)
	if cap(frame) >= cap(w.buf) {
		w.buf = frame[:0]
	}
	path := w.segs[len(w.segs)-1].path
	if _, err := w.f.WriteAt(frame, w.off); err != nil {
		w.err = fmt.Errorf("%w: write %s: %w", ErrWriteFailed, path, err)
		return w.err
	}
	if err := w.sync(w.f); err != nil {
		w.err = fmt.Errorf("%w: %s: %w", ErrFsyncFailed, path, err)
		return w.err
	}
	w.off += int64(len(frame))
	w.lastCRC = crc
	return nil
}

// ReleaseTo deletes the oldest segments that are no longer needed once a
// snapshot at index has been saved: those before the segment that holds the
// latest snapshot marker at or below index, as long as all their entries are
// at or below that marker's index. The segment being written is never
// deleted. Releasing is safe to interrupt: segments go oldest first, and the
// directory is synced afterwards.
func (w *WAL) ReleaseTo(index uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	k, mark := -1, uint64(0)
	for i := len(w.segs) - 1; i >= 0 && k < 0; i-- {
		for _, m := range w.segs[i].markers {
			if m <= index {
				k, mark = i, m
			}
		}
	}
	n := 0
	for n < k && w.segs[n].maxIndex <= mark {
		n++
	}
	if n == 0 {
		return nil
	}
	for i := 0; i < n; i++ {
		if err := w.opts.FS.Remove(w.segs[i].path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			w.segs = w.segs[i:]
			return fmt.Errorf("wal: release %s: %w", w.segs[0].path, err)
		}
	}
	w.segs = append([]*segment(nil), w.segs[n:]...)
	if err := w.opts.FS.SyncDir(w.dir); err != nil {
		return fmt.Errorf("wal: release: sync directory %s: %w", w.dir, err)
	}
	return nil
}

// Close closes the segment and releases the directory lock. Everything
// Save acknowledged is already durable. Close is idempotent.
func (w *WAL) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	w.recovered = nil
	var errs []error
	if w.f != nil {
		errs = append(errs, w.f.Close())
	}
	errs = append(errs, w.lock.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("wal: close: %w", err)
	}
	return nil
}
