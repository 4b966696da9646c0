package snap

import "errors"

// Sentinel errors; test with errors.Is.
var (
	// ErrNoSnapshot: the store holds no valid snapshot (or none that the
	// caller accepts).
	ErrNoSnapshot = errors.New("snap: no valid snapshot")
	// ErrNotFound: no snapshot at the index asked for.
	ErrNotFound = errors.New("snap: snapshot not found")
	// ErrCorrupt: a snapshot file or stream fails its checks: bad magic,
	// a header or data CRC mismatch, or the wrong length.
	ErrCorrupt = errors.New("snap: corrupt snapshot")
)
