// Package etcdkv runs Governor's storage on an etcd cluster: [KV]
// implements the [kv.KV] contract over go.etcd.io/etcd/client/v3, so the
// typed [github.com/governor-io/governor/store.Store], informers and controllers run on etcd unchanged.
//
// It lives in its own Go module (github.com/governor-io/governor/store/etcdkv)
// so that the core module never pulls in gRPC and the etcd client.
//
// # Pointing the store at etcd
//
// Connect with [New], then hand the KV to [github.com/governor-io/governor/store.New] in place of the
// in-memory engine:
//
//	backend, err := etcdkv.New(ctx, etcdkv.Config{
//		Endpoints: []string{"https://etcd-0:2379", "https://etcd-1:2379", "https://etcd-2:2379"},
//		TLS:       tlsConfig,         // *tls.Config with the cluster's CA (and a client cert, if required)
//		Username:  "governor",        // etcd RBAC, if enabled
//		Password:  os.Getenv("ETCD_PASSWORD"),
//		Prefix:    "/governor",       // share one etcd between installations
//		Logger:    slog.Default(),
//	})
//	if err != nil {
//		return err
//	}
//	defer backend.Close()
//	pods := store.New(backend, podResource) // *store.Store[*Pod], as on any engine
//
// Keys are written under Prefix, so several installations (or other etcd
// users) can share a cluster; Compact, however, compacts the whole cluster,
// because etcd has one history.
//
// # What the adapter adds
//
// etcd already has the contract's semantics (the contract was modelled on
// it), so most calls map one-to-one. The adapter adds:
//
//   - the key prefix, applied and stripped on every key, including ranges
//     whose End is "\x00" (every key from Key on, within the prefix);
//   - errors mapped to the kv sentinels; a compacted read, watch or compact
//     gives a [kv.CompactedError] that carries etcd's compaction revision;
//   - Watch's guarantees: a watch survives lost connections and etcd
//     restarts by resuming from the revision after the last one delivered,
//     and ends with a CompactedError, never with a silent gap, if that
//     history is gone; Watch refuses a StartRevision at or below the
//     compaction revision at once (etcd itself accepts the compaction
//     revision); a delete event always carries the deleted value;
//   - RequestProgress with the contract's promise: every watch opened with
//     ProgressNotify gets a notification once it has delivered everything
//     up to the current revision. etcd 3.7 answers a progress request only
//     when every watch on the stream is caught up and none starts in the
//     future, and drops it otherwise; the adapter gives each watch its own
//     stream, answers a watch that starts in the future itself, and asks
//     etcd again until it confirms.
//
// # Testing against real etcd
//
// Package [github.com/governor-io/governor/store/etcdkv/embedded] runs a
// real etcd server (go.etcd.io/etcd/server/v3/embed, the same 3.7 release
// as the client) inside the process. It was chosen over starting Debian's
// etcd-server package from CI because it pins the server to the client's
// version, needs nothing installed (go test alone runs everything), and
// lets a test stop and restart etcd on the same data. The adapter's tests run the kvtest
// conformance suite on it, and check the watch guarantees through a forced
// compaction, a lost connection and an etcd restart. The examples below and
// the quickstart program (examples/quickstart in this module) use it too,
// so they need nothing installed.
package etcdkv
