//go:build !unix

package diskfs

import "os"

// lockFile is a no-op where flock is not available; the WAL then relies on
// its owner to open a directory once.
func lockFile(*os.File) error { return nil }
