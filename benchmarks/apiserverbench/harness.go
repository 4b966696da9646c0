package apiserverbench

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
)

// PKI is the credentials of one benchmark run, as files in Dir: a CA, a
// serving certificate for 127.0.0.1 signed by it, a service-account key
// pair (kube-apiserver requires one) and a static bearer token for a user
// in system:masters (which kube-apiserver's priority and fairness exempts,
// so that it does not queue the benchmark's requests).
type PKI struct {
	Dir                 string
	CAFile              string
	CertFile, KeyFile   string
	SAKeyFile, SAPubKey string
	TokenFile           string
	Token               string
	caPEM               []byte
}

// NewPKI generates a PKI into dir.
func NewPKI(dir string) (*PKI, error) {
	p := &PKI{Dir: dir,
		CAFile: filepath.Join(dir, "ca.crt"), CertFile: filepath.Join(dir, "server.crt"), KeyFile: filepath.Join(dir, "server.key"),
		SAKeyFile: filepath.Join(dir, "sa.key"), SAPubKey: filepath.Join(dir, "sa.pub"), TokenFile: filepath.Join(dir, "tokens.csv")}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "apiserverbench-ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "apiserverbench-server"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	sa, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	saDER, err := x509.MarshalPKCS8PrivateKey(sa)
	if err != nil {
		return nil, err
	}
	saPub, err := x509.MarshalPKIXPublicKey(&sa.PublicKey)
	if err != nil {
		return nil, err
	}
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	p.Token = hex.EncodeToString(tok)
	p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	files := map[string][]byte{
		p.CAFile:    p.caPEM,
		p.CertFile:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		p.KeyFile:   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		p.SAKeyFile: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: saDER}),
		p.SAPubKey:  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPub}),
		// token,user,uid,"group,..."
		p.TokenFile: fmt.Appendf(nil, "%s,bench,bench-uid,\"system:masters\"\n", p.Token),
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	for name, data := range files {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// REST returns a client configuration for a server at url that serves
// p's certificate, authenticating with p's token.
func (p *PKI) REST(url string) *rest.Config {
	return &rest.Config{Host: url, BearerToken: p.Token, TLSClientConfig: rest.TLSClientConfig{CAData: p.caPEM}}
}

// Process is a server started by [StartGovernor] or [StartKube].
type Process struct {
	// URL is where the API is served.
	URL string
	// PIDs are the processes by role, as in [Target].
	PIDs  map[string]int
	procs []child // in the order to stop them
	logs  []*os.File
}

// child is a started process; stdin, when set, stops it when closed.
type child struct {
	cmd   *exec.Cmd
	stdin io.Closer
}

// Stop ends the processes (SIGTERM, then SIGKILL after 30 s) in order:
// the API server before its store.
func (p *Process) Stop() error {
	var errs []error
	for _, c := range p.procs {
		errs = append(errs, stop(c))
	}
	p.procs = nil
	for _, f := range p.logs {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

func stop(ch child) error {
	c := ch.cmd
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	if ch.stdin != nil {
		_ = ch.stdin.Close()
	} else {
		_ = c.Process.Signal(syscall.SIGTERM)
	}
	select {
	case err := <-done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return nil // ended by the signal, without a handler
			}
		}
		if err != nil {
			return fmt.Errorf("apiserverbench: %s: %w", filepath.Base(c.Path), err)
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = c.Process.Kill()
		<-done
		return fmt.Errorf("apiserverbench: %s did not stop in 30 s", filepath.Base(c.Path))
	}
}

// freePort returns a TCP port on 127.0.0.1 nothing listens on now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// start starts bin with args, its output to dir/name.log. With
// withStdin, the process's standard input stays open until Stop closes it
// (etcdmember stops at the end of its input).
func (p *Process) start(dir, name, bin string, withStdin bool, args ...string) error {
	log, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return err
	}
	p.logs = append(p.logs, log)
	c := exec.Command(bin, args...)
	c.Stdout, c.Stderr = log, log
	var stdin io.WriteCloser
	if withStdin {
		if stdin, err = c.StdinPipe(); err != nil {
			return err
		}
	}
	if err := c.Start(); err != nil {
		return fmt.Errorf("apiserverbench: start %s: %w", name, err)
	}
	ch := child{cmd: c}
	if stdin != nil {
		ch.stdin = stdin
	}
	p.procs = append([]child{ch}, p.procs...) // stopped before those started earlier
	p.PIDs[name] = c.Process.Pid
	return nil
}

// StartGovernor starts "governor apiserver" (binary bin) on an empty
// embedded single-member Raft KV in dir (fsync on every commit), serving
// HTTPS with p's certificate, and waits until it is ready.
func StartGovernor(ctx context.Context, bin, dir string, p *PKI) (*Process, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	proc := &Process{URL: fmt.Sprintf("https://127.0.0.1:%d", port), PIDs: map[string]int{}}
	if err := proc.start(dir, "server", bin, false, "apiserver", "-listen", fmt.Sprintf("127.0.0.1:%d", port),
		"-storage", "raft", "-data-dir", filepath.Join(dir, "governor.data"), "-log", "warn",
		"-tls-cert-file", p.CertFile, "-tls-private-key-file", p.KeyFile); err != nil {
		return nil, errors.Join(err, proc.Stop())
	}
	if err := waitReady(ctx, proc, p, filepath.Join(dir, "server.log")); err != nil {
		return nil, errors.Join(err, proc.Stop())
	}
	return proc, nil
}

// StartKube starts an etcd v3.7.3 member (etcdBin: benchmarks/cmd/etcdmember,
// etcd's defaults, fsync on) with its data in dir, then kube-apiserver
// (apiserverBin) on it, serving HTTPS with p's certificate, and waits until
// kube-apiserver is ready.
func StartKube(ctx context.Context, apiserverBin, etcdBin, dir string, p *PKI) (*Process, error) {
	var ports [3]int
	for i := range ports {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = port
	}
	client, peer := fmt.Sprintf("http://127.0.0.1:%d", ports[0]), fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	proc := &Process{URL: fmt.Sprintf("https://127.0.0.1:%d", ports[2]), PIDs: map[string]int{}}
	if err := proc.start(dir, "store", etcdBin, true, "-name", "m1", "-dir", filepath.Join(dir, "etcd.data"),
		"-client", client, "-peer", peer, "-cluster", "m1="+peer); err != nil {
		return nil, errors.Join(err, proc.Stop())
	}
	if err := waitEtcd(ctx, filepath.Join(dir, "store.log")); err != nil {
		return nil, errors.Join(err, proc.Stop())
	}
	if err := proc.start(dir, "server", apiserverBin, false,
		"--etcd-servers="+client,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", ports[2]),
		"--tls-cert-file="+p.CertFile, "--tls-private-key-file="+p.KeyFile,
		"--cert-dir="+filepath.Join(dir, "certs"),
		"--token-auth-file="+p.TokenFile, "--authorization-mode=AlwaysAllow",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+p.SAPubKey, "--service-account-signing-key-file="+p.SAKeyFile,
		"--service-cluster-ip-range=10.96.0.0/16",
		// The endpoints of service "kubernetes" would be 127.0.0.1,
		// which Endpoints reject; nothing here reads them.
		"--endpoint-reconciler-type=none",
		// Without a controller manager, namespaces get no "default"
		// service account, which this plugin requires of every pod.
		"--disable-admission-plugins=ServiceAccount",
	); err != nil {
		return nil, errors.Join(err, proc.Stop())
	}
	if err := waitReady(ctx, proc, p, filepath.Join(dir, "server.log")); err != nil {
		return nil, errors.Join(err, proc.Stop())
	}
	return proc, nil
}

// waitEtcd waits for etcdmember to print "ready" to its log.
func waitEtcd(ctx context.Context, logName string) error {
	return poll(ctx, 2*time.Minute, func() (bool, error) {
		data, err := os.ReadFile(logName)
		if err != nil {
			return false, err
		}
		if strings.Contains(string(data), "etcdmember:") {
			return false, fmt.Errorf("apiserverbench: etcd failed:\n%s", data)
		}
		return strings.Contains(string(data), "ready\n"), nil
	})
}

// waitReady waits until proc's /readyz answers 200.
func waitReady(ctx context.Context, proc *Process, p *PKI, logName string) error {
	cfg := p.REST(proc.URL)
	tr, err := rest.TransportFor(cfg)
	if err != nil {
		return err
	}
	hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	defer hc.CloseIdleConnections()
	err = poll(ctx, 3*time.Minute, func() (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, proc.URL+"/readyz", nil)
		if err != nil {
			return false, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return false, nil // not listening yet
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		return fmt.Errorf("%w\n%s", err, tail(logName))
	}
	return nil
}

// poll calls done every 100 ms until it returns true or an error, or
// timeout passes. (This harness starts processes that say they are ready
// only by answering; the tests of this package never poll.)
func poll(ctx context.Context, timeout time.Duration, done func() (bool, error)) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return fmt.Errorf("apiserverbench: not ready after %v", timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// tail returns the last lines of a log file, for errors.
func tail(name string) string {
	f, err := os.Open(name)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 30 {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
