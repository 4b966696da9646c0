package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/governor-io/governor/store/meta"
)

// pki is a CA and one client certificate it signed, in PEM.
type pki struct {
	caPEM, certPEM, keyPEM []byte
	pool                   *x509.CertPool
}

func newPKI(t *testing.T, user string) pki {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: user, Organization: []string{"system:masters"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pki{
		caPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		pool:    pool,
	}
}

// whoami is a TLS server that answers GET .../widgets/NAME with a widget
// whose color names the caller: its client certificate's common name, or
// its bearer token.
func whoami(t *testing.T, clientCAs *x509.CertPool) *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := "anonymous"
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			who = "cert:" + r.TLS.PeerCertificates[0].Subject.CommonName
		} else if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			who = "token:" + tok
		}
		writeJSON(w, http.StatusOK, &Widget{ObjectMeta: meta.ObjectMeta{Name: "me"}, Spec: WidgetSpec{Color: who}})
	}))
	srv.TLS = &tls.Config{ClientCAs: clientCAs, ClientAuth: tls.VerifyClientCertIfGiven}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func serverCAPEM(srv *httptest.Server) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

func caller(t *testing.T, cfg Config) string {
	t.Helper()
	cfg.Logger = quietLogger()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w, err := For(c, widgets).Get(context.Background(), "default", "me")
	if err != nil {
		t.Fatal(err)
	}
	return w.Spec.Color
}

func TestKubeconfigWithEmbeddedCertificatesAuthenticates(t *testing.T) {
	p := newPKI(t, "admin")
	srv := whoami(t, p.pool)
	b64 := base64.StdEncoding.EncodeToString
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: admin@local
  context: {cluster: local, user: admin, namespace: team-a}
current-context: admin@local
`, srv.URL, b64(serverCAPEM(srv)), b64(p.certPEM), b64(p.keyPEM))
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadKubeconfig(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != srv.URL || cfg.Namespace != "team-a" {
		t.Fatalf("cfg = %+v", cfg)
	}
	if who := caller(t, cfg); who != "cert:admin" {
		t.Fatalf("the server saw %q, want cert:admin", who)
	}
}

func TestKubeconfigFilesAreRelativeToIt(t *testing.T) {
	p := newPKI(t, "system:kube-scheduler")
	srv := whoami(t, p.pool)
	dir := t.TempDir()
	for name, data := range map[string][]byte{"ca.crt": serverCAPEM(srv), "pki/sched.crt": p.certPEM, "pki/sched.key": p.keyPEM} {
		_ = os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	kc := fmt.Sprintf(`clusters:
- name: c
  cluster: {server: %q, certificate-authority: ca.crt}
users:
- name: sched
  user: {client-certificate: pki/sched.crt, client-key: pki/sched.key}
- name: other
  user: {token: t0k}
contexts:
- name: sched
  context: {cluster: c, user: sched}
- name: other
  context: {cluster: c, user: other}
current-context: other
`, srv.URL)
	if err := os.WriteFile(filepath.Join(dir, "kubeconfig"), []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadKubeconfig(filepath.Join(dir, "kubeconfig"), "sched")
	if err != nil {
		t.Fatal(err)
	}
	if who := caller(t, cfg); who != "cert:system:kube-scheduler" {
		t.Fatalf("the server saw %q", who)
	}
	cfg, err = LoadKubeconfig(filepath.Join(dir, "kubeconfig"), "")
	if err != nil {
		t.Fatal(err)
	}
	if who := caller(t, cfg); who != "token:t0k" {
		t.Fatalf("the server saw %q, want the token of the current context", who)
	}
}

func TestKubeconfigEnvListMergesFirstWins(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a", `clusters: [{name: c, cluster: {server: "https://a.example"}}]
contexts: [{name: x, context: {cluster: c}}]
current-context: x
`)
	b := write("b", `clusters: [{name: c, cluster: {server: "https://b.example"}}, {name: d, cluster: {server: "https://d.example"}}]
contexts: [{name: y, context: {cluster: d}}]
current-context: y
`)
	missing := filepath.Join(dir, "missing")
	t.Setenv("KUBECONFIG", strings.Join([]string{missing, a, b}, string(os.PathListSeparator)))
	cfg, err := LoadKubeconfig("", "")
	if err != nil || cfg.Host != "https://a.example" {
		t.Fatalf("current context: %+v, %v; want a's", cfg, err)
	}
	cfg, err = LoadKubeconfig("", "y")
	if err != nil || cfg.Host != "https://d.example" {
		t.Fatalf("context y: %+v, %v", cfg, err)
	}
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", dir)
	if _, err := LoadKubeconfig("", ""); !errors.Is(err, ErrKubeconfig) || !strings.Contains(err.Error(), filepath.Join(dir, ".kube", "config")) {
		t.Fatalf("no file: %v, want ErrKubeconfig naming ~/.kube/config", err)
	}
}

func TestKubeconfigErrors(t *testing.T) {
	for name, kc := range map[string]string{
		"no current context": `clusters: [{name: c, cluster: {server: "https://x"}}]`,
		"unknown cluster":    "contexts: [{name: x, context: {cluster: nope}}]\ncurrent-context: x",
		"no server":          "clusters: [{name: c, cluster: {}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x",
		"exec plugin": `clusters: [{name: c, cluster: {server: "https://x"}}]
users: [{name: u, user: {exec: {command: aws}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x`,
		"bad base64": `clusters: [{name: c, cluster: {server: "https://x", certificate-authority-data: "!!"}}]
contexts: [{name: x, context: {cluster: c}}]
current-context: x`,
		"not yaml": "clusters: [",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseKubeconfig([]byte(kc), "", ""); !errors.Is(err, ErrKubeconfig) {
				t.Fatalf("err = %v, want ErrKubeconfig", err)
			}
		})
	}
}

func TestTokenIsSentOnlyOverTLS(t *testing.T) {
	tlsSrv := whoami(t, nil)
	if who := caller(t, Config{Host: tlsSrv.URL, TLS: TLSConfig{CAData: serverCAPEM(tlsSrv)}, BearerToken: "s3cret"}); who != "token:s3cret" {
		t.Fatalf("over TLS the server saw %q", who)
	}
	plain := httptest.NewServer(tlsSrv.Config.Handler)
	defer plain.Close()
	if who := caller(t, Config{Host: plain.URL, BearerToken: "s3cret"}); who != "anonymous" {
		t.Fatalf("over plain http the server saw %q, want no token", who)
	}
	// Without the CA the server's certificate is not trusted, and that is
	// not retried; insecure-skip-tls-verify accepts it.
	c, err := New(Config{Host: tlsSrv.URL, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := For(c, widgets).Get(context.Background(), "default", "me"); err == nil {
		t.Fatal("an unknown authority was trusted")
	}
	if who := caller(t, Config{Host: tlsSrv.URL, TLS: TLSConfig{Insecure: true}, BearerTokenFile: writeTemp(t, "file-t0k\n")}); who != "token:file-t0k" {
		t.Fatalf("with a token file the server saw %q", who)
	}
}

func writeTemp(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewRejectsBadConfigs(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no host":        {},
		"bad scheme":     {Host: "ftp://x"},
		"query":          {Host: "https://x?a=b"},
		"missing CA":     {Host: "https://x", TLS: TLSConfig{CAFile: "/nonexistent/ca.crt"}},
		"garbage CA":     {Host: "https://x", TLS: TLSConfig{CAData: []byte("nope")}},
		"CA + insecure":  {Host: "https://x", TLS: TLSConfig{CAData: []byte("x"), Insecure: true}},
		"cert no key":    {Host: "https://x", TLS: TLSConfig{CertData: []byte("x")}},
		"negative burst": {Host: "https://x", Burst: -1},
		"token file":     {Host: "https://x", BearerTokenFile: "/nonexistent/token"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(cfg); !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
		})
	}
	c, err := New(Config{Host: "127.0.0.1:6443"})
	if err != nil || c.Host() != "https://127.0.0.1:6443" {
		t.Fatalf("bare host:port: %v, %v; want https", c, err)
	}
}

func TestBindFlagsOverrideTheKubeconfig(t *testing.T) {
	kc := writeTemp(t, `clusters: [{name: c, cluster: {server: "https://from-file:6443", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: file-token}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`)
	var cfg Config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fv := cfg.BindFlags(fs)
	if err := fs.Parse([]string{"-kubeconfig", kc, "-token", "flag-token", "-kube-api-qps", "200", "-kube-api-burst", "400", "-request-timeout", "5s"}); err != nil {
		t.Fatal(err)
	}
	if err := fv.Complete(fs); err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://from-file:6443" || cfg.BearerToken != "flag-token" || !cfg.TLS.Insecure ||
		cfg.QPS != 200 || cfg.Burst != 400 || cfg.Timeout != 5*time.Second {
		t.Fatalf("cfg = %+v", cfg)
	}

	// -server alone needs no kubeconfig.
	var cfg2 Config
	fs2 := flag.NewFlagSet("test", flag.ContinueOnError)
	fv2 := cfg2.BindFlags(fs2)
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "absent"))
	if err := fs2.Parse([]string{"-server", "http://127.0.0.1:8080"}); err != nil {
		t.Fatal(err)
	}
	if err := fv2.Complete(fs2); err != nil || cfg2.Host != "http://127.0.0.1:8080" {
		t.Fatalf("flags alone: %+v, %v", cfg2, err)
	}
}
