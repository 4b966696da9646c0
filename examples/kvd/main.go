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
// Then, for example:
//
//	curl -s -XPOST 127.0.0.1:2379/v1/txn -d '{"Success":[{"Type":1,"Key":"/a","Value":"aGVsbG8="}]}'
//	curl -s -XPOST 127.0.0.1:2381/v1/range -d '{"Key":"/a"}'
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
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
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/client"
)

func main() {
	if err := run(); err != nil {
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

func run() error {
	var (
		id       = flag.Uint64("id", 1, "member ID (non-zero, never reused)")
		data     = flag.String("data", "", "data directory (default: a new temporary directory)")
		peer     = flag.String("peer", "127.0.0.1:0", "peer listen address")
		clientA  = flag.String("client", "127.0.0.1:0", "client (HTTP) listen address")
		cluster  = flag.String("cluster", "", "initial cluster: id=peer[/client],... (default: this member alone)")
		join     = flag.Bool("join", false, "join an existing cluster that already added this member")
		noFwd    = flag.Bool("no-forward", false, "refuse writes on followers with NotLeader instead of forwarding them")
		tick     = flag.Duration("tick", 100*time.Millisecond, "Raft tick interval")
		snapN    = flag.Uint64("snapshot-entries", raft.DefaultSnapshotEntries, "applied entries between snapshots")
		keepAge  = flag.Duration("compaction-retention", raft.DefaultCompactionRetention, "history kept, by age (negative: no compaction by age)")
		keepRevs = flag.Int64("compaction-revisions", raft.DefaultCompactionRevisions, "history kept, in revisions (negative: no compaction by revisions)")
		logLevel = flag.String("log", "info", "log level: debug, info, warn, error")
	)
	flag.Parse()
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	dir := *data
	if dir == "" {
		d, err := os.MkdirTemp("", "kvd-")
		if err != nil {
			return err
		}
		dir = d
	}
	cln, err := net.Listen("tcp", *clientA)
	if err != nil {
		return fmt.Errorf("client listen: %w", err)
	}
	reg := prometheus.NewRegistry()
	tr, err := raft.NewTCPTransport(raft.TCPConfig{ID: *id, ListenAddr: *peer, Logger: log, Registerer: reg})
	if err != nil {
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
	}
	cfg.Registerer = reg
	switch {
	case *cluster != "":
		if cfg.InitialCluster, err = parseCluster(*cluster); err != nil {
			return err
		}
	case !*join:
		cfg.InitialCluster = []raft.Member{{ID: *id, PeerAddr: tr.Addr(), ClientAddr: cln.Addr().String()}}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	node, err := raft.Open(ctx, cfg)
	if err != nil {
		tr.Close()
		return err
	}
	defer node.Close()

	mux := http.NewServeMux()
	mux.Handle("/v1/", client.NewHandler(node))
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// One port serves both the framed client protocol and HTTP (the
	// JSON API and /metrics).
	srv := client.NewServer(node, mux)
	go srv.Serve(cln)
	defer srv.Close()

	fmt.Printf("kvd: member %d\n  data:   %s\n  peer:   %s\n  client: %s (framed; http://%[4]s for HTTP/JSON and /metrics)\n", *id, dir, tr.Addr(), cln.Addr())
	select {
	case <-ctx.Done():
	case <-node.Done():
		if err := node.Err(); err != nil && !errors.Is(err, raft.ErrStopped) {
			return err
		}
		return node.Err()
	}
	return nil
}
