// Command quickstart runs Governor's quickstart demo (a manager with leader
// election and a ReplicaSet-like controller, see
// github.com/governor-io/governor/examples/quickstart) with its store on
// etcd instead of the in-memory engine. Nothing in the controller changes:
// only the kv.KV under the stores does.
//
// With no flags it starts an embedded etcd (real etcd 3.7, in this
// process, data in a temporary directory) and runs the demo on it:
//
//	cd store/etcdkv && go run ./examples/quickstart
//
// Point it at a running cluster with -etcd (comma-separated endpoints),
// and TLS and credentials if the cluster needs them:
//
//	go run ./examples/quickstart -etcd 127.0.0.1:2379
//	go run ./examples/quickstart -etcd https://etcd-0:2379 -cacert ca.pem -cert client.pem -key client-key.pem -user governor
//
// The password is read from $ETCD_PASSWORD. Keys go under -prefix
// (default /governor-quickstart), so the demo can share a cluster.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/governor-io/governor/examples/quickstart/replicaset"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store/etcdkv"
	"github.com/governor-io/governor/store/etcdkv/embedded"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run parses args and runs the demo, printing to out.
func run(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(errOut)
	endpoints := fs.String("etcd", "", "comma-separated etcd endpoints (\"\": start an embedded etcd)")
	useEmbedded := fs.Bool("embedded-etcd", false, "start an embedded etcd even if -etcd is set (the default when it is not)")
	dataDir := fs.String("data-dir", "", "data directory of the embedded etcd (\"\": a temporary one, removed on exit)")
	prefix := fs.String("prefix", "/governor-quickstart", "key prefix in etcd")
	caFile := fs.String("cacert", "", "CA bundle that signs the etcd servers' certificates (enables TLS)")
	certFile := fs.String("cert", "", "client certificate for etcd (with -key)")
	keyFile := fs.String("key", "", "client key for etcd (with -cert)")
	user := fs.String("user", "", "etcd user name; the password comes from $ETCD_PASSWORD")
	addr := fs.String("addr", "", "serve /metrics, /healthz and /readyz on this address (\"\": off)")
	verbose := fs.Bool("v", false, "log etcd's and the adapter's warnings to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if *verbose {
		logger = slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}

	cfg := etcdkv.Config{Prefix: *prefix, Logger: logger, Username: *user, Password: os.Getenv("ETCD_PASSWORD")}
	if *endpoints == "" || *useEmbedded {
		dir := *dataDir
		if dir == "" {
			tmp, err := os.MkdirTemp("", "governor-quickstart-etcd-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			dir = tmp
		}
		startCtx, cancel := context.WithTimeout(ctx, time.Minute)
		srv, err := embedded.Start(startCtx, embedded.Config{Dir: dir, Logger: logger})
		cancel()
		if err != nil {
			return err
		}
		defer srv.Close()
		fmt.Fprintf(out, "store: embedded etcd on %s (data in %s)\n", srv.Endpoint(), dir)
		cfg.Endpoints = []string{srv.Endpoint()}
	} else {
		cfg.Endpoints = strings.Split(*endpoints, ",")
		fmt.Fprintf(out, "store: etcd at %s\n", *endpoints)
	}
	if *caFile != "" || *certFile != "" {
		tc, err := tlsConfig(*caFile, *certFile, *keyFile)
		if err != nil {
			return err
		}
		cfg.TLS = tc
	}

	backend, err := etcdkv.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer backend.Close()
	fmt.Fprintf(out, "keys under %q\n", *prefix)
	return replicaset.RunWith(ctx, backend, out, reconcile.ManagerOptions{Addr: *addr, Logger: logger})
}

func tlsConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificate in %s", caFile)
		}
	}
	if certFile != "" || keyFile != "" {
		if certFile == "" || keyFile == "" {
			return nil, errors.New("-cert and -key go together")
		}
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
