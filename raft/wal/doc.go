// Package wal is the write-ahead log of Governor's Raft KV: it makes Raft's
// HardState, log entries and snapshot markers durable before the node sends
// a message or applies an entry, and gives them back after a restart.
//
// # Usage
//
// A node creates the log once and opens it on every later start:
//
//	if !wal.Exists(dir) {
//		w, err = wal.Create(dir, metadata, opts)
//	} else {
//		w, err = wal.Open(dir, opts)
//	}
//	meta, hs, snap, ents, err := w.ReadAll() // restore raft.MemoryStorage
//
// Then, for each raft Ready, before sending its messages:
//
//	if !raft.IsEmptySnap(rd.Snapshot) {
//		// save the snapshot file first (package snap), then the marker
//		w.SaveSnapshot(wal.SnapshotMarker{Index: ..., Term: ..., ConfState: ...})
//	}
//	w.Save(rd.HardState, rd.Entries) // durable when it returns
//
// and after a snapshot has been saved at index i, w.ReleaseTo(i) deletes the
// segments that only hold entries the snapshot covers.
//
// A failed write or fsync makes the WAL unusable: that call and every later
// one return an error matching [ErrFsyncFailed] or [ErrWriteFailed]. After a
// failed fsync the kernel may have dropped the dirty pages, so the node must
// stop, and restart from what is on disk, rather than go on with data that
// was never made durable.
//
// # Files
//
// The directory holds a LOCK file (flock'd while a WAL has it open) and
// segments named by a 16-digit hexadecimal sequence number, 0000000000000001.wal,
// 0000000000000002.wal, and so on. A segment is preallocated to
// [Options].SegmentSize (64 MiB by default). When a Save would not fit, the
// WAL creates the next segment, written under a temporary name, synced,
// renamed, with the directory synced, and the Save goes there.
//
// A segment is a sequence of records, each 8-byte aligned:
//
//	length n (4 bytes) | ^n (4) | type (1) | zero (3) | CRC-32C (4) | payload (n) | zero padding
//
// The CRC (Castagnoli) covers the segment's sequence number and the record's
// offset as well as the header and payload, so a record is valid only where
// it was written. There are three record types:
//
//   - segment header, first in every segment: the sequence number, the
//     offset and CRC at which the previous segment's records end (so a lost
//     tail of an earlier segment is detected), the metadata given to Create,
//     and the HardState at the time. Each segment thus stands on its own
//     when older ones are released.
//   - batch: one Save, an optional HardState and any number of entries. One
//     record per Save makes each Save atomic on disk.
//   - snapshot marker: index, term and membership of a saved snapshot.
//
// Payloads use uvarints; see the comments in payload.go.
//
// # Recovery
//
// [Open] checks every record. Since each Save is one record, synced before
// the next is written, a crash can damage at most the last record of the last
// segment, and nothing valid can follow it. So:
//
//   - If the last segment ends with a record that is cut short, has a bad
//     header or fails its CRC, and no valid record follows it, it is a torn
//     write that was never acknowledged: Open truncates it and logs a
//     warning.
//   - A bad record followed by a valid one, a bad record in any segment but
//     the last, a segment whose predecessor does not end where it says, or a
//     missing segment is corruption of acknowledged data: Open returns a
//     [*CorruptError] naming the file and offset, and errors.Is(err,
//     [ErrCorrupt]) holds.
//
// Open streams each segment through buffers of fixed size (64 KiB blocks):
// besides what it returns, it holds one record in memory at a time, so its
// memory does not grow with the segment size (see BenchmarkOpen).
//
// [WAL.ReadAll] replays the records in order: a later entry at index i
// replaces the entries at i and above (a new leader overwrote an uncommitted
// tail), and the latest snapshot marker hides the entries at or below its
// index.
//
// # Metrics
//
// With [Options].Metrics set, the WAL records the duration of every fsync;
// [github.com/governor-io/governor/raft/wal/prommetrics] reports it to
// Prometheus as etcd_disk_wal_fsync_duration_seconds (etcd's name and
// buckets).
package wal
