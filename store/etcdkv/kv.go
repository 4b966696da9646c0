package etcdkv

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/store/etcdkv/internal/zapslog"
	"github.com/governor-io/governor/store/kv"
)

// DefaultDialTimeout is the dial timeout used when [Config.DialTimeout] is zero.
const DefaultDialTimeout = 5 * time.Second

// Config says how to reach an etcd cluster and which part of its key space
// to use.
type Config struct {
	// Endpoints are the client URLs of the cluster's members, such as
	// "https://10.0.0.1:2379" or "127.0.0.1:2379". At least one is required.
	Endpoints []string
	// TLS, when set, is used for every connection (server verification and,
	// with Certificates set, client certificates). Nil means plain TCP.
	TLS *tls.Config
	// Username and Password authenticate with etcd's role-based access
	// control when Username is not empty.
	Username string
	Password string
	// DialTimeout bounds how long New waits for the first connection.
	// Zero means DefaultDialTimeout.
	DialTimeout time.Duration
	// Prefix is prepended to every key written and stripped from every key
	// read, so that several Governor installations (or other users) can
	// share one etcd. Keys outside the prefix are never read, written or
	// watched. Store keys begin with "/", so a prefix such as "/governor"
	// puts them under "/governor/registry/...".
	Prefix string
	// Logger receives the adapter's and the etcd client's log lines.
	// Nil discards them.
	Logger *slog.Logger
	// Clock times the adapter's retries (re-opening a watch that etcd
	// cancelled, re-asking etcd for a progress notification). Nil means
	// the real clock.
	Clock clock.Clock
}

// KV is a [kv.KV] backed by an etcd cluster through
// go.etcd.io/etcd/client/v3. Its methods map one-to-one onto etcd's KV,
// Watch and Maintenance calls; the adapter adds only the key prefix, the
// error mapping onto the kv sentinels, and the watch guarantees that the
// contract makes and etcd leaves to its clients (see [KV.Watch]).
//
// A KV is safe for concurrent use. Close it when done.
type KV struct {
	client *clientv3.Client
	prefix string
	log    *slog.Logger
	clock  clock.Clock

	closeOnce sync.Once
	isClosed  atomic.Bool

	mu       sync.Mutex
	watchers map[*watcher]struct{}
	nextID   atomic.Int64
}

var _ kv.KV = (*KV)(nil)

// New connects to the etcd cluster that cfg describes and checks that it
// answers (a read of the prefix key) before returning. ctx bounds that
// check; it does not bound the life of the returned KV.
func New(ctx context.Context, cfg Config) (*KV, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, fmt.Errorf("etcdkv: no endpoints: %w", kv.ErrInvalidRequest)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	dial := cfg.DialTimeout
	if dial <= 0 {
		dial = DefaultDialTimeout
	}
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   cfg.Endpoints,
		DialTimeout: dial,
		TLS:         cfg.TLS,
		Username:    cfg.Username,
		Password:    cfg.Password,
		Logger:      zapslog.New(logger.With("component", "etcd-client")),
		// Without streams, keep-alive pings would be refused by the server
		// and the connection dropped; watches keep their own streams alive.
		PermitWithoutStream: true,
	})
	if err != nil {
		return nil, fmt.Errorf("etcdkv: connect to %v: %w", cfg.Endpoints, err)
	}
	k := &KV{
		client:   client,
		prefix:   cfg.Prefix,
		log:      logger,
		clock:    clock.OrReal(cfg.Clock),
		watchers: make(map[*watcher]struct{}),
	}
	cctx, cancel := context.WithTimeout(ctx, dial)
	defer cancel()
	if _, err := k.client.Get(cctx, k.probeKey(), clientv3.WithCountOnly()); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("etcdkv: check %v: %w", cfg.Endpoints, k.mapErr(ctx, err, 0))
	}
	return k, nil
}

// Client returns the underlying etcd client, for what the KV contract does
// not cover (leases, membership, maintenance). Keys written through it are
// not prefixed.
func (k *KV) Client() *clientv3.Client { return k.client }

// Prefix returns the key prefix the KV was configured with.
func (k *KV) Prefix() string { return k.prefix }

// String names the store for people: etcd, its endpoints and the key
// prefix, as in "etcd at 127.0.0.1:2379, keys under /app".
func (k *KV) String() string {
	return fmt.Sprintf("etcd at %s, keys under %q", strings.Join(k.client.Endpoints(), ","), k.prefix)
}

// Range implements [kv.KV]. End "\x00" selects every key >= Key within the
// prefix, and an empty Key with a non-empty End starts at the beginning of
// the prefix.
func (k *KV) Range(ctx context.Context, req kv.RangeRequest) (*kv.RangeResponse, error) {
	if err := k.checkOpen(); err != nil {
		return nil, err
	}
	if err := checkRange(req.Key, req.End, req.Limit); err != nil {
		return nil, fmt.Errorf("etcdkv: range %q: %w", req.Key, err)
	}
	if req.Revision < 0 {
		return nil, fmt.Errorf("etcdkv: range %q at revision %d: %w", req.Key, req.Revision, kv.ErrInvalidRequest)
	}
	key, end := k.span(req.Key, req.End)
	opts := rangeOpts(end, req.Limit, req.CountOnly, req.KeysOnly)
	if req.Revision > 0 {
		opts = append(opts, clientv3.WithRev(req.Revision))
	}
	resp, err := k.client.Get(ctx, key, opts...)
	if err != nil {
		return nil, fmt.Errorf("etcdkv: range %q: %w", req.Key, k.mapErr(ctx, err, req.Revision+1))
	}
	rev := resp.Header.Revision // etcd reports its current revision
	if req.Revision > 0 {
		rev = req.Revision
	}
	return &kv.RangeResponse{
		KVs:      k.fromKVs(resp.Kvs),
		Count:    resp.Count,
		More:     resp.More,
		Revision: rev,
	}, nil
}

// Txn implements [kv.KV]. A range inside the transaction reports the
// transaction's revision as its Revision.
func (k *KV) Txn(ctx context.Context, req kv.TxnRequest) (*kv.TxnResponse, error) {
	if err := k.checkOpen(); err != nil {
		return nil, err
	}
	cmps := make([]clientv3.Cmp, 0, len(req.Compare))
	for i, c := range req.Compare {
		cmp, err := k.toCmp(c)
		if err != nil {
			return nil, fmt.Errorf("etcdkv: txn compare %d: %w", i, err)
		}
		cmps = append(cmps, cmp)
	}
	success, err := k.toOps(req.Success)
	if err != nil {
		return nil, fmt.Errorf("etcdkv: txn success branch: %w", err)
	}
	failure, err := k.toOps(req.Failure)
	if err != nil {
		return nil, fmt.Errorf("etcdkv: txn failure branch: %w", err)
	}
	resp, err := k.client.Txn(ctx).If(cmps...).Then(success...).Else(failure...).Commit()
	if err != nil {
		return nil, fmt.Errorf("etcdkv: txn: %w", k.mapErr(ctx, err, 0))
	}
	out := &kv.TxnResponse{
		Succeeded: resp.Succeeded,
		Revision:  resp.Header.Revision,
		Responses: make([]kv.OpResponse, 0, len(resp.Responses)),
	}
	for _, r := range resp.Responses {
		switch {
		case r.GetResponseRange() != nil:
			rr := r.GetResponseRange()
			out.Responses = append(out.Responses, kv.OpResponse{Range: &kv.RangeResponse{
				KVs:      k.fromKVs(rr.Kvs),
				Count:    rr.Count,
				More:     rr.More,
				Revision: resp.Header.Revision,
			}})
		case r.GetResponsePut() != nil:
			pr := &kv.PutResponse{}
			if prev := r.GetResponsePut().PrevKv; prev != nil {
				p := k.fromKV(prev)
				pr.PrevKV = &p
			}
			out.Responses = append(out.Responses, kv.OpResponse{Put: pr})
		case r.GetResponseDeleteRange() != nil:
			dr := r.GetResponseDeleteRange()
			out.Responses = append(out.Responses, kv.OpResponse{Delete: &kv.DeleteResponse{
				Deleted: dr.Deleted,
				PrevKVs: k.fromKVs(dr.PrevKvs),
			}})
		default:
			return nil, fmt.Errorf("etcdkv: txn: etcd returned an op response of unknown type %T", r.Response)
		}
	}
	return out, nil
}

// Compact implements [kv.KV]. It compacts the whole etcd key space, not
// only the prefix: etcd has a single history. With authentication on,
// etcd lets only the root role compact.
func (k *KV) Compact(ctx context.Context, rev int64) error {
	if err := k.checkOpen(); err != nil {
		return err
	}
	if rev <= 0 {
		return fmt.Errorf("etcdkv: compact at revision %d: %w", rev, kv.ErrInvalidRequest)
	}
	if _, err := k.client.Compact(ctx, rev); err != nil {
		return fmt.Errorf("etcdkv: compact at revision %d: %w", rev, k.mapErr(ctx, err, rev))
	}
	return nil
}

// Close closes the connection to etcd. Open watches end with a response
// whose Err is [kv.ErrClosed]; later calls, Close included, fail with
// kv.ErrClosed.
func (k *KV) Close() error {
	err := fmt.Errorf("etcdkv: %w", kv.ErrClosed)
	k.closeOnce.Do(func() {
		k.isClosed.Store(true)
		k.closeWatchers()
		err = k.client.Close()
	})
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return nil
	case errors.Is(err, kv.ErrClosed):
		return err
	}
	return fmt.Errorf("etcdkv: close: %w", err)
}

func (k *KV) checkOpen() error {
	if k.isClosed.Load() {
		return fmt.Errorf("etcdkv: %w", kv.ErrClosed)
	}
	return nil
}

// probeKey is a key inside the prefix that reads can name to learn the
// current revision or to test a revision, whatever the data.
func (k *KV) probeKey() string {
	if k.prefix == "" {
		return "\x00"
	}
	return k.prefix
}

// span maps a contract range (key, end) onto etcd's key space under the
// prefix. end must already have been checked by checkRange.
func (k *KV) span(key, end string) (string, string) {
	switch {
	case end == "":
		return k.prefix + key, ""
	case end == "\x00":
		if k.prefix == "" {
			if key == "" {
				key = "\x00"
			}
			return key, "\x00"
		}
		return k.prefix + key, kv.PrefixEnd(k.prefix)
	default:
		if key == "" && k.prefix == "" {
			key = "\x00"
		}
		return k.prefix + key, k.prefix + end
	}
}

func checkRange(key, end string, limit int64) error {
	if key == "" && end == "" {
		return kv.ErrEmptyKey
	}
	if limit < 0 {
		return fmt.Errorf("negative limit %d: %w", limit, kv.ErrInvalidRequest)
	}
	return nil
}

func rangeOpts(end string, limit int64, countOnly, keysOnly bool) []clientv3.OpOption {
	var opts []clientv3.OpOption
	if end != "" {
		opts = append(opts, clientv3.WithRange(end))
	}
	if limit > 0 {
		opts = append(opts, clientv3.WithLimit(limit))
	}
	if countOnly {
		opts = append(opts, clientv3.WithCountOnly())
	}
	if keysOnly {
		opts = append(opts, clientv3.WithKeysOnly())
	}
	return opts
}

func (k *KV) toCmp(c kv.Compare) (clientv3.Cmp, error) {
	if c.Key == "" {
		return clientv3.Cmp{}, kv.ErrEmptyKey
	}
	var op string
	switch c.Result {
	case kv.Equal:
		op = "="
	case kv.NotEqual:
		op = "!="
	case kv.Less:
		op = "<"
	case kv.Greater:
		op = ">"
	default:
		return clientv3.Cmp{}, fmt.Errorf("unknown compare result %d: %w", c.Result, kv.ErrInvalidRequest)
	}
	key := k.prefix + c.Key
	switch c.Target {
	case kv.CompareVersion:
		return clientv3.Compare(clientv3.Version(key), op, c.Int), nil
	case kv.CompareCreateRevision:
		return clientv3.Compare(clientv3.CreateRevision(key), op, c.Int), nil
	case kv.CompareModRevision:
		return clientv3.Compare(clientv3.ModRevision(key), op, c.Int), nil
	case kv.CompareValue:
		return clientv3.Compare(clientv3.Value(key), op, string(c.Value)), nil
	default:
		return clientv3.Cmp{}, fmt.Errorf("unknown compare target %d: %w", c.Target, kv.ErrInvalidRequest)
	}
}

func (k *KV) toOps(ops []kv.Op) ([]clientv3.Op, error) {
	out := make([]clientv3.Op, 0, len(ops))
	for i, op := range ops {
		switch op.Type {
		case kv.OpRange:
			if err := checkRange(op.Key, op.End, op.Limit); err != nil {
				return nil, fmt.Errorf("op %d: range %q: %w", i, op.Key, err)
			}
			key, end := k.span(op.Key, op.End)
			out = append(out, clientv3.OpGet(key, rangeOpts(end, op.Limit, op.CountOnly, op.KeysOnly)...))
		case kv.OpPut:
			if op.Key == "" {
				return nil, fmt.Errorf("op %d: put: %w", i, kv.ErrEmptyKey)
			}
			var opts []clientv3.OpOption
			if op.PrevKV {
				opts = append(opts, clientv3.WithPrevKV())
			}
			out = append(out, clientv3.OpPut(k.prefix+op.Key, string(op.Value), opts...))
		case kv.OpDelete:
			if err := checkRange(op.Key, op.End, 0); err != nil {
				return nil, fmt.Errorf("op %d: delete %q: %w", i, op.Key, err)
			}
			key, end := k.span(op.Key, op.End)
			var opts []clientv3.OpOption
			if end != "" {
				opts = append(opts, clientv3.WithRange(end))
			}
			if op.PrevKV {
				opts = append(opts, clientv3.WithPrevKV())
			}
			out = append(out, clientv3.OpDelete(key, opts...))
		default:
			return nil, fmt.Errorf("op %d: unknown op type %d: %w", i, op.Type, kv.ErrInvalidRequest)
		}
	}
	return out, nil
}

func (k *KV) watchID() string {
	return strconv.FormatInt(k.nextID.Add(1), 10)
}
