// Command kvd runs one member of a Governor Raft KV cluster and serves the
// KV API over HTTP/JSON (see package raft/client) plus Prometheus metrics
// at /metrics.
//
// With no flags it runs a single-member cluster in a temporary directory
// on free 127.0.0.1 ports and prints its addresses:
//
//	go run ./examples/kvd
//
// A three-member cluster on one machine:
//
//	go run ./examples/kvd -id 1 -data /tmp/kvd1 -peer 127.0.0.1:2380 -client 127.0.0.1:2379 \
//	    -cluster 1=127.0.0.1:2380/127.0.0.1:2379,2=127.0.0.1:2382/127.0.0.1:2381,3=127.0.0.1:2384/127.0.0.1:2383
//	go run ./examples/kvd -id 2 -data /tmp/kvd2 -peer 127.0.0.1:2382 -client 127.0.0.1:2381 -cluster <same>
//	go run ./examples/kvd -id 3 -data /tmp/kvd3 -peer 127.0.0.1:2384 -client 127.0.0.1:2383 -cluster <same>
//
// Then, for example (a write goes to whichever member you ask; a follower
// forwards it to the leader):
//
//	curl -s -XPOST 127.0.0.1:2379/v1/put -d '{"key":"/a","value":"1"}'
//	curl -s -XPOST '127.0.0.1:2381/v1/range?text=1' -d '{"Key":"/a"}'
//	curl -s -XPOST 127.0.0.1:2379/v1/deleterange -d '{"key":"/a","prefix":true}'
//	curl -s 127.0.0.1:2379/healthz
//
// The KV API is package raft/client's Handler. Its conveniences for
// people: /v1/put takes a text value and /v1/deleterange a key, a key and
// an end, or a prefix; both answer the revision after the write.
// /v1/range and /v1/txn with ?text=1 show values as text (bytes that are
// not UTF-8 show as U+FFFD). Without it, /v1/range and the rest of the
// KV API (/v1/txn, /v1/watch, /v1/compact) carry values as base64,
// exactly, as real clients need. /healthz answers 200 "ok" while the member knows
// a leader and 503 otherwise. /metrics serves the member's Raft, engine
// and peer network metrics (etcd's names) and the Go and process
// collectors.
//
// kvd logs leader changes and its shutdown at the default level (info).
// A temporary data directory it made is removed when it stops.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/client"
	raftprom "github.com/governor-io/governor/raft/prommetrics"
	"github.com/governor-io/governor/store/kv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // -h: the usage is printed
		}
		fmt.Fprintln(os.Stderr, "kvd:", err)
		os.Exit(1)
	}
}

// parseCluster parses "id=peer[/client],...".
func parseCluster(s string) ([]raft.Member, error) {
	var out []raft.Member
	for _, part := range strings.Split(s, ",") {
		id, addrs, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("bad -cluster entry %q: want id=peer[/client]", part)
		}
		n, err := strconv.ParseUint(id, 10, 64)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("bad member ID %q", id)
		}
		peer, cl, _ := strings.Cut(addrs, "/")
		out = append(out, raft.Member{ID: n, PeerAddr: peer, ClientAddr: cl})
	}
	return out, nil
}

// run parses args and runs the member until ctx is done or the member
// stops, printing its addresses to stdout and logging to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("kvd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		id       = fs.Uint64("id", 1, "member ID (non-zero, never reused)")
		data     = fs.String("data", "", "data directory (default: a new temporary directory, removed on exit)")
		peer     = fs.String("peer", "127.0.0.1:0", "peer listen address")
		clientA  = fs.String("client", "127.0.0.1:0", "client (HTTP) listen address")
		cluster  = fs.String("cluster", "", "initial cluster: id=peer[/client],... (default: this member alone)")
		join     = fs.Bool("join", false, "join an existing cluster that already added this member")
		noFwd    = fs.Bool("no-forward", false, "refuse writes on followers with NotLeader instead of forwarding them")
		tick     = fs.Duration("tick", 100*time.Millisecond, "Raft tick interval")
		snapN    = fs.Uint64("snapshot-entries", raft.DefaultSnapshotEntries, "applied entries between snapshots")
		keepAge  = fs.Duration("compaction-retention", raft.DefaultCompactionRetention, "history kept, by age (negative: no compaction by age)")
		keepRevs = fs.Int64("compaction-revisions", raft.DefaultCompactionRevisions, "history kept, in revisions (negative: no compaction by revisions)")
		logLevel = fs.String("log", "info", "log level: debug, info, warn, error")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	dir := *data
	if dir == "" {
		d, err := os.MkdirTemp("", "kvd-")
		if err != nil {
			return err
		}
		dir = d
		// Runs last, after the member has closed its files.
		defer func() {
			if rerr := os.RemoveAll(dir); rerr != nil {
				log.Error("kvd: remove temporary data directory", "dir", dir, "err", rerr)
				err = errors.Join(err, rerr)
				return
			}
			log.Info("kvd: removed temporary data directory", "dir", dir)
		}()
	}
	cln, err := net.Listen("tcp", *clientA)
	if err != nil {
		return fmt.Errorf("client listen: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	met, err := raftprom.New(reg)
	if err != nil {
		cln.Close()
		return err
	}
	tr, err := raft.NewTCPTransport(raft.TCPConfig{ID: *id, ListenAddr: *peer, Logger: log, Metrics: met})
	if err != nil {
		cln.Close()
		return err
	}
	cfg := raft.Config{
		ID:                  *id,
		Dir:                 dir,
		Join:                *join,
		Transport:           tr,
		TickInterval:        *tick,
		SnapshotEntries:     *snapN,
		CompactionRetention: *keepAge,
		CompactionRevisions: *keepRevs,
		DisableForwarding:   *noFwd,
		Logger:              log,
		Metrics:             met,
	}
	switch {
	case *cluster != "":
		if cfg.InitialCluster, err = parseCluster(*cluster); err != nil {
			cln.Close()
			tr.Close()
			return err
		}
	case !*join:
		cfg.InitialCluster = []raft.Member{{ID: *id, PeerAddr: tr.Addr(), ClientAddr: cln.Addr().String()}}
	}
	node, err := raft.Open(ctx, cfg)
	if err != nil {
		cln.Close()
		tr.Close()
		return err
	}
	defer func() {
		if cerr := node.Close(); cerr != nil && !errors.Is(cerr, kv.ErrClosed) {
			log.Warn("kvd: close member", "err", cerr)
		}
		log.Info("kvd: stopped", "member", *id)
	}()

	watchDone := make(chan struct{})
	watchStop := make(chan struct{})
	go func() {
		defer close(watchDone)
		logLeaderChanges(log, node, watchStop)
	}()
	defer func() {
		close(watchStop)
		<-watchDone
	}()

	mux := http.NewServeMux()
	mux.Handle("/v1/", client.NewHandler(node))
	mux.Handle("GET /healthz", healthz(node))
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// One port serves both the framed client protocol and HTTP (the
	// JSON API, /healthz and /metrics).
	srv := client.NewServer(node, mux)
	go srv.Serve(cln)
	defer srv.Close()

	log.Info("kvd: serving", "member", *id, "peer", tr.Addr(), "client", cln.Addr().String(), "data", dir)
	fmt.Fprintf(stdout, "kvd: member %d\n  data:   %s\n  peer:   %s\n  client: %s (framed; http://%[4]s for HTTP/JSON, /healthz and /metrics)\n", *id, dir, tr.Addr(), cln.Addr())
	select {
	case <-ctx.Done():
		log.Info("kvd: shutting down", "member", *id, "reason", context.Cause(ctx))
		return nil
	case <-node.Done():
		err := node.Err()
		log.Error("kvd: member stopped, shutting down", "member", *id, "err", err)
		if errors.Is(err, raft.ErrStopped) {
			return nil
		}
		return err
	}
}

// logLeaderChanges logs, at info, each leader this member comes to know
// of, and at warn each loss of its leader, until stop is closed or the
// member stops.
func logLeaderChanges(log *slog.Logger, node *raft.Node, stop <-chan struct{}) {
	var last uint64
	for {
		changed := node.LeaderChanged()
		if lead := node.Leader(); lead != last {
			if lead == 0 {
				log.Warn("kvd: leader lost", "member", node.ID(), "previous", last, "term", node.Term())
			} else {
				log.Info("kvd: leader changed", "member", node.ID(), "leader", lead, "term", node.Term(), "is_leader", node.IsLeader())
			}
			last = lead
		}
		select {
		case <-changed:
		case <-stop:
			return
		case <-node.Done():
			return
		}
	}
}
