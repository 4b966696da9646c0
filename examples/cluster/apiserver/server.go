package apiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
)

// Defaults of [Config].
const (
	DefaultMaxRequestBodyBytes = 3 << 20
	DefaultMinRequestTimeout   = 30 * time.Minute
	DefaultWatchCacheSize      = 4096
	DefaultBookmarkInterval    = time.Minute
	DefaultShutdownTimeout     = 10 * time.Second
	DefaultFreshnessTimeout    = 3 * time.Second
)

// Config configures a [Server]. Only KV is required.
type Config struct {
	// KV holds every object. The Server does not close it.
	KV kv.KV
	// Addr is the address [Server.Run] listens on when Listener is nil,
	// such as "127.0.0.1:8080".
	Addr string
	// Listener, when set, is where [Server.Run] serves.
	Listener net.Listener
	// Logger receives request logs (at debug level; 5xx answers at error)
	// and the watch caches' events. Nil discards them.
	Logger *slog.Logger
	// Clock drives watch timeouts, bookmarks, ages in tables and request
	// durations. Nil means [clock.Real].
	Clock clock.Clock
	// Registerer receives the server's metrics and Gatherer serves
	// /metrics. When both are nil the Server uses a registry of its own;
	// when only Registerer is set and it is a *prometheus.Registry, it
	// serves as Gatherer too.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// MaxRequestBodyBytes limits request bodies; a larger one gets 413.
	// Zero means [DefaultMaxRequestBodyBytes].
	MaxRequestBodyBytes int64
	// MinRequestTimeout is the shortest time a watch without
	// timeoutSeconds stays open; each lasts a random time between it and
	// twice it, as in kube-apiserver. Zero means [DefaultMinRequestTimeout].
	MinRequestTimeout time.Duration
	// WatchCacheSize is the number of recent events each resource's watch
	// cache keeps for watches that start in the past. Zero means
	// [DefaultWatchCacheSize].
	WatchCacheSize int
	// BookmarkInterval is how often watch caches ask the KV for progress,
	// which moves their revision forward on idle resources and becomes a
	// BOOKMARK for watches that allow them. Zero means
	// [DefaultBookmarkInterval].
	BookmarkInterval time.Duration
	// FreshnessTimeout bounds how long a read waits for a watch cache to
	// reach the revision it needs (a consistent read, or NotOlderThan N)
	// before it reads the KV instead, or, for a watch from a revision the
	// cache has not seen, fails with a Timeout. Zero means
	// [DefaultFreshnessTimeout].
	FreshnessTimeout time.Duration
	// ShutdownTimeout bounds how long Run waits for requests in flight
	// when its context ends. Zero means [DefaultShutdownTimeout].
	ShutdownTimeout time.Duration
	// CheckNamespaces turns on Kubernetes' NamespaceLifecycle admission
	// when the core namespaces resource is registered: creating an object
	// in a namespace that does not exist gets 404 (NotFound, naming the
	// namespace), and in one being deleted 403 (Forbidden).
	CheckNamespaces bool
	// Version is what /version reports. The zero value reports
	// [DefaultVersion].
	Version VersionInfo
	// Schemaless are resources served without a schema, keeping every
	// field of their objects (see [SchemalessResource]).
	Schemaless []SchemalessResource
}

// VersionInfo is the body of /version, as Kubernetes' version.Info.
type VersionInfo struct {
	Major        string `json:"major"`
	Minor        string `json:"minor"`
	GitVersion   string `json:"gitVersion"`
	GitCommit    string `json:"gitCommit"`
	GitTreeState string `json:"gitTreeState"`
	BuildDate    string `json:"buildDate"`
	GoVersion    string `json:"goVersion"`
	Compiler     string `json:"compiler"`
	Platform     string `json:"platform"`
}

// DefaultVersion is the version the Server reports: the Kubernetes API it
// speaks, marked as Governor's.
var DefaultVersion = VersionInfo{
	Major: "1", Minor: "37", GitVersion: "v1.37.0-governor", GitCommit: "", GitTreeState: "clean",
	BuildDate: "1970-01-01T00:00:00Z", GoVersion: runtime.Version(), Compiler: runtime.Compiler,
	Platform: runtime.GOOS + "/" + runtime.GOARCH,
}

// Server serves Kubernetes-style API resources kept in a [kv.KV]: add
// each with [Register], then serve [Server.Handler] or call [Server.Run].
// A Server is safe for concurrent use.
type Server struct {
	cfg      Config
	log      *slog.Logger
	clock    clock.Clock
	metrics  *metrics
	gatherer prometheus.Gatherer

	ctx    context.Context // the watch caches' lifetime
	cancel context.CancelFunc
	wg     sync.WaitGroup // watch caches
	// watchStop is closed when the Server shuts down, ending every watch
	// so that graceful shutdown does not wait for them.
	watchStop chan struct{}
	closeOnce sync.Once

	mu        sync.RWMutex
	endpoints map[groupVersionResource]endpoint

	crds *crdController // set by InstallCustomResources
}

type groupVersionResource struct{ group, version, resource string }

// endpoint is one registered resource, whatever its Go type.
type endpoint interface {
	desc() resourceDesc
	serve(w http.ResponseWriter, r *http.Request, ri *requestInfo, neg negotiation) error
	synced() bool
	loaded() <-chan struct{}
}

// resourceDesc is what discovery says about a resource.
type resourceDesc struct {
	group, version, kind, resource, singular string
	namespaced                               bool
	shortNames, categories, subresources     []string
}

// New returns a Server over cfg.KV with no resources yet.
func New(cfg Config) (*Server, error) {
	if cfg.KV == nil {
		return nil, errors.New("apiserver: Config.KV is required")
	}
	if cfg.MaxRequestBodyBytes <= 0 {
		cfg.MaxRequestBodyBytes = DefaultMaxRequestBodyBytes
	}
	if cfg.MinRequestTimeout <= 0 {
		cfg.MinRequestTimeout = DefaultMinRequestTimeout
	}
	if cfg.WatchCacheSize <= 0 {
		cfg.WatchCacheSize = DefaultWatchCacheSize
	}
	if cfg.BookmarkInterval <= 0 {
		cfg.BookmarkInterval = DefaultBookmarkInterval
	}
	if cfg.FreshnessTimeout <= 0 {
		cfg.FreshnessTimeout = DefaultFreshnessTimeout
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.Version == (VersionInfo{}) {
		cfg.Version = DefaultVersion
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger,
		clock:     clock.OrReal(cfg.Clock),
		watchStop: make(chan struct{}),
		endpoints: map[groupVersionResource]endpoint{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	reg, gat := cfg.Registerer, cfg.Gatherer
	if reg == nil && gat == nil {
		r := prometheus.NewRegistry()
		reg, gat = r, r
	} else if gat == nil {
		if r, ok := reg.(*prometheus.Registry); ok {
			gat = r
		} else {
			gat = prometheus.NewRegistry()
		}
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	s.metrics, s.gatherer = m, gat
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.installSchemaless(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) add(gvr groupVersionResource, e endpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return errors.New("apiserver: the server is closed")
	}
	if _, ok := s.endpoints[gvr]; ok {
		return fmt.Errorf("apiserver: %s/%s %s is already registered", gvr.group, gvr.version, gvr.resource)
	}
	s.endpoints[gvr] = e
	return nil
}

// remove takes the resource gvr off s, from discovery and from the
// requests that start after it returns, and returns its endpoint, or nil
// if it is not registered.
func (s *Server) remove(gvr groupVersionResource) endpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.endpoints[gvr]
	delete(s.endpoints, gvr)
	return e
}

func (s *Server) lookup(group, version, resource string) endpoint {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.endpoints[groupVersionResource{group, version, resource}]
}

// descs returns what discovery lists, sorted by group, version, resource.
func (s *Server) descs() []resourceDesc {
	s.mu.RLock()
	out := make([]resourceDesc, 0, len(s.endpoints))
	for _, e := range s.endpoints {
		out = append(out, e.desc())
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b resourceDesc) int {
		return strings.Compare(a.group+"/"+a.version+"/"+a.resource, b.group+"/"+b.version+"/"+b.resource)
	})
	return out
}

// Ready reports whether every registered resource's watch cache has
// loaded; /readyz answers 200 only then.
func (s *Server) Ready() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, e := range s.endpoints {
		if !e.synced() {
			return false
		}
	}
	return true
}

// WaitReady waits until every resource registered so far has loaded its
// watch cache, or ctx is done.
func (s *Server) WaitReady(ctx context.Context) error {
	s.mu.RLock()
	chans := make([]<-chan struct{}, 0, len(s.endpoints))
	for _, e := range s.endpoints {
		chans = append(chans, e.loaded())
	}
	s.mu.RUnlock()
	for _, c := range chans {
		select {
		case <-c:
		case <-ctx.Done():
			return fmt.Errorf("apiserver: waiting for the watch caches: %w", ctx.Err())
		}
	}
	return nil
}

// Handler returns the Server's HTTP handler: the API, discovery,
// /openapi/v2, /version, /healthz, /livez, /readyz and /metrics.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Close ends every watch and stops the watch caches. Requests after Close
// fail with ServiceUnavailable; it does not close the KV.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.watchStop)
		s.mu.Lock()
		s.cancel()
		s.mu.Unlock()
		s.wg.Wait()
	})
	return nil
}

// Run serves on Config.Listener (or a listener on Config.Addr) until ctx
// is done, then shuts down gracefully: it ends the watches, waits up to
// Config.ShutdownTimeout for the other requests in flight, and closes the
// Server. It returns nil after a shutdown that ctx asked for.
func (s *Server) Run(ctx context.Context) error {
	ln := s.cfg.Listener
	if ln == nil {
		addr := s.cfg.Addr
		if addr == "" {
			addr = "127.0.0.1:8080"
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("apiserver: listen: %w", err)
		}
		ln = l
	}
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.log.Info("apiserver: serving", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		_ = s.Close()
		return fmt.Errorf("apiserver: serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("apiserver: shutting down")
	s.closeOnce.Do(func() { close(s.watchStop) }) // watches end first
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("apiserver: shutdown: %w", err), hs.Close())
	}
	<-errc
	s.mu.Lock()
	s.cancel()
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// serveHTTP routes a request.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/apis/") || path == "/api" || path == "/apis":
		s.serveAPI(w, r)
		return
	}
	rec := &recorder{ResponseWriter: w}
	start := s.clock.Now()
	s.serveNonResource(rec, r)
	s.observe(r, &requestInfo{verb: methodVerb(r.Method)}, rec.code(), start, false)
}

// methodVerb is the verb label of a request that is not for a resource:
// the method, or "other" for a method HTTP does not define.
func methodVerb(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return strings.ToLower(method)
	}
	return "other"
}

func (s *Server) serveNonResource(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeStatus(w, errMethodNotAllowed(r.Method))
		return
	}
	switch r.URL.Path {
	case "/healthz", "/livez":
		writeText(w, http.StatusOK, "ok")
	case "/readyz":
		if s.ctx.Err() != nil {
			writeText(w, http.StatusServiceUnavailable, "shutting down")
		} else if !s.Ready() {
			writeText(w, http.StatusServiceUnavailable, "watch caches are loading")
		} else {
			writeText(w, http.StatusOK, "ok")
		}
	case "/metrics":
		promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	case "/version":
		writeJSON(w, http.StatusOK, s.cfg.Version)
	case "/openapi/v2", "/swagger-2.0.0.pb-v1":
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(openAPIDocument(s.cfg.Version.GitVersion))
	default:
		writeStatus(w, errNotFoundPath())
	}
}

func writeText(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg))
}

// serveAPI serves discovery and resource requests under /api and /apis.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	ri := &requestInfo{}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var rest []string
	switch {
	case parts[0] == "api" && len(parts) == 1:
		s.discovery(w, r, func() any { return s.apiVersions(r) })
		return
	case parts[0] == "apis" && len(parts) == 1:
		s.discovery(w, r, func() any { return s.apiGroupList() })
		return
	case parts[0] == "api":
		ri.version, rest = parts[1], parts[2:]
	case len(parts) == 2:
		s.discovery(w, r, func() any {
			g, ok := s.apiGroup(parts[1])
			if !ok {
				return nil
			}
			return g
		})
		return
	default:
		ri.group, ri.version, rest = parts[1], parts[2], parts[3:]
	}
	if len(rest) == 0 {
		s.discovery(w, r, func() any {
			l, ok := s.resourceList(ri.group, ri.version)
			if !ok {
				return nil
			}
			return l
		})
		return
	}
	rec := &recorder{ResponseWriter: w}
	start := s.clock.Now()
	var ep endpoint
	if !parseResourcePath(ri, rest) {
		writeStatus(rec, errNotFoundPath())
	} else if ep = s.lookup(ri.group, ri.version, ri.resource); ep == nil {
		writeStatus(rec, errNotFoundPath())
	} else if verb, err := verbOf(r, ri); err != nil {
		writeStatus(rec, err)
	} else {
		ri.verb = verb
		s.serveResource(rec, r, ri, ep, start)
		return
	}
	// A path that names no resource is counted without its segments,
	// which are the client's to choose: labels stay few and valid.
	s.observe(r, &requestInfo{verb: methodVerb(r.Method)}, rec.code(), start, false)
}

func (s *Server) serveResource(w *recorder, r *http.Request, ri *requestInfo, ep endpoint, start time.Time) {
	long := ri.verb == "watch"
	kind := "readOnly"
	switch ri.verb {
	case "create", "update", "patch", "delete", "deletecollection":
		kind = "mutating"
	}
	inflight := s.metrics.inflight.WithLabelValues(kind)
	inflight.Inc()
	defer inflight.Dec()
	if long {
		g := s.metrics.longrunning.WithLabelValues(s.metrics.labels(ri)...)
		g.Inc()
		defer g.Dec()
	}
	if s.ctx.Err() != nil {
		writeStatus(w, meta.NewServiceUnavailable("the server is shutting down"))
	} else if neg, err := negotiate(r); err != nil {
		writeStatus(w, err)
	} else if err := ep.serve(w, r, ri, neg); err != nil {
		if w.wrote {
			s.log.Warn("apiserver: error after the response started", "path", r.URL.Path, "err", err)
		} else {
			writeStatus(w, err)
		}
	}
	s.observe(r, ri, w.code(), start, long)
}

// discovery answers a discovery GET with body(), or 404 when it is nil.
func (s *Server) discovery(w http.ResponseWriter, r *http.Request, body func() any) {
	rec := &recorder{ResponseWriter: w}
	start := s.clock.Now()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeStatus(rec, errMethodNotAllowed(r.Method))
	} else if b := body(); b == nil {
		writeStatus(rec, errNotFoundPath())
	} else {
		writeJSON(rec, http.StatusOK, b)
	}
	s.observe(r, &requestInfo{verb: "get"}, rec.code(), start, false)
}

// observe records a finished request's metrics and log line.
func (s *Server) observe(r *http.Request, ri *requestInfo, code int, start time.Time, long bool) {
	d := s.clock.Since(start)
	labels := s.metrics.labels(ri)
	s.metrics.requests.WithLabelValues(append(labels, fmt.Sprint(code))...).Inc()
	if !long {
		s.metrics.duration.WithLabelValues(labels...).Observe(d.Seconds())
	}
	level := slog.LevelDebug
	if code >= 500 {
		level = slog.LevelError
	}
	s.log.Log(r.Context(), level, "apiserver: request", "verb", labels[0], "uri", r.URL.RequestURI(),
		"code", code, "duration", d, "userAgent", r.UserAgent(), "remote", r.RemoteAddr)
}

// recorder remembers the status code a handler wrote, and passes Flush
// through for watches.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	return r.ResponseWriter.Write(p)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) code() int {
	if !r.wrote {
		return http.StatusOK
	}
	return r.status
}
