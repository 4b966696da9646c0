package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/governor-io/governor/examples/cluster/api/corev1"
	"github.com/governor-io/governor/examples/cluster/apiserver"
	"github.com/governor-io/governor/raft"
	raftprom "github.com/governor-io/governor/raft/prommetrics"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
	"github.com/governor-io/governor/store/mvcc/prommetrics"
)

// initialNamespaces are the namespaces Kubernetes creates at start-up.
var initialNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

// runAPIServer runs the API server until ctx is done.
func runAPIServer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("governor apiserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		listen     = fs.String("listen", "127.0.0.1:8080", "address to serve the API on (plain HTTP)")
		storage    = fs.String("storage", "raft", "where objects live: raft (an embedded single-member Raft KV in -data-dir) or memory")
		dataDir    = fs.String("data-dir", "governor.data", "directory of the Raft KV's data and the kubeconfig written")
		kubeconfig = fs.String("kubeconfig", "", "where to write a kubeconfig for this server (default: <data-dir>/kubeconfig)")
		logLevel   = fs.String("log", "info", "log level: debug (every request), info, warn, error")
		maxBody    = fs.Int64("max-request-body-bytes", apiserver.DefaultMaxRequestBodyBytes, "largest request body accepted")
		schemaless []apiserver.SchemalessResource
	)
	fs.Func("schemaless-resource", "serve GROUP/VERSION/RESOURCE[:KIND][:Cluster] without a schema, keeping every field (repeatable), for informers of resources Governor does not model", func(v string) error {
		r, err := apiserver.ParseSchemalessResource(v)
		if err != nil {
			return err
		}
		schemaless = append(schemaless, r)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	var backend kv.KV
	switch *storage {
	case "memory":
		e, err := mvcc.Open(mvcc.Options{Metrics: prommetrics.New(reg), Logger: log, AutoCompactAge: 5 * time.Minute})
		if err != nil {
			return err
		}
		backend = e
	case "raft":
		node, err := openRaft(ctx, filepath.Join(*dataDir, "raft"), log, reg)
		if err != nil {
			return err
		}
		backend = node
	default:
		return fmt.Errorf("unknown -storage %q: want raft or memory", *storage)
	}
	defer func() {
		if err := backend.Close(); err != nil && !errors.Is(err, kv.ErrClosed) {
			log.Warn("governor: close the KV", "err", err)
		}
	}()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv, err := apiserver.New(apiserver.Config{KV: backend, Listener: ln, Logger: log, Registerer: reg,
		MaxRequestBodyBytes: *maxBody, Schemaless: schemaless})
	if err != nil {
		ln.Close()
		return err
	}
	if err := apiserver.InstallBuiltins(srv); err != nil {
		ln.Close()
		srv.Close()
		return err
	}
	if err := createNamespaces(ctx, backend); err != nil {
		ln.Close()
		srv.Close()
		return err
	}
	server := "http://" + ln.Addr().String()
	path := *kubeconfig
	if path == "" {
		path = filepath.Join(*dataDir, "kubeconfig")
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if err := writeKubeconfig(path, server); err != nil {
		ln.Close()
		srv.Close()
		return err
	}
	fmt.Fprintf(stdout, "governor apiserver: serving %s (storage: %s, data: %s)\n", server, *storage, *dataDir)
	fmt.Fprintf(stdout, "point kubectl at it with:\n  export KUBECONFIG=%s\n  kubectl get pods -A\n", path)
	err = srv.Run(ctx)
	log.Info("governor apiserver: stopped")
	return err
}

// openRaft starts (or restarts, from dir) a single-member Raft KV.
func openRaft(ctx context.Context, dir string, log *slog.Logger, reg prometheus.Registerer) (*raft.Node, error) {
	met, err := raftprom.New(reg)
	if err != nil {
		return nil, err
	}
	tr, err := raft.NewTCPTransport(raft.TCPConfig{ID: 1, ListenAddr: "127.0.0.1:0", Logger: log, Metrics: met})
	if err != nil {
		return nil, err
	}
	node, err := raft.Open(ctx, raft.Config{
		ID: 1, Dir: dir, Transport: tr, Logger: log, Metrics: met,
		InitialCluster: []raft.Member{{ID: 1, PeerAddr: tr.Addr()}},
	})
	if err != nil {
		tr.Close()
		return nil, err
	}
	return node, nil
}

// createNamespaces creates the namespaces Kubernetes starts with, if they
// are missing.
func createNamespaces(ctx context.Context, k kv.KV) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	namespaces := store.New(k, corev1.Namespaces.StoreResource())
	for _, name := range initialNamespaces {
		ns := corev1.Namespaces.New()
		ns.Name = name
		if corev1.Namespaces.Default != nil {
			corev1.Namespaces.Default(ns)
		}
		if _, err := namespaces.Create(ctx, ns); err != nil && !errors.Is(err, meta.ErrAlreadyExists) {
			return fmt.Errorf("create namespace %s: %w", name, err)
		}
	}
	return nil
}

// writeKubeconfig writes a kubeconfig whose current context is this
// server, over plain HTTP (no credentials).
func writeKubeconfig(path, server string) error {
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: governor
  cluster:
    server: %s
users:
- name: governor
  user: {}
contexts:
- name: governor
  context:
    cluster: governor
    user: governor
    namespace: default
current-context: governor
`, server)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(cfg), 0o600)
}
