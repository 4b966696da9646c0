package mvcc_test

import (
	"testing"

	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/kvtest"
	"github.com/governor-io/governor/store/mvcc"
)

func TestConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.KV {
		e := mvcc.New(mvcc.Options{})
		t.Cleanup(func() { e.Close() })
		return e
	})
}

// TestConformanceSmallWindow runs the suite with a tiny fan-out window, so
// that most watches go through the catch-up path.
func TestConformanceSmallWindow(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.KV {
		e := mvcc.New(mvcc.Options{WatchWindow: 2, WatchBufferSize: 1024})
		t.Cleanup(func() { e.Close() })
		return e
	})
}
