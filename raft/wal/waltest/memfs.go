// Package waltest provides an in-memory [wal.FS] for tests of code that
// persists through package wal: it loses unsynced writes on a simulated
// crash and fails chosen operations on demand.
package waltest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/governor-io/governor/raft/wal"
)

// Op names a file system operation, for [MemFS.SetFault].
type Op string

// The operations a fault can be injected into.
const (
	OpOpen     Op = "open"
	OpWrite    Op = "write"
	OpSync     Op = "sync"
	OpSyncDir  Op = "syncdir"
	OpRename   Op = "rename"
	OpRemove   Op = "remove"
	OpTruncate Op = "truncate"
	OpAllocate Op = "allocate"
)

// ErrInjected is the error a fault returns unless it returns its own.
var ErrInjected = errors.New("waltest: injected fault")

// ErrCrashed is the error of every call on a file opened before
// [MemFS.Crash].
var ErrCrashed = errors.New("waltest: file opened before a crash")

// MemFS is an in-memory [wal.FS] that models what survives a power loss: a
// file's data is durable up to its last Sync, and a directory's entries
// (creations, renames, removals) up to its last SyncDir. [MemFS.Crash]
// throws the rest away. It is safe for concurrent use. The zero value is
// not usable; call [NewMemFS].
type MemFS struct {
	mu      sync.Mutex
	names   map[string]*inode // what a reader sees now
	durable map[string]*inode // what would survive a crash
	dirs    map[string]bool
	locks   map[string]*memLock
	fault   func(op Op, path string) error
	// crashes counts crashes; a file opened before the last one is dead.
	crashes int
}

// inode is a file. Its logical size can exceed the bytes held: the rest
// (preallocated space) reads as zeros, so large segments cost nothing.
type inode struct {
	data       []byte // current contents, up to the last written byte
	size       int64  // current size, >= len(data)
	synced     []byte // data as of the last Sync
	syncedSize int64
	dirtyFrom  int64 // lowest offset changed since the last Sync
}

func (n *inode) markDirty(off int64) { n.dirtyFrom = min(n.dirtyFrom, off) }

var _ wal.FS = (*MemFS)(nil)

// NewMemFS returns an empty file system whose root directory exists.
func NewMemFS() *MemFS {
	return &MemFS{
		names:   map[string]*inode{},
		durable: map[string]*inode{},
		dirs:    map[string]bool{"/": true, ".": true},
		locks:   map[string]*memLock{},
	}
}

// SetFault installs f, called before every operation with its name and
// path; if it returns an error, the operation fails with it and changes
// nothing. A nil f removes the fault.
func (m *MemFS) SetFault(f func(op Op, path string) error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fault = f
}

// Crash simulates a power loss, or the death of the one process that uses
// the file system: every file reverts to what was last synced, every
// directory to its last synced entries, and every lock is released. Files
// opened before the crash are dead: every call on them fails with
// [ErrCrashed], so a process that goes on running after its crash can
// neither read nor change what survived.
func (m *MemFS) Crash() { m.crash(nil) }

// CrashTorn is [MemFS.Crash] where the disk wrote part of what was not
// synced, as a power loss in the middle of writeback does: a file whose
// unsynced change is an append past its synced data keeps a prefix of
// that append, of a length that r chooses (possibly none, possibly all),
// so it may end in a torn record. Other unsynced changes are lost.
func (m *MemFS) CrashTorn(r *rand.Rand) { m.crash(r) }

func (m *MemFS) crash(r *rand.Rand) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.crashes++
	// Visit the files in a fixed order so that r's choices depend on
	// nothing but its seed.
	paths := make([]string, 0, len(m.durable))
	for p := range m.durable {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	m.names = map[string]*inode{}
	for _, p := range paths {
		n := m.durable[p]
		data, size := slices.Clone(n.synced), n.syncedSize
		if r != nil && n.dirtyFrom >= int64(len(n.synced)) && len(n.data) > len(n.synced) {
			keep := r.IntN(len(n.data) - len(n.synced) + 1)
			data = append(data, n.data[len(n.synced):len(n.synced)+keep]...)
			size = max(size, int64(len(data)))
		}
		n.data, n.size = data, size
		n.synced, n.syncedSize = slices.Clone(data), size
		n.dirtyFrom = int64(len(n.data))
		m.names[p] = n
	}
	m.locks = map[string]*memLock{}
}

// ReadFile returns a copy of the file's current contents.
func (m *MemFS) ReadFile(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.names[filepath.Clean(name)]
	if !ok {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return n.read(), nil
}

func (n *inode) read() []byte {
	out := make([]byte, n.size)
	copy(out, n.data)
	return out
}

// WriteFile replaces the file's contents, durably, creating it if needed.
// Tests use it to plant damaged files.
func (m *MemFS) WriteFile(name string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := filepath.Clean(name)
	size := int64(len(data))
	n := &inode{data: slices.Clone(data), synced: slices.Clone(data), size: size, syncedSize: size, dirtyFrom: size}
	m.names[p] = n
	m.durable[p] = n
}

func (m *MemFS) check(op Op, path string) error {
	if m.fault == nil {
		return nil
	}
	if err := m.fault(op, path); err != nil {
		return &fs.PathError{Op: string(op), Path: path, Err: err}
	}
	return nil
}

// OpenFile opens or creates a file. O_CREATE, O_EXCL and O_TRUNC are honoured.
func (m *MemFS) OpenFile(name string, flag int, perm fs.FileMode) (wal.File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := filepath.Clean(name)
	if err := m.check(OpOpen, p); err != nil {
		return nil, err
	}
	if !m.dirs[filepath.Dir(p)] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	n, ok := m.names[p]
	switch {
	case ok && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrExist}
	case !ok && flag&os.O_CREATE == 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	case !ok:
		n = &inode{}
		m.names[p] = n
	}
	if flag&os.O_TRUNC != 0 {
		n.data, n.size = nil, 0
		n.markDirty(0)
	}
	return &memFile{fs: m, n: n, path: p, writable: flag&(os.O_WRONLY|os.O_RDWR) != 0, crashes: m.crashes}, nil
}

// ReadDir lists the files and directories directly in name, sorted.
func (m *MemFS) ReadDir(name string) ([]fs.DirEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := filepath.Clean(name)
	if !m.dirs[d] {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	var out []fs.DirEntry
	for p, n := range m.names {
		if filepath.Dir(p) == d {
			out = append(out, fileInfo{name: filepath.Base(p), size: n.size})
		}
	}
	for p := range m.dirs {
		if p != d && filepath.Dir(p) == d {
			out = append(out, fileInfo{name: filepath.Base(p), dir: true})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

// Remove removes a file. The removal is durable after SyncDir.
func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := filepath.Clean(name)
	if err := m.check(OpRemove, p); err != nil {
		return err
	}
	if _, ok := m.names[p]; !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(m.names, p)
	return nil
}

// Rename moves a file, replacing any file at newpath. The rename is durable
// after SyncDir.
func (m *MemFS) Rename(oldpath, newpath string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, n := filepath.Clean(oldpath), filepath.Clean(newpath)
	if err := m.check(OpRename, o); err != nil {
		return err
	}
	in, ok := m.names[o]
	if !ok {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: fs.ErrNotExist}
	}
	delete(m.names, o)
	m.names[n] = in
	return nil
}

// MkdirAll creates a directory and its parents. Directories are durable at
// once.
func (m *MemFS) MkdirAll(path string, perm fs.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for p := filepath.Clean(path); !m.dirs[p]; p = filepath.Dir(p) {
		if _, ok := m.names[p]; ok {
			return &fs.PathError{Op: "mkdir", Path: p, Err: fs.ErrExist}
		}
		m.dirs[p] = true
	}
	return nil
}

// SyncDir makes the current entries of the directory durable.
func (m *MemFS) SyncDir(path string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := filepath.Clean(path)
	if err := m.check(OpSyncDir, d); err != nil {
		return err
	}
	if !m.dirs[d] {
		return &fs.PathError{Op: "syncdir", Path: path, Err: fs.ErrNotExist}
	}
	for p := range m.durable {
		if filepath.Dir(p) == d {
			delete(m.durable, p)
		}
	}
	for p, n := range m.names {
		if filepath.Dir(p) == d {
			m.durable[p] = n
		}
	}
	return nil
}

// Lock takes the named lock; it fails with [wal.ErrLocked] while another
// holder has it. Crash releases every lock.
func (m *MemFS) Lock(path string) (io.Closer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := filepath.Clean(path)
	if !m.dirs[filepath.Dir(p)] {
		return nil, &fs.PathError{Op: "lock", Path: path, Err: fs.ErrNotExist}
	}
	if m.locks[p] != nil {
		return nil, fmt.Errorf("%w: %s", wal.ErrLocked, path)
	}
	l := &memLock{fs: m, path: p}
	m.locks[p] = l
	return l, nil
}

type memLock struct {
	fs   *MemFS
	path string
	once sync.Once
}

func (l *memLock) Close() error {
	l.once.Do(func() {
		l.fs.mu.Lock()
		defer l.fs.mu.Unlock()
		// After a Crash the lock may belong to someone else.
		if l.fs.locks[l.path] == l {
			delete(l.fs.locks, l.path)
		}
	})
	return nil
}

type memFile struct {
	fs       *MemFS
	n        *inode
	path     string
	writable bool
	closed   bool
	crashes  int // the file system's crash count when it was opened
}

var errClosed = errors.New("waltest: file already closed")

func (f *memFile) usable(write bool) error {
	if f.crashes != f.fs.crashes {
		return &fs.PathError{Op: "use", Path: f.path, Err: ErrCrashed}
	}
	if f.closed {
		return &fs.PathError{Op: "use", Path: f.path, Err: errClosed}
	}
	if write && !f.writable {
		return &fs.PathError{Op: "write", Path: f.path, Err: fs.ErrPermission}
	}
	return nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.usable(false); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: f.path, Err: fs.ErrInvalid}
	}
	if off >= f.n.size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), f.n.size-off)
	n := 0
	if off < int64(len(f.n.data)) {
		n = copy(p[:want], f.n.data[off:])
	}
	clear(p[n:want])
	if want < int64(len(p)) {
		return int(want), io.EOF
	}
	return int(want), nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.usable(true); err != nil {
		return 0, err
	}
	if err := f.fs.check(OpWrite, f.path); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "write", Path: f.path, Err: fs.ErrInvalid}
	}
	if end := off + int64(len(p)); end > int64(len(f.n.data)) {
		f.n.data = append(f.n.data, make([]byte, end-int64(len(f.n.data)))...)
	}
	copy(f.n.data[off:], p)
	f.n.size = max(f.n.size, int64(len(f.n.data)))
	f.n.markDirty(off)
	return len(p), nil
}

func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.usable(false); err != nil {
		return err
	}
	if err := f.fs.check(OpSync, f.path); err != nil {
		return err
	}
	n := f.n
	if n.dirtyFrom < int64(len(n.synced)) {
		n.synced = n.synced[:n.dirtyFrom]
	}
	if from := int64(len(n.synced)); from < int64(len(n.data)) {
		n.synced = append(n.synced, n.data[from:]...)
	}
	n.synced = n.synced[:len(n.data)]
	n.syncedSize = n.size
	n.dirtyFrom = int64(len(n.data))
	return nil
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.usable(true); err != nil {
		return err
	}
	if err := f.fs.check(OpTruncate, f.path); err != nil {
		return err
	}
	if size < int64(len(f.n.data)) {
		f.n.data = f.n.data[:size]
	}
	f.n.size = size
	f.n.markDirty(size)
	return nil
}

func (f *memFile) Allocate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.usable(true); err != nil {
		return err
	}
	if err := f.fs.check(OpAllocate, f.path); err != nil {
		return err
	}
	f.n.size = max(f.n.size, size)
	return nil
}

func (f *memFile) Stat() (fs.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.usable(false); err != nil {
		return nil, err
	}
	return fileInfo{name: filepath.Base(f.path), size: f.n.size}, nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.usable(false); err != nil {
		return err
	}
	f.closed = true
	return nil
}

// fileInfo is both the fs.FileInfo and the fs.DirEntry of MemFS.
type fileInfo struct {
	name string
	size int64
	dir  bool
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return i.dir }
func (i fileInfo) Sys() any           { return nil }
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o750
	}
	return 0o600
}
func (i fileInfo) Type() fs.FileMode          { return i.Mode().Type() }
func (i fileInfo) Info() (fs.FileInfo, error) { return i, nil }

// Paths returns the current file paths under dir (recursively), sorted.
func (m *MemFS) Paths(dir string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := filepath.Clean(dir) + string(filepath.Separator)
	var out []string
	for p := range m.names {
		if strings.HasPrefix(p, d) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
