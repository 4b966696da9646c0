package kvtest_test

import (
	"fmt"

	"github.com/governor-io/governor/store/kvtest"
)

// An engine package runs the suite from one test:
//
//	func TestConformance(t *testing.T) {
//		kvtest.Run(t, func(t *testing.T) kv.KV {
//			e := mvcc.New(mvcc.Options{})
//			t.Cleanup(func() { e.Close() })
//			return e
//		})
//	}
//
// An engine shared between subtests (one etcd server) must give each
// subtest a key space where nothing under Prefix exists yet, for example
// by running the suite once per fresh server, or by namespacing.
func Example() {
	fmt.Println("the suite writes under", kvtest.Prefix)
	// Output: the suite writes under /kvtest/
}
