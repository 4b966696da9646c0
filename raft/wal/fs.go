package wal

import "github.com/governor-io/governor/raft/diskfs"

// FS is the file system a [WAL] works through: [diskfs.FS], which the
// snapshot store shares. [OSFS] is the real one. Tests wrap it to inject
// faults: a Sync that fails, a write that stops half way, a crash that
// loses whatever was not synced.
type FS = diskfs.FS

// File is an open segment file: a [diskfs.File].
type File = diskfs.File

// OSFS is the operating system's file system: [diskfs.OSFS]. Its zero value
// is ready to use.
type OSFS = diskfs.OSFS
