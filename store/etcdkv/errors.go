package etcdkv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"

	"github.com/governor-io/governor/store/kv"
)

// compactLookupTimeout bounds the extra round trips that find etcd's
// compaction revision for a CompactedError.
const compactLookupTimeout = 5 * time.Second

// mapErr turns an etcd client error into the kv contract's error.
// compactAtLeast is a lower bound on the compaction revision that the
// failed call implies (it is used only when etcd answers "compacted").
func (k *KV) mapErr(ctx context.Context, err error, compactAtLeast int64) error {
	if err == nil {
		return nil
	}
	if k.isClosed.Load() {
		return kv.ErrClosed
	}
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		return &kv.CompactedError{CompactRevision: k.compactRevision(ctx, compactAtLeast)}
	case errors.Is(err, rpctypes.ErrFutureRev):
		return kv.ErrFutureRevision
	case errors.Is(err, rpctypes.ErrDuplicateKey):
		return kv.ErrDuplicateKey
	case errors.Is(err, rpctypes.ErrTooManyOps):
		return kv.ErrTooManyOps
	case errors.Is(err, rpctypes.ErrEmptyKey):
		return kv.ErrEmptyKey
	}
	return err
}

// compactRevision finds etcd's current compaction revision, knowing that it
// is at least atLeast. etcd has no call that reports it directly, but a
// watch from a compacted revision is cancelled with it. A watch from
// revision 1 is compacted exactly when the compaction revision is 2 or
// more, which a read at revision 1 tells cheaply. If the lookup fails, the
// lower bound is returned: a watch resumed from there fails again with the
// right revision, so nothing is lost.
func (k *KV) compactRevision(ctx context.Context, atLeast int64) int64 {
	if atLeast < 1 {
		atLeast = 1
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), compactLookupTimeout)
	defer cancel()
	if atLeast < 2 {
		_, err := k.client.Get(ctx, k.probeKey(), clientv3.WithRev(1), clientv3.WithCountOnly())
		if err == nil {
			return 1
		}
		if !errors.Is(err, rpctypes.ErrCompacted) {
			k.log.Warn("etcdkv: could not learn the compaction revision", "error", err)
			return atLeast
		}
	}
	// Its own stream, so that it never holds back another watch's
	// progress notifications.
	wctx := metadata.AppendToOutgoingContext(ctx, streamMetadataKey, "compact-"+k.watchID())
	for resp := range k.client.Watch(wctx, k.probeKey(), clientv3.WithRev(1)) {
		if resp.CompactRevision > 0 {
			return max(resp.CompactRevision, atLeast)
		}
		if resp.Canceled {
			break
		}
	}
	k.log.Warn("etcdkv: could not learn the compaction revision", "error", ctx.Err())
	return atLeast
}

func (k *KV) fromKV(e *mvccpb.KeyValue) kv.KeyValue {
	return kv.KeyValue{
		Key:            string(e.Key[min(len(k.prefix), len(e.Key)):]),
		Value:          e.Value,
		CreateRevision: e.CreateRevision,
		ModRevision:    e.ModRevision,
		Version:        e.Version,
	}
}

func (k *KV) fromKVs(in []*mvccpb.KeyValue) []kv.KeyValue {
	if len(in) == 0 {
		return nil
	}
	out := make([]kv.KeyValue, len(in))
	for i, e := range in {
		out[i] = k.fromKV(e)
	}
	return out
}

// errWatchCancelled reports a watch that etcd cancelled for a reason other
// than compaction, again and again, without letting it make progress.
var errWatchCancelled = errors.New("etcdkv: etcd keeps cancelling the watch")

func cancelError(resp clientv3.WatchResponse) error {
	if err := resp.Err(); err != nil {
		return err
	}
	return fmt.Errorf("watch cancelled: %s", resp.CancelReason)
}
