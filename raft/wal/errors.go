package wal

import (
	"errors"
	"fmt"

	"github.com/governor-io/governor/raft/diskfs"
)

// Sentinel errors. Operations wrap them with context, so test with
// errors.Is; [CorruptError] carries the file and offset of a corrupt record
// and matches [ErrCorrupt].
var (
	// ErrCorrupt: a record that is not at the tail of the log fails its
	// checks, so acknowledged data may have been damaged. Open refuses such a
	// log rather than silently dropping what follows the bad record.
	ErrCorrupt = errors.New("wal: corrupt record")
	// ErrFsyncFailed: making a write durable failed. The WAL is unusable from
	// then on: every later call returns this error, because the kernel may
	// have dropped the dirty pages and nothing written since the last good
	// sync can be trusted. The owner must stop and recover from disk.
	ErrFsyncFailed = errors.New("wal: fsync failed, the log is unusable")
	// ErrWriteFailed: writing to a segment, or creating a new one, failed.
	// Like ErrFsyncFailed it is sticky.
	ErrWriteFailed = errors.New("wal: write failed, the log is unusable")
	// ErrClosed: the WAL has been closed.
	ErrClosed = errors.New("wal: closed")
	// ErrExist: Create found a WAL already in the directory.
	ErrExist = errors.New("wal: already exists")
	// ErrNotExist: Open found no WAL in the directory.
	ErrNotExist = errors.New("wal: does not exist")
	// ErrLocked: another WAL (in this or another process) holds the
	// directory's lock file. It is [diskfs.ErrLocked], which the lock of
	// the WAL's [FS] returns.
	ErrLocked = diskfs.ErrLocked
	// ErrOutOfOrder: Save was given entries that would leave a gap in the
	// log: not contiguous among themselves, or starting after the last index
	// plus one. Nothing was written.
	ErrOutOfOrder = errors.New("wal: entries out of order")
	// ErrTooLarge: a single Save or snapshot marker encodes to more than
	// [MaxRecordSize] bytes. Nothing was written.
	ErrTooLarge = errors.New("wal: record too large")
)

// CorruptError describes a corrupt record: the segment file, the byte offset
// of the record in it, and what was wrong. It matches [ErrCorrupt] with
// errors.Is.
type CorruptError struct {
	// File is the path of the segment.
	File string
	// Offset is the byte offset of the bad record in File.
	Offset int64
	// Reason says which check failed.
	Reason string
}

// Error implements error.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("wal: corrupt record in %s at offset %d: %s", e.File, e.Offset, e.Reason)
}

// Is reports whether target is [ErrCorrupt].
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }
