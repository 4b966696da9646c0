package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/governor-io/governor/clock"
)

// Defaults of a [Config]. client-go's 5 requests/s with a burst of 10 are
// too low for a control plane's own components: a scheduler binds hundreds
// of pods a second, and a node agent reports status for every pod it runs.
// 50/100 are kube-scheduler's defaults, high enough for them while still
// keeping a runaway loop from flooding the API server.
const (
	DefaultQPS        = 50
	DefaultBurst      = 100
	DefaultTimeout    = 30 * time.Second
	DefaultMaxRetries = 5
)

// ErrConfig reports a [Config] that [New] cannot use. It wraps the reason.
var ErrConfig = errors.New("client: invalid config")

// Config says how to reach an API server and how to behave towards it. The
// zero value of every field but Host is a sensible default. Build one by
// hand, with [LoadKubeconfig], or with [Config.BindFlags].
type Config struct {
	// Host is the API server's URL, such as "https://127.0.0.1:6443". A
	// bare "host:port" means https. A path ("https://lb/cluster-a") is
	// prefixed to every request.
	Host string
	// Namespace is the namespace of the kubeconfig context the Config was
	// loaded from. The client itself does not use it (every call names
	// its namespace); it is the default for components that take one.
	Namespace string
	// TLS configures the server's certificate authority and the client's
	// certificate.
	TLS TLSConfig
	// BearerToken, when set, is sent as "Authorization: Bearer ...".
	// BearerTokenFile names a file to read it from at [New] instead. As
	// kubectl does, the token is sent only over TLS: over plain http it is
	// dropped, with a warning, so that it never travels in clear.
	BearerToken     string
	BearerTokenFile string
	// QPS and Burst bound the rate of requests, with a token bucket that
	// holds Burst tokens and refills at QPS. Zero means DefaultQPS and
	// DefaultBurst; a negative QPS means no limit.
	QPS   float64
	Burst int
	// Timeout bounds each call (every attempt and the waits between them)
	// whose context has no earlier deadline, and how long a watch may take
	// to start streaming. Zero means DefaultTimeout.
	Timeout time.Duration
	// UserAgent is sent with every request. Empty means
	// "<binary> (<os>/<arch>) governor-client".
	UserAgent string
	// MaxRetries bounds the retries of one call: zero means
	// DefaultMaxRetries, a negative value means none.
	MaxRetries int
	// Backoff spaces retries. Its zero value is [DefaultBackoff].
	Backoff Backoff
	// Transport, if set, carries requests instead of a transport built
	// from TLS (a test's, or one that wraps another).
	Transport http.RoundTripper
	// Metrics, if set, receives client-go's rest_client_* metrics; see
	// package prommetrics. nil means none.
	Metrics MetricsProvider
	// Logger receives retries and warnings. nil means slog.Default().
	Logger *slog.Logger
	// Clock times retries, rate limiting and request durations. nil means
	// the wall clock; tests pass a fake.
	Clock clock.Clock
}

// TLSConfig holds the certificates of a [Config]. Each *Data field, when
// set, takes precedence over the matching file.
type TLSConfig struct {
	// CAFile and CAData hold PEM certificates of the authorities that sign
	// the server's certificate. Empty means the system's roots.
	CAFile string
	CAData []byte
	// CertFile/KeyFile and CertData/KeyData hold the client's PEM
	// certificate and key, which authenticate it to the server.
	CertFile string
	KeyFile  string
	CertData []byte
	KeyData  []byte
	// ServerName overrides the name checked against the server's
	// certificate.
	ServerName string
	// Insecure skips verifying the server's certificate. For tests only.
	Insecure bool
}

// BindFlags registers flags on fs that fill c: -kubeconfig and -context
// (read by [Config.Complete]), -server, -certificate-authority,
// -client-certificate, -client-key, -token, -insecure-skip-tls-verify,
// -kube-api-qps, -kube-api-burst, -request-timeout and -user-agent. Values
// already in c are the flags' defaults.
func (c *Config) BindFlags(fs *flag.FlagSet) *FlagValues {
	v := &FlagValues{cfg: c}
	fs.StringVar(&v.Kubeconfig, "kubeconfig", "", "path to a kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
	fs.StringVar(&v.Context, "context", "", "kubeconfig context to use (default: its current-context)")
	fs.StringVar(&c.Host, "server", c.Host, "API server URL; overrides the kubeconfig's")
	fs.StringVar(&c.TLS.CAFile, "certificate-authority", c.TLS.CAFile, "PEM file of the CA that signs the server's certificate")
	fs.StringVar(&c.TLS.CertFile, "client-certificate", c.TLS.CertFile, "PEM file of the client certificate")
	fs.StringVar(&c.TLS.KeyFile, "client-key", c.TLS.KeyFile, "PEM file of the client key")
	fs.StringVar(&c.BearerToken, "token", c.BearerToken, "bearer token (sent only over TLS)")
	fs.BoolVar(&c.TLS.Insecure, "insecure-skip-tls-verify", c.TLS.Insecure, "do not verify the server's certificate (tests only)")
	fs.Float64Var(&c.QPS, "kube-api-qps", c.QPS, fmt.Sprintf("requests per second to the API server (0: %d, <0: no limit)", DefaultQPS))
	fs.IntVar(&c.Burst, "kube-api-burst", c.Burst, fmt.Sprintf("burst of requests above -kube-api-qps (0: %d)", DefaultBurst))
	fs.DurationVar(&c.Timeout, "request-timeout", c.Timeout, fmt.Sprintf("bound of each request (0: %s)", DefaultTimeout))
	fs.StringVar(&c.UserAgent, "user-agent", c.UserAgent, "User-Agent header")
	return v
}

// FlagValues are the flags [Config.BindFlags] registers that name a
// kubeconfig rather than fill the Config directly.
type FlagValues struct {
	Kubeconfig string
	Context    string
	cfg        *Config
}

// Complete fills the Config the flags were bound to: when -kubeconfig is
// given, or -server is not, it loads the kubeconfig ([LoadKubeconfig]) and
// lets every flag that was set on the command line override what the file
// says. fs is the FlagSet the flags were bound to, already parsed.
func (v *FlagValues) Complete(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if v.Kubeconfig == "" && set["server"] && !set["context"] {
		return nil // flags alone
	}
	fromFile, err := LoadKubeconfig(v.Kubeconfig, v.Context)
	if err != nil {
		return err
	}
	c := v.cfg
	// Flags set on the command line win; everything else comes from the
	// file, and the non-kubeconfig knobs keep the flags' values.
	pick := func(name string, flagVal, fileVal string) string {
		if set[name] {
			return flagVal
		}
		return fileVal
	}
	host := pick("server", c.Host, fromFile.Host)
	token := pick("token", c.BearerToken, fromFile.BearerToken)
	insecure := fromFile.TLS.Insecure
	if set["insecure-skip-tls-verify"] {
		insecure = c.TLS.Insecure
	}
	tlsc := fromFile.TLS
	if set["certificate-authority"] {
		tlsc.CAFile, tlsc.CAData = c.TLS.CAFile, nil
	}
	if set["client-certificate"] || set["client-key"] {
		tlsc.CertFile, tlsc.KeyFile, tlsc.CertData, tlsc.KeyData = c.TLS.CertFile, c.TLS.KeyFile, nil, nil
	}
	tlsc.Insecure = insecure
	c.Host, c.BearerToken, c.TLS = host, token, tlsc
	if !set["token"] {
		c.BearerTokenFile = fromFile.BearerTokenFile
	}
	return nil
}

// defaultUserAgent is "<binary> (<os>/<arch>) governor-client".
func defaultUserAgent() string {
	bin := "governor"
	if len(os.Args) > 0 && os.Args[0] != "" {
		bin = filepath.Base(os.Args[0])
	}
	return fmt.Sprintf("%s (%s/%s) governor-client", bin, runtime.GOOS, runtime.GOARCH)
}

// parseHost turns Host into a base URL.
func parseHost(host string) (*url.URL, error) {
	if host == "" {
		return nil, fmt.Errorf("%w: no host", ErrConfig)
	}
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	u, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("%w: host %q: %w", ErrConfig, host, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: host %q: scheme must be http or https", ErrConfig, host)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w: host %q has no host name", ErrConfig, host)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: host %q must not have a query or fragment", ErrConfig, host)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// tlsConfig builds the crypto/tls config of t.
func (t TLSConfig) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.Insecure}
	ca := t.CAData
	if len(ca) == 0 && t.CAFile != "" {
		b, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: read CA: %w", ErrConfig, err)
		}
		ca = b
	}
	if len(ca) > 0 {
		if t.Insecure {
			return nil, fmt.Errorf("%w: a CA and insecure-skip-tls-verify exclude each other", ErrConfig)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("%w: CA holds no PEM certificate", ErrConfig)
		}
		cfg.RootCAs = pool
	}
	cert, key := t.CertData, t.KeyData
	if len(cert) == 0 && t.CertFile != "" {
		b, err := os.ReadFile(t.CertFile)
		if err != nil {
			return nil, fmt.Errorf("%w: read client certificate: %w", ErrConfig, err)
		}
		cert = b
	}
	if len(key) == 0 && t.KeyFile != "" {
		b, err := os.ReadFile(t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: read client key: %w", ErrConfig, err)
		}
		key = b
	}
	if len(cert) > 0 || len(key) > 0 {
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("%w: client certificate and key: %w", ErrConfig, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// transport builds the HTTP transport of cfg.
func (t TLSConfig) transport() (*http.Transport, error) {
	tc, err := t.tlsConfig()
	if err != nil {
		return nil, err
	}
	return &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tc,
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   true,
		// Components issue many requests at once to one server; keep
		// their connections.
		MaxIdleConns:        100,
		MaxIdleConnsPerHost: 100,
		IdleConnTimeout:     90 * time.Second,
		// A watch on a connection whose peer vanished (a host gone, a
		// NAT entry dropped) would otherwise wait for data forever: ping
		// an HTTP/2 connection that has been silent for 30s and drop it
		// if the answer takes over 15s, as client-go does.
		HTTP2: &http.HTTP2Config{SendPingTimeout: 30 * time.Second, PingTimeout: 15 * time.Second},
	}, nil
}
