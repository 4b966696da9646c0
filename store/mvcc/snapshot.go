package mvcc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/google/btree"

	"github.com/governor-io/governor/store/kv"
)

// ErrBadSnapshot reports a snapshot that [Engine.Restore] cannot load: not a
// snapshot, an unknown format version, a checksum mismatch, or content that
// breaks the engine's invariants.
var ErrBadSnapshot = errors.New("mvcc: bad snapshot")

// Snapshot format, version 1. Integers are unsigned varints.
//
//	magic "GVRMVCC\n", version
//	revision, compact revision, number of keys
//	per key, in ascending key order:
//	    key length, key, number of entries
//	    per entry, oldest first: mod revision, create revision, version,
//	        value length, value
//	CRC-32C (Castagnoli) of everything above, 4 bytes little endian
const (
	snapshotMagic   = "GVRMVCC\n"
	snapshotVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Snapshot writes the engine's whole state, including the retained
// history, to w. It takes a [View] and writes that, so writers wait only
// while the view is taken, not while w is written.
func (e *Engine) Snapshot(w io.Writer) error {
	v, err := e.View()
	if err != nil {
		return err
	}
	_, err = v.WriteTo(w)
	return err
}

// View is a point-in-time copy of an [Engine]'s state and retained
// history, taken by [Engine.View]. It stays as it was taken while the
// engine moves on, and is safe for concurrent use.
type View struct {
	rev, compactRev int64
	keys            []viewKey
}

// viewKey is one key of a View. Its entries share the engine's array: an
// engine only appends past the length a view holds, and a compaction
// moves the kept entries to a new array (see keyIndex.compact), so the
// entries a view holds never change.
type viewKey struct {
	key     string
	entries []entry
}

// View returns a point-in-time view of the engine's state, for writing
// a snapshot without holding up writers: taking it costs one pass over the
// keys under the read lock and copies no values. A compaction under way
// is finished first, so that the view holds no history below its
// compaction revision (Restore would reject a snapshot that did).
func (e *Engine) View() (*View, error) {
	e.rlockCompacted()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, kv.ErrClosed
	}
	v := &View{rev: e.rev, compactRev: e.compactRev, keys: make([]viewKey, 0, e.tree.Len())}
	e.tree.Ascend(func(ki *keyIndex) bool {
		v.keys = append(v.keys, viewKey{key: ki.key, entries: ki.entries[:len(ki.entries):len(ki.entries)]})
		return true
	})
	return v, nil
}

// Revision returns the revision the view was taken at.
func (v *View) Revision() int64 { return v.rev }

// WriteTo writes the view as a snapshot that [Engine.Restore] loads, and
// returns the number of bytes written.
func (v *View) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(cw, crc), 64<<10)
	buf := make([]byte, 0, 64)
	buf = append(buf, snapshotMagic...)
	buf = binary.AppendUvarint(buf, snapshotVersion)
	buf = binary.AppendUvarint(buf, uint64(v.rev))
	buf = binary.AppendUvarint(buf, uint64(v.compactRev))
	buf = binary.AppendUvarint(buf, uint64(len(v.keys)))
	_, err := bw.Write(buf)
	for k := 0; err == nil && k < len(v.keys); k++ {
		vk := &v.keys[k]
		buf = binary.AppendUvarint(buf[:0], uint64(len(vk.key)))
		buf = append(buf, vk.key...)
		buf = binary.AppendUvarint(buf, uint64(len(vk.entries)))
		if _, err = bw.Write(buf); err != nil {
			break
		}
		for i := range vk.entries {
			en := &vk.entries[i]
			buf = binary.AppendUvarint(buf[:0], uint64(en.modRev))
			buf = binary.AppendUvarint(buf, uint64(en.createRev))
			buf = binary.AppendUvarint(buf, uint64(en.version))
			buf = binary.AppendUvarint(buf, uint64(len(en.value)))
			if _, err = bw.Write(buf); err != nil {
				break
			}
			if _, err = bw.Write(en.value); err != nil {
				break
			}
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		_, err = cw.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32()))
	}
	if err != nil {
		return cw.n, fmt.Errorf("mvcc: snapshot: %w", err)
	}
	return cw.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Restore replaces the engine's state with a snapshot written by
// [Engine.Snapshot]. Nothing changes unless the whole snapshot is valid;
// otherwise the error wraps [ErrBadSnapshot] (or the reader's error).
//
// Open watches stay open: Restore is meant to move an engine forward along
// the same history (as a Raft follower does), so a watcher continues from
// its next revision, replayed from the restored history; if the snapshot
// has compacted that revision away, the watch ends with a
// [kv.CompactedError].
func (e *Engine) Restore(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("mvcc: restore: %w", err)
	}
	st, err := decodeSnapshot(data)
	if err != nil {
		return err
	}
	var size, live int64
	st.tree.Ascend(func(ki *keyIndex) bool {
		size += ki.size()
		if ki.latest() != nil {
			live++
		}
		return true
	})
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return kv.ErrClosed
	}
	e.tree, e.rev, e.compactRev = st.tree, st.rev, st.compactRev
	e.size, e.liveKeys = size, live
	e.hub.reset(e.rev)
	return nil
}

type snapshotState struct {
	tree            *btree.BTreeG[*keyIndex]
	rev, compactRev int64
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrBadSnapshot, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("truncated or overlong %s", what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// int reads a non-negative int64.
func (d *decoder) int(what string) int64 {
	v := d.uvarint(what)
	if v > 1<<62 {
		d.fail("%s %d out of range", what, v)
		return 0
	}
	return int64(v)
}

func (d *decoder) bytes(what string) []byte {
	n := d.uvarint(what + " length")
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail("%s length %d exceeds the %d bytes left", what, n, len(d.b))
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

func decodeSnapshot(data []byte) (*snapshotState, error) {
	if len(data) < len(snapshotMagic)+4 || !bytes.HasPrefix(data, []byte(snapshotMagic)) {
		return nil, fmt.Errorf("%w: not an mvcc snapshot", ErrBadSnapshot)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrBadSnapshot)
	}
	d := &decoder{b: body[len(snapshotMagic):]}
	if v := d.uvarint("version"); d.err == nil && v != snapshotVersion {
		return nil, fmt.Errorf("%w: unknown format version %d", ErrBadSnapshot, v)
	}
	st := &snapshotState{tree: newTree()}
	st.rev = d.int("revision")
	st.compactRev = d.int("compact revision")
	nkeys := d.uvarint("key count")
	if d.err == nil && st.compactRev > st.rev {
		d.fail("compact revision %d above revision %d", st.compactRev, st.rev)
	}
	var last string
	for k := uint64(0); d.err == nil && k < nkeys; k++ {
		key := d.bytes("key")
		n := d.uvarint("entry count")
		if d.err != nil {
			break
		}
		if len(key) == 0 || (k > 0 && string(key) <= last) {
			d.fail("key %q empty or out of order", key)
			break
		}
		// Each entry takes at least 4 bytes, which bounds the allocation.
		if n == 0 || n > uint64(len(d.b))/4 {
			d.fail("key %q has a bad entry count %d", key, n)
			break
		}
		ki := &keyIndex{key: string(key), entries: make([]entry, 0, n)}
		for j := uint64(0); d.err == nil && j < n; j++ {
			en := entry{modRev: d.int("mod revision"), createRev: d.int("create revision"), version: d.int("version")}
			if v := d.bytes("value"); len(v) > 0 {
				en.value = bytes.Clone(v)
			}
			if d.err == nil {
				if err := checkEntry(ki, &en, st); err != nil {
					d.fail("key %q: %v", key, err)
				}
			}
			ki.entries = append(ki.entries, en)
		}
		last = ki.key
		st.tree.ReplaceOrInsert(ki)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	return st, nil
}

// checkEntry checks that en may follow the entries already in ki: the
// invariants that reads and watches rely on.
func checkEntry(ki *keyIndex, en *entry, st *snapshotState) error {
	if en.modRev <= 0 || en.modRev > st.rev {
		return fmt.Errorf("mod revision %d outside 1..%d", en.modRev, st.rev)
	}
	n := len(ki.entries)
	if n == 0 {
		// The oldest entry is a put; only it may be at or below the
		// compaction revision.
		if en.tombstone() || en.createRev <= 0 || en.createRev > en.modRev || (en.version == 1) != (en.createRev == en.modRev) {
			return fmt.Errorf("bad first entry at revision %d", en.modRev)
		}
		return nil
	}
	prev := &ki.entries[n-1]
	if en.modRev <= prev.modRev || en.modRev <= st.compactRev {
		return fmt.Errorf("revision %d out of order", en.modRev)
	}
	switch {
	case en.tombstone():
		if prev.tombstone() || en.createRev != 0 || len(en.value) != 0 {
			return fmt.Errorf("bad tombstone at revision %d", en.modRev)
		}
	case prev.tombstone():
		if en.version != 1 || en.createRev != en.modRev {
			return fmt.Errorf("bad create at revision %d", en.modRev)
		}
	default:
		if en.version != prev.version+1 || en.createRev != prev.createRev {
			return fmt.Errorf("bad version at revision %d", en.modRev)
		}
	}
	return nil
}
