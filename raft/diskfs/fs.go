// Package diskfs is the file system that Governor's Raft storage (the WAL,
// package [github.com/governor-io/governor/raft/wal], and the snapshot
// store, package [github.com/governor-io/governor/raft/snap]) writes
// through: [FS] and [File] name the few calls that durability depends on
// (a data sync, a directory sync, an exclusive lock), and [OSFS] makes them
// on the operating system's file system. Tests put a fake in its place to
// inject faults; package waltest has an in-memory one that models what a
// power loss keeps.
package diskfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// ErrLocked is returned by [FS.Lock] when another holder, in this process or
// another, has the lock.
var ErrLocked = errors.New("diskfs: locked by another holder")

// FS is the file system the WAL and the snapshot store work through. [OSFS]
// is the real one. Tests wrap it to inject faults: a Sync that fails, a
// write that stops half way, a crash that loses whatever was not synced.
type FS interface {
	// OpenFile opens a file as os.OpenFile does.
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	// ReadDir lists a directory as os.ReadDir does.
	ReadDir(name string) ([]fs.DirEntry, error)
	// Remove removes a file as os.Remove does.
	Remove(name string) error
	// Rename renames a file as os.Rename does.
	Rename(oldpath, newpath string) error
	// MkdirAll creates a directory and its parents as os.MkdirAll does.
	MkdirAll(path string, perm fs.FileMode) error
	// SyncDir makes the directory's entries (creations, renames, removals)
	// durable.
	SyncDir(path string) error
	// Lock takes an exclusive lock on the file at path, creating it if
	// needed, and fails with an error matching [ErrLocked] if someone else
	// holds it. Closing the returned Closer releases the lock.
	Lock(path string) (io.Closer, error)
}

// File is an open file.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	// Sync makes the data written so far durable (fdatasync on Linux).
	Sync() error
	// Truncate changes the size of the file.
	Truncate(size int64) error
	// Allocate reserves space so that the file is at least size bytes long;
	// the new bytes read as zeros.
	Allocate(size int64) error
	// Stat returns the file's FileInfo.
	Stat() (fs.FileInfo, error)
}

// OSFS is the operating system's file system. Its zero value is ready to use.
type OSFS struct{}

var _ FS = OSFS{}

// OpenFile opens the named file with os.OpenFile.
func (OSFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

// ReadDir calls os.ReadDir.
func (OSFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }

// Remove calls os.Remove.
func (OSFS) Remove(name string) error { return os.Remove(name) }

// Rename calls os.Rename.
func (OSFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// MkdirAll calls os.MkdirAll.
func (OSFS) MkdirAll(path string, perm fs.FileMode) error { return os.MkdirAll(path, perm) }

// SyncDir opens the directory and fsyncs it.
func (OSFS) SyncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	return errors.Join(serr, cerr)
}

// Lock takes an exclusive, non-blocking advisory lock (flock on Unix) on the
// file at path.
func (OSFS) Lock(path string) (io.Closer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

type osFile struct{ *os.File }

func (f osFile) Sync() error               { return datasync(f.File) }
func (f osFile) Allocate(size int64) error { return allocate(f.File, size) }
