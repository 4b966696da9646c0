// Package embedded runs a single-member etcd server inside the current
// process (go.etcd.io/etcd/server/v3/embed), listening on 127.0.0.1.
//
// It is real etcd, of the same version as the client that
// [github.com/governor-io/governor/store/etcdkv] uses, so the adapter's
// tests, examples and the quickstart program need nothing installed. A
// [Server] can be stopped and started again on the same data directory and
// ports, which is how the tests check that watches survive an etcd restart.
//
// For production, run an etcd cluster and point etcdkv at it.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/governor-io/governor/store/etcdkv/internal/zapslog"
)

// ErrNotRunning is returned by [Server.Stop] on a server that is not
// running.
var ErrNotRunning = errors.New("embedded: etcd is not running")

// Config configures an embedded etcd.
type Config struct {
	// Dir is the data directory. It is created if missing; a directory
	// that already holds etcd data is reused, history and all. Required.
	Dir string
	// ClientPort and PeerPort are the 127.0.0.1 ports to listen on. Zero
	// picks a free port (once: a restart reuses it).
	ClientPort int
	PeerPort   int
	// Name is the member name. Empty means "governor".
	Name string
	// ProgressNotifyInterval is how often etcd sends progress
	// notifications to idle watches that asked for them. Zero keeps
	// etcd's default (ten minutes). etcd keeps this setting in a
	// process-wide variable: the last server started sets it for every
	// embedded server of the process.
	ProgressNotifyInterval time.Duration
	// CertFile and KeyFile, when set, make etcd serve clients over TLS
	// (https) with this certificate.
	CertFile string
	KeyFile  string
	// ClientCAFile, when set with CertFile, makes etcd require client
	// certificates signed by this CA.
	ClientCAFile string
	// BcryptCost is the cost of hashing user passwords when
	// authentication is on. Zero keeps etcd's default (10); tests may set
	// 4, the minimum, since hashing at the default cost takes seconds
	// under the race detector.
	BcryptCost int
	// Logger receives etcd's error log lines. Nil discards them.
	Logger *slog.Logger
}

// Server is a running (or stopped) embedded etcd.
type Server struct {
	cfg Config

	mu   sync.Mutex
	etcd *embed.Etcd
}

// Start starts an embedded etcd and waits, until ctx is done, for it to
// serve clients.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		return nil, errors.New("embedded: Config.Dir is required")
	}
	if cfg.Name == "" {
		cfg.Name = "governor"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var err error
	if cfg.ClientPort == 0 {
		if cfg.ClientPort, err = freePort(); err != nil {
			return nil, err
		}
	}
	if cfg.PeerPort == 0 {
		if cfg.PeerPort, err = freePort(); err != nil {
			return nil, err
		}
	}
	s := &Server{cfg: cfg}
	if err := s.Start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Start starts a stopped server again, on the same data directory and
// ports. It is a no-op on a running server.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.etcd != nil {
		return nil
	}
	ec := embed.NewConfig()
	ec.Name = s.cfg.Name
	ec.Dir = s.cfg.Dir
	scheme := "http"
	if s.cfg.CertFile != "" {
		scheme = "https"
		ec.ClientTLSInfo.CertFile = s.cfg.CertFile
		ec.ClientTLSInfo.KeyFile = s.cfg.KeyFile
		if s.cfg.ClientCAFile != "" {
			ec.ClientTLSInfo.TrustedCAFile = s.cfg.ClientCAFile
			ec.ClientTLSInfo.ClientCertAuth = true
		}
	}
	client := url.URL{Scheme: scheme, Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.cfg.ClientPort))}
	peer := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.cfg.PeerPort))}
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	ec.InitialClusterToken = "governor-embedded"
	ec.LogLevel = "error"
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zapslog.New(s.cfg.Logger.With("component", "etcd-server")))
	if s.cfg.BcryptCost > 0 {
		ec.BcryptCost = uint(s.cfg.BcryptCost)
	}
	if s.cfg.ProgressNotifyInterval > 0 {
		ec.WatchProgressNotifyInterval = s.cfg.ProgressNotifyInterval
	}
	e, err := embed.StartEtcd(ec)
	if err != nil {
		return fmt.Errorf("embedded: start etcd in %s: %w", s.cfg.Dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return fmt.Errorf("embedded: etcd in %s failed: %w", s.cfg.Dir, err)
	case <-ctx.Done():
		e.Close()
		return fmt.Errorf("embedded: waiting for etcd in %s: %w", s.cfg.Dir, ctx.Err())
	}
	s.etcd = e
	return nil
}

// Endpoint returns the client address, "127.0.0.1:port", to give
// etcdkv.Config.Endpoints (with Config.TLS set if the server serves TLS).
// It stays the same across a restart.
func (s *Server) Endpoint() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.cfg.ClientPort))
}

// Stop stops the server and waits until it has released its ports and its
// data directory. Clients see their connections drop. The data stays, and
// [Server.Start] serves it again. Stop fails with [ErrNotRunning] on a
// stopped server.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.etcd == nil {
		return ErrNotRunning
	}
	s.etcd.Close()
	s.etcd = nil
	return nil
}

// Close stops the server if it is running. It is safe to call more than
// once.
func (s *Server) Close() {
	_ = s.Stop()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("embedded: pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
