package diskfs_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/governor-io/governor/raft/diskfs"
)

// A durable write: write the data, sync the file, then sync the directory
// so that the file's name survives a crash too.
func ExampleOSFS() {
	dir, _ := os.MkdirTemp("", "diskfs")
	defer os.RemoveAll(dir)

	var fsys diskfs.FS = diskfs.OSFS{}
	f, err := fsys.OpenFile(filepath.Join(dir, "data"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		fmt.Println(err)
		return
	}
	f.WriteAt([]byte("durable"), 0)
	fmt.Println(f.Sync(), f.Close(), fsys.SyncDir(dir))

	b, _ := os.ReadFile(filepath.Join(dir, "data"))
	fmt.Println(string(b))
	// Output:
	// <nil> <nil> <nil>
	// durable
}
