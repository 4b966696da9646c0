// Command quickstart is Governor's demo: an embedded in-memory store, a
// manager with leader election, and a ReplicaSet-like controller that
// creates and deletes child pods to match a replica count, with owner
// references, status updates and a finalizer. It prints what it does, runs
// a short script and exits 0; Ctrl-C stops it cleanly at any point.
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart -addr 127.0.0.1:8080   # also serve /metrics, /healthz, /readyz
//	go run ./examples/quickstart -keep-running          # ... and keep serving after the demo, until Ctrl-C
//
// With -keep-running and no -addr it serves on a free port of 127.0.0.1
// and prints the metrics URL.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/governor-io/governor/examples/quickstart/replicaset"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store/mvcc"
)

func main() {
	addr := flag.String("addr", "", "serve /metrics, /healthz and /readyz on this address (\"\": off, unless -keep-running)")
	keep := flag.Bool("keep-running", false, "keep the manager running after the demo, serving /metrics, until Ctrl-C")
	flag.Parse()
	if *keep && *addr == "" {
		*addr = "127.0.0.1:0"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	ro := replicaset.RunOptions{Manager: reconcile.ManagerOptions{Addr: *addr}, KeepRunning: *keep}
	if err := replicaset.RunWithOptions(ctx, engine, os.Stdout, ro); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}
