package mvcc

import (
	"sort"

	"github.com/governor-io/governor/store/kv"
)

// entry is one revision of one key. The entries of a key live in one slice,
// so a revision costs no heap object of its own beyond its value. A
// tombstone (the key was deleted at modRev) has version zero and no value.
//
// The entries of a key form generations, as in etcd: a put after a
// tombstone (or the first put) starts a generation with version 1 and
// createRev == modRev; later puts of the generation share its createRev and
// count up the version; a tombstone ends it.
type entry struct {
	value     []byte
	modRev    int64
	createRev int64
	version   int64
}

func (e *entry) tombstone() bool { return e.version == 0 }

// keyIndex holds every retained revision of one key, oldest first.
type keyIndex struct {
	key     string
	entries []entry
}

func lessKeyIndex(a, b *keyIndex) bool { return a.key < b.key }

// at returns the entry that was current at rev, or nil when the key did
// not exist then (never written yet, or deleted).
func (ki *keyIndex) at(rev int64) *entry {
	n := len(ki.entries)
	if n == 0 {
		return nil
	}
	if last := &ki.entries[n-1]; last.modRev <= rev {
		if last.tombstone() {
			return nil
		}
		return last
	}
	// First entry with modRev > rev; the one before it is current at rev.
	i := sort.Search(n, func(i int) bool { return ki.entries[i].modRev > rev })
	if i == 0 {
		return nil
	}
	e := &ki.entries[i-1]
	if e.tombstone() {
		return nil
	}
	return e
}

// latest returns the live entry at the newest revision, or nil.
func (ki *keyIndex) latest() *entry {
	n := len(ki.entries)
	if n == 0 || ki.entries[n-1].tombstone() {
		return nil
	}
	return &ki.entries[n-1]
}

// put appends a put at rev with value.
func (ki *keyIndex) put(rev int64, value []byte) {
	e := entry{value: value, modRev: rev, createRev: rev, version: 1}
	if prev := ki.latest(); prev != nil {
		e.createRev = prev.createRev
		e.version = prev.version + 1
	}
	ki.entries = append(ki.entries, e)
}

// del appends a tombstone at rev. The key must be live.
func (ki *keyIndex) del(rev int64) {
	ki.entries = append(ki.entries, entry{modRev: rev})
}

// compact drops the entries that no read at or above rev can see: every
// entry older than the one current at rev, and that one too when it is a
// tombstone. It reports whether the key has no entries left, and the
// bytes that the dropped entries held (as counted by keyIndex.size).
func (ki *keyIndex) compact(rev int64) (empty bool, freed int64) {
	n := len(ki.entries)
	// keep is the index of the first entry to keep.
	i := sort.Search(n, func(i int) bool { return ki.entries[i].modRev > rev })
	keep := i
	if i > 0 && !ki.entries[i-1].tombstone() {
		keep = i - 1
	}
	if keep == 0 {
		return n == 0, 0
	}
	for i := range keep {
		freed += entryOverhead + int64(len(ki.entries[i].value))
	}
	if keep == n {
		ki.entries = nil
		return true, freed
	}
	// The kept entries move to a new array, leaving the old one as it was:
	// a View may still be reading it (and the dropped values go with it).
	ki.entries = append([]entry(nil), ki.entries[keep:]...)
	return false, freed
}

// keyValue returns the public form of e for ki, without the value when
// keysOnly is set. The value is shared, never copied.
func (ki *keyIndex) keyValue(e *entry, keysOnly bool) kv.KeyValue {
	out := kv.KeyValue{Key: ki.key, CreateRevision: e.createRev, ModRevision: e.modRev, Version: e.version}
	if !keysOnly {
		out.Value = e.value
	}
	return out
}
