// Package snap stores the snapshots of Governor's Raft KV: the state
// machine's data at a log index, with raft's snapshot metadata (index, term,
// membership), in one CRC-checked file per snapshot.
//
// Data is streamed in and out, never held whole in memory: [Store.SaveFunc]
// lets the state machine serialise itself straight into the file,
// [Store.Open] streams the data back for a restore, and [Store.Stream] hands
// the stored file to the transport, whose peer passes it to [Store.Receive]
// on the follower; the CRCs are checked end to end on the way.
//
// # Usage
//
// On the leader, every N applied entries:
//
//	info, err := store.SaveFunc(md, engine.WriteSnapshot) // durable on return
//	wal.SaveSnapshot(wal.SnapshotMarker{Index: info.Index, Term: info.Term, ConfState: info.ConfState})
//	wal.ReleaseTo(info.Index)
//	store.Purge(keep)
//
// On restart:
//
//	info, err := store.LoadNewest(hasWALMarker) // verified; corrupt ones set aside
//	r, err := store.Open(info.Index)            // restore the engine from r
//
// Order matters: the snapshot file is durable before the WAL marker that
// points at it is written, so a marker never refers to a missing snapshot.
//
// # Files
//
// Snapshots are named <index>-<term>.snap with 16 hexadecimal digits each.
// A file is a 24-byte header (magic, data length, metadata length, CRC-32C
// of the header and metadata), the metadata (a protobuf
// raftpb.SnapshotMetadata), the data, and the CRC-32C of the data. It is
// written under a temporary name, synced, renamed into place and the
// directory synced, so a crash leaves the whole snapshot or nothing; [New]
// removes the temporary files a crash left. [Store.Load] verifies every byte
// and renames a corrupt snapshot to *.snap.broken, with a warning logged,
// before it falls back to an older one.
package snap
