package benchmarks

import (
	"context"
	"path/filepath"
	"testing"

	"go.etcd.io/etcd/pkg/v3/traceutil"
	"go.etcd.io/etcd/server/v3/lease"
	"go.etcd.io/etcd/server/v3/storage/backend"
	etcdmvcc "go.etcd.io/etcd/server/v3/storage/mvcc"
	"go.uber.org/zap"

	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
)

// mvccStore is the one small interface through which the storage
// benchmarks drive Governor's engine and etcd's in-process MVCC store.
type mvccStore interface {
	// put writes value at key unconditionally.
	put(key, value []byte)
	// cas writes value at key if its mod revision is still mod, and
	// returns the new mod revision (0 when the compare failed).
	cas(key, value []byte, mod int64) int64
	// rangeAll reads every key in [start, end) at the current revision and
	// returns how many it read.
	rangeAll(start, end []byte) int
	// commit makes every write durable in the store's own terms (etcd
	// flushes its batch to bbolt; Governor's engine has nothing to do).
	commit()
	// offHeapBytes is the memory the store holds outside the Go heap
	// (etcd: the pages of its memory-mapped bbolt file in use).
	offHeapBytes() int64
	close()
}

type governorStore struct{ e *mvcc.Engine }

func newGovernorStore(testing.TB) mvccStore { return &governorStore{mvcc.New(mvcc.Options{})} }

func (g *governorStore) put(key, value []byte) {
	if _, err := g.e.Txn(context.Background(), kv.TxnRequest{Success: []kv.Op{kv.OpPutKV(string(key), value)}}); err != nil {
		panic(err)
	}
}

func (g *governorStore) cas(key, value []byte, mod int64) int64 {
	k := string(key)
	resp, err := g.e.Txn(context.Background(), kv.TxnRequest{
		Compare: []kv.Compare{{Key: k, Target: kv.CompareModRevision, Result: kv.Equal, Int: mod}},
		Success: []kv.Op{kv.OpPutKV(k, value)},
	})
	if err != nil {
		panic(err)
	}
	if !resp.Succeeded {
		return 0
	}
	return resp.Revision
}

func (g *governorStore) rangeAll(start, end []byte) int {
	resp, err := g.e.Range(context.Background(), kv.RangeRequest{Key: string(start), End: string(end)})
	if err != nil {
		panic(err)
	}
	return len(resp.KVs)
}

func (g *governorStore) commit()             {}
func (g *governorStore) offHeapBytes() int64 { return 0 }
func (g *governorStore) close()              { g.e.Close() }

// etcdStore is etcd's own MVCC store (the one behind an etcd server's KV
// API, without raft and gRPC) on a bbolt backend in a temporary directory,
// built the way etcd's own mvcc benchmarks build it.
type etcdStore struct {
	be backend.Backend
	s  etcdmvcc.WatchableKV
}

// newEtcdStore opens etcd's MVCC store. Without durable, its backend
// runs with etcd's --unsafe-no-fsync (bbolt's NoSync): its batches are
// still committed to bbolt every 100 ms or 10k writes, as etcd does, but
// nothing waits for the disk, so that it compares like for like with
// Governor's in-memory engine. With durable, each commit fdatasyncs, as
// an etcd server's does.
func newEtcdStore(tb testing.TB, durable bool) mvccStore {
	cfg := backend.DefaultBackendConfig(zap.NewNop())
	cfg.Path = filepath.Join(tb.TempDir(), "etcd.db")
	cfg.UnsafeNoFsync = !durable
	be := backend.New(cfg)
	return &etcdStore{be: be, s: etcdmvcc.New(zap.NewNop(), be, &lease.FakeLessor{}, etcdmvcc.StoreConfig{})}
}

func (e *etcdStore) put(key, value []byte) { e.s.Put(key, value, lease.NoLease) }

// cas is what an etcd server's apply does for a one-compare, one-put Txn:
// read the key and put it inside one write transaction.
func (e *etcdStore) cas(key, value []byte, mod int64) int64 {
	txn := e.s.Write(traceutil.TODO())
	defer txn.End()
	rr, err := txn.Range(context.Background(), key, nil, etcdmvcc.RangeOptions{})
	if err != nil {
		panic(err)
	}
	var cur int64
	if len(rr.KVs) == 1 {
		cur = rr.KVs[0].ModRevision
	}
	if cur != mod {
		return 0
	}
	return txn.Put(key, value, lease.NoLease)
}

func (e *etcdStore) rangeAll(start, end []byte) int {
	rr, err := e.s.Range(context.Background(), start, end, etcdmvcc.RangeOptions{})
	if err != nil {
		panic(err)
	}
	return len(rr.KVs)
}

func (e *etcdStore) commit()             { e.s.Commit() }
func (e *etcdStore) offHeapBytes() int64 { return e.be.SizeInUse() }
func (e *etcdStore) close() {
	e.s.Close()
	e.be.Close()
}

// mvccImpls are the sides of every storage comparison. impl=etcd is the
// like-for-like anchor (no fsync); impl=etcd-durable is etcd as a server
// runs it, fsync on: a ratio against it compares in memory with durable.
var mvccImpls = []struct {
	name string
	new  func(testing.TB) mvccStore
}{
	{"governor", newGovernorStore},
	{"etcd", func(tb testing.TB) mvccStore { return newEtcdStore(tb, false) }},
	{"etcd-durable", func(tb testing.TB) mvccStore { return newEtcdStore(tb, true) }},
}
