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
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/governor-io/governor/examples/cluster/api/corev1"
	"github.com/governor-io/governor/examples/cluster/apiserver"
	"github.com/governor-io/governor/raft"
	raftprom "github.com/governor-io/governor/raft/prommetrics"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/etcdkv"
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
		listen     = fs.String("listen", "127.0.0.1:8080", "address to serve the API on (plain HTTP, or HTTPS with -tls-cert-file)")
		tlsCert    = fs.String("tls-cert-file", "", "PEM certificate (chain) to serve HTTPS with (HTTP/2 and HTTP/1.1); needs -tls-private-key-file")
		tlsKey     = fs.String("tls-private-key-file", "", "PEM private key of -tls-cert-file")
		storage    = fs.String("storage", "raft", "where objects live: raft (an embedded Raft KV member in -data-dir, alone unless -raft-cluster), etcd (the cluster at -etcd-servers) or memory")
		dataDir    = fs.String("data-dir", "governor.data", "directory of the Raft KV's data and the kubeconfig written")
		kubeconfig = fs.String("kubeconfig", "", "where to write a kubeconfig for this server (default: <data-dir>/kubeconfig)")
		logLevel   = fs.String("log", "info", "log level: debug (every request), info, warn, error")
		maxBody    = fs.Int64("max-request-body-bytes", apiserver.DefaultMaxRequestBodyBytes, "largest request body accepted")
		schemaless []apiserver.SchemalessResource
		raftID     = fs.Uint64("raft-id", 1, "with -storage raft: this member's ID in -raft-cluster")
		raftPeer   = fs.String("raft-peer", "127.0.0.1:0", "with -storage raft: the peer address to listen on (default: this member's in -raft-cluster)")
		cluster    = fs.String("raft-cluster", "", "with -storage raft: the founding members, id=host:port,... (default: this member alone); run one API server per member, each with its own -data-dir")
		etcd       etcdFlags
	)
	fs.StringVar(&etcd.servers, "etcd-servers", "", "with -storage etcd: the etcd members' client URLs, comma-separated (https://host:2379 or host:2379)")
	fs.StringVar(&etcd.prefix, "etcd-prefix", "", "with -storage etcd: a prefix for every key, so that installations can share one etcd (keys are /registry/RESOURCE/..., as kube-apiserver's; with -etcd-prefix /a, /a/registry/RESOURCE/...)")
	fs.StringVar(&etcd.caFile, "etcd-cafile", "", "with -storage etcd: PEM CA bundle that verifies etcd's serving certificates (turns TLS on)")
	fs.StringVar(&etcd.certFile, "etcd-certfile", "", "with -storage etcd: PEM client certificate for etcd (turns TLS on); needs -etcd-keyfile")
	fs.StringVar(&etcd.keyFile, "etcd-keyfile", "", "with -storage etcd: PEM private key of -etcd-certfile")
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
	var tlsConfig *tls.Config
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("-tls-cert-file and -tls-private-key-file go together")
	}
	if *tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return fmt.Errorf("load the TLS key pair: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}, MinVersion: tls.VersionTLS12}
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
		var members []raft.Member
		if *cluster != "" {
			ms, err := parseCluster(*cluster)
			if err != nil {
				return err
			}
			members = ms
		}
		node, err := openRaft(ctx, raftOptions{dir: filepath.Join(*dataDir, "raft"), id: *raftID, peer: *raftPeer, members: members}, log, reg)
		if err != nil {
			return err
		}
		backend = node
	case "etcd":
		k, err := openEtcd(ctx, etcd, log)
		if err != nil {
			return err
		}
		backend = k
	default:
		return fmt.Errorf("unknown -storage %q: want raft, etcd or memory", *storage)
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
	server := "http://" + ln.Addr().String()
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
		server = "https://" + ln.Addr().String()
	}
	srv, err := apiserver.New(apiserver.Config{KV: backend, Listener: ln, Logger: log, Registerer: reg,
		MaxRequestBodyBytes: *maxBody, Schemaless: schemaless, CheckNamespaces: true})
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
	path := *kubeconfig
	if path == "" {
		path = filepath.Join(*dataDir, "kubeconfig")
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	ca := ""
	if *tlsCert != "" {
		if ca, err = filepath.Abs(*tlsCert); err != nil {
			ca = *tlsCert
		}
	}
	if err := writeKubeconfig(path, server, ca); err != nil {
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

// raftOptions say which member of which cluster to run.
type raftOptions struct {
	dir     string
	id      uint64
	peer    string        // listen address
	members []raft.Member // nil: this member alone
}

// openRaft starts (or restarts, from its directory) a member of a Raft KV:
// alone, or one of the founding members listed.
func openRaft(ctx context.Context, o raftOptions, log *slog.Logger, reg prometheus.Registerer) (*raft.Node, error) {
	met, err := raftprom.New(reg)
	if err != nil {
		return nil, err
	}
	listen := o.peer
	for _, m := range o.members {
		if m.ID == o.id && (listen == "" || listen == "127.0.0.1:0") {
			listen = m.PeerAddr
		}
	}
	tr, err := raft.NewTCPTransport(raft.TCPConfig{ID: o.id, ListenAddr: listen, Logger: log, Metrics: met})
	if err != nil {
		return nil, err
	}
	members := o.members
	if members == nil {
		members = []raft.Member{{ID: o.id, PeerAddr: tr.Addr()}}
	}
	node, err := raft.Open(ctx, raft.Config{
		ID: o.id, Dir: o.dir, Transport: tr, Logger: log, Metrics: met,
		InitialCluster: members,
	})
	if err != nil {
		tr.Close()
		return nil, err
	}
	return node, nil
}

// etcdFlags say which etcd cluster to keep objects in, and how to reach it.
type etcdFlags struct {
	servers, prefix           string
	caFile, certFile, keyFile string
}

// openEtcd connects to the etcd cluster that f names and checks that it
// answers.
func openEtcd(ctx context.Context, f etcdFlags, log *slog.Logger) (*etcdkv.KV, error) {
	var endpoints []string
	for _, e := range strings.Split(f.servers, ",") {
		if e = strings.TrimSpace(e); e != "" {
			endpoints = append(endpoints, e)
		}
	}
	if len(endpoints) == 0 {
		return nil, errors.New("-storage etcd needs -etcd-servers")
	}
	if (f.certFile == "") != (f.keyFile == "") {
		return nil, errors.New("-etcd-certfile and -etcd-keyfile go together")
	}
	var tlsConfig *tls.Config
	if f.caFile != "" || f.certFile != "" {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		if f.caFile != "" {
			pem, err := os.ReadFile(f.caFile)
			if err != nil {
				return nil, fmt.Errorf("read -etcd-cafile: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("-etcd-cafile %s holds no PEM certificate", f.caFile)
			}
			tlsConfig.RootCAs = pool
		}
		if f.certFile != "" {
			cert, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
			if err != nil {
				return nil, fmt.Errorf("load the etcd client key pair: %w", err)
			}
			tlsConfig.Certificates = []tls.Certificate{cert}
		}
	}
	k, err := etcdkv.New(ctx, etcdkv.Config{Endpoints: endpoints, TLS: tlsConfig, Prefix: strings.TrimSuffix(f.prefix, "/"), Logger: log})
	if err != nil {
		return nil, fmt.Errorf("connect to etcd: %w", err)
	}
	return k, nil
}

// parseCluster parses "id=peer,...".
func parseCluster(s string) ([]raft.Member, error) {
	var out []raft.Member
	for _, part := range strings.Split(s, ",") {
		id, peer, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.ParseUint(id, 10, 64)
		if !ok || err != nil || n == 0 || peer == "" {
			return nil, fmt.Errorf("bad -raft-cluster entry %q: want id=host:port with a non-zero id", part)
		}
		out = append(out, raft.Member{ID: n, PeerAddr: peer})
	}
	return out, nil
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
// server (no credentials). When ca is set (HTTPS), the cluster names it as
// its certificate authority: the server's own certificate file, which
// verifies a self-signed certificate.
func writeKubeconfig(path, server, ca string) error {
	caLine := ""
	if ca != "" {
		caLine = "\n    certificate-authority: " + ca
	}
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: governor
  cluster:
    server: %s%s
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
`, server, caLine)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(cfg), 0o600)
}
