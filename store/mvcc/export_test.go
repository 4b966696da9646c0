package mvcc

import (
	"encoding/binary"
	"hash/crc32"
)

// WithAgeCheckHook returns opts with f called after each check of the
// compaction by age.
func WithAgeCheckHook(opts Options, f func()) Options {
	opts.ageChecked = f
	return opts
}

// RawEntry and RawKey describe snapshot content for EncodeRawSnapshot.
type RawEntry struct {
	ModRev, CreateRev, Version int64
	Value                      []byte
}

// RawKey is one key of a raw snapshot.
type RawKey struct {
	Key     string
	Entries []RawEntry
}

// EncodeRawSnapshot encodes arbitrary (possibly invalid) content in the
// snapshot format with a correct checksum, to test Restore's validation.
func EncodeRawSnapshot(version uint64, rev, compactRev int64, keys []RawKey) []byte {
	buf := []byte(snapshotMagic)
	buf = binary.AppendUvarint(buf, version)
	buf = binary.AppendUvarint(buf, uint64(rev))
	buf = binary.AppendUvarint(buf, uint64(compactRev))
	buf = binary.AppendUvarint(buf, uint64(len(keys)))
	for _, k := range keys {
		buf = binary.AppendUvarint(buf, uint64(len(k.Key)))
		buf = append(buf, k.Key...)
		buf = binary.AppendUvarint(buf, uint64(len(k.Entries)))
		for _, en := range k.Entries {
			buf = binary.AppendUvarint(buf, uint64(en.ModRev))
			buf = binary.AppendUvarint(buf, uint64(en.CreateRev))
			buf = binary.AppendUvarint(buf, uint64(en.Version))
			buf = binary.AppendUvarint(buf, uint64(len(en.Value)))
			buf = append(buf, en.Value...)
		}
	}
	return binary.LittleEndian.AppendUint32(buf, crc32.Checksum(buf, castagnoli))
}

// WithCompactionHook returns opts with f called after each batch of a
// compaction, with the engine's write lock released.
func WithCompactionHook(opts Options, f func()) Options {
	opts.compactionBatched = f
	return opts
}
