package etcdkv_test

import (
	"testing"

	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/kvtest"
)

func TestConformance(t *testing.T) {
	srv := sharedServer(t)
	kvtest.Run(t, func(t *testing.T) kv.KV { return newKV(t, srv) })
}
