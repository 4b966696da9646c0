package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/governor-io/governor/store/etcdkv"
	"github.com/governor-io/governor/store/etcdkv/embedded"
	"github.com/governor-io/governor/store/kv"
)

// watchEvent is one line of a watch response.
type watchEvent struct {
	Type   string `json:"type"`
	Object struct {
		Kind     string `json:"kind"`
		Code     int    `json:"code"`
		Metadata struct {
			Name            string `json:"name"`
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	} `json:"object"`
}

// startWatch opens a watch of the default namespace's configmaps from rv
// and returns its events; they end when the test does.
func (s *server) startWatch(t *testing.T, rv string) <-chan watchEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	req, err := http.NewRequestWithContext(ctx, "GET", s.url+"/api/v1/namespaces/default/configmaps?watch=1&resourceVersion="+rv, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		cancel()
		t.Fatalf("watch from %s: %d", rv, resp.StatusCode)
	}
	events := make(chan watchEvent, 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(events)
		dec := json.NewDecoder(resp.Body)
		for {
			var ev watchEvent
			if err := dec.Decode(&ev); err != nil {
				return
			}
			events <- ev
		}
	}()
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-done
	})
	return events
}

// next returns the watch's next event, failing the test if none comes.
func next(t *testing.T, events <-chan watchEvent) watchEvent {
	t.Helper()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("the watch ended")
		}
		return ev
	case <-timeout.C:
		t.Fatal("no watch event")
	}
	return watchEvent{}
}

// listRV lists the default namespace's configmaps through s and returns
// their names and the list's resourceVersion.
func (s *server) listRV(t *testing.T) ([]string, string) {
	t.Helper()
	code, body := s.call(t, "GET", "/api/v1/namespaces/default/configmaps", "")
	if code != 200 {
		t.Fatalf("list: %d %s", code, body)
	}
	var list struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Items []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		} `json:"items"`
	}
	if err := json.NewDecoder(bytes.NewReader([]byte(body))).Decode(&list); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, it := range list.Items {
		names = append(names, it.Metadata.Name)
	}
	return names, list.Metadata.ResourceVersion
}

func createConfigMap(t *testing.T, s *server, name string) {
	t.Helper()
	if code, body := s.call(t, "POST", "/api/v1/namespaces/default/configmaps", fmt.Sprintf(`{"metadata":{"name":%q},"data":{"k":%q}}`, name, name)); code != 201 {
		t.Fatalf("create %s: %d %s", name, code, body)
	}
}

// The API server keeps its objects in an etcd cluster with -storage etcd:
// they are created, listed and watched through it, are in etcd under
// -etcd-prefix, and are still there, with a watch resuming from the last
// resourceVersion seen, after the API server restarts on the same etcd.
func TestAPIServerOnEtcd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	etcd, err := embedded.Start(ctx, embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	args := []string{"-storage", "etcd", "-etcd-servers", "http://" + etcd.Endpoint(), "-etcd-prefix", "/governor-test"}

	s := startServer(t, append(args, "-data-dir", t.TempDir())...)
	createConfigMap(t, s, "one")
	names, rv := s.listRV(t)
	if strings.Join(names, ",") != "one" {
		t.Fatalf("list: %q", names)
	}
	events := s.startWatch(t, rv)
	createConfigMap(t, s, "two")
	ev := next(t, events)
	if ev.Type != "ADDED" || ev.Object.Metadata.Name != "two" {
		t.Fatalf("watch from %s: %+v", rv, ev)
	}
	lastSeen := ev.Object.Metadata.ResourceVersion

	// The objects are in etcd, under the prefix.
	k, err := etcdkv.New(ctx, etcdkv.Config{Endpoints: []string{etcd.Endpoint()}, Prefix: "/governor-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	for _, name := range []string{"one", "two"} {
		if item, _, err := kv.Get(ctx, k, "/registry/configmaps/default/"+name); err != nil || item == nil {
			t.Fatalf("configmap %s in etcd: %v, %v", name, item, err)
		}
	}

	if err := s.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	s = startServer(t, append(args, "-data-dir", t.TempDir())...)
	if names, _ := s.listRV(t); strings.Join(names, ",") != "one,two" {
		t.Fatalf("list after a restart: %q", names)
	}
	if code, body := s.call(t, "GET", "/api/v1/namespaces/default/configmaps/two", ""); code != 200 || !strings.Contains(body, `"k":"two"`) {
		t.Fatalf("get after a restart: %d %s", code, body)
	}
	// A client resumes its watch from the last resourceVersion it saw: it
	// gets what changes next, and nothing again.
	events = s.startWatch(t, lastSeen)
	createConfigMap(t, s, "three")
	if ev := next(t, events); ev.Type != "ADDED" || ev.Object.Metadata.Name != "three" {
		t.Fatalf("watch resumed from %s after a restart: %+v", lastSeen, ev)
	}
}

func TestAPIServerEtcdBadFlags(t *testing.T) {
	var out, errw bytes.Buffer
	dir := t.TempDir()
	for _, args := range [][]string{
		{"apiserver", "-storage", "etcd", "-data-dir", dir},
		{"apiserver", "-storage", "etcd", "-data-dir", dir, "-etcd-servers", "127.0.0.1:1", "-etcd-certfile", "x.pem"},
		{"apiserver", "-storage", "etcd", "-data-dir", dir, "-etcd-servers", "127.0.0.1:1", "-etcd-cafile", dir + "/missing.pem"},
	} {
		if err := run(context.Background(), args, &out, &errw); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

// writeMutualCert writes a self-signed certificate for 127.0.0.1 that
// serves and authenticates clients, and is its own CA, and its key.
func writeMutualCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(2),
		Subject:               pkix.Name{CommonName: "governor-etcd-test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "etcd.crt"), filepath.Join(dir, "etcd.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// With -etcd-cafile, -etcd-certfile and -etcd-keyfile the API server
// reaches an etcd that serves TLS and requires client certificates; with
// the CA alone, etcd refuses it and the API server does not start.
func TestAPIServerOnEtcdTLS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	certFile, keyFile := writeMutualCert(t, t.TempDir())
	etcd, err := embedded.Start(ctx, embedded.Config{Dir: t.TempDir(), CertFile: certFile, KeyFile: keyFile, ClientCAFile: certFile})
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	url := "https://" + etcd.Endpoint()

	var out, errw bytes.Buffer
	err = run(ctx, []string{"apiserver", "-listen", "127.0.0.1:0", "-data-dir", t.TempDir(),
		"-storage", "etcd", "-etcd-servers", url, "-etcd-cafile", certFile}, &out, &errw)
	if err == nil || !strings.Contains(err.Error(), "connect to etcd") {
		t.Fatalf("without a client certificate: %v", err)
	}
	t.Logf("without a client certificate: %v", err)

	s := startServer(t, "-data-dir", t.TempDir(), "-storage", "etcd", "-etcd-servers", url,
		"-etcd-cafile", certFile, "-etcd-certfile", certFile, "-etcd-keyfile", keyFile)
	createConfigMap(t, s, "secure")
	if names, _ := s.listRV(t); strings.Join(names, ",") != "secure" {
		t.Fatalf("list: %q", names)
	}
}
