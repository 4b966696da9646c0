package etcdkv_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/governor-io/governor/store/etcdkv"
	"github.com/governor-io/governor/store/etcdkv/embedded"
	"github.com/governor-io/governor/store/kv"
)

// TestTLSAndAuth runs the adapter against an etcd that serves TLS only,
// requires client certificates and has role-based access control on: the
// governor user may touch only keys under its prefix.
func TestTLSAndAuth(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	pki := newPKI(t, dir)
	srv, err := embedded.Start(ctx, embedded.Config{
		Dir: filepath.Join(dir, "data"), CertFile: pki.serverCert, KeyFile: pki.serverKey, ClientCAFile: pki.caFile,
		BcryptCost: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)

	// Set up users with a plain client, as an operator would.
	root, err := clientv3.New(clientv3.Config{Endpoints: []string{srv.Endpoint()}, TLS: pki.clientTLS.Clone(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	steps := []func() error{
		func() error { _, err := root.RoleAdd(ctx, "governor"); return err },
		func() error {
			_, err := root.RoleGrantPermission(ctx, "governor", "/app", clientv3.GetPrefixRangeEnd("/app"), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := root.UserAdd(ctx, "governor", "s3cret"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "governor", "governor"); return err },
		func() error { _, err := root.UserAdd(ctx, "root", "rootpw"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := root.AuthEnable(ctx); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("auth setup step %d: %v", i, err)
		}
	}

	cfg := etcdkv.Config{
		Endpoints: []string{srv.Endpoint()}, TLS: pki.clientTLS.Clone(),
		Username: "governor", Password: "s3cret", Prefix: "/app", DialTimeout: 10 * time.Second,
	}
	k, err := etcdkv.New(ctx, cfg)
	if err != nil {
		t.Fatalf("New with TLS and credentials: %v", err)
	}
	defer k.Close()
	f := follow(t, k, kv.WatchRequest{Key: "/x", End: kv.PrefixEnd("/x")})
	revs := write(t, k, "/x/a", 0, 2)
	if err := f.until(revs); err != nil {
		t.Fatal(err)
	}
	// etcd lets only root compact.
	if err := k.Compact(ctx, revs[1]); !errors.Is(err, rpctypes.ErrPermissionDenied) {
		t.Fatalf("compact as a user without root: %v, want %v", err, rpctypes.ErrPermissionDenied)
	}
	admin, err := clientv3.New(clientv3.Config{
		Endpoints: []string{srv.Endpoint()}, TLS: pki.clientTLS.Clone(), Username: "root", Password: "rootpw",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Compact(ctx, revs[1]); err != nil {
		t.Fatalf("compact as root: %v", err)
	}
	// The compaction revision is looked up within the prefix, so it works
	// with the user's limited permissions.
	_, err = k.Range(ctx, kv.RangeRequest{Key: "/x/a", Revision: revs[0]})
	var ce *kv.CompactedError
	if !errors.As(err, &ce) || ce.CompactRevision != revs[1] {
		t.Fatalf("range below the compaction: %v, want CompactedError at %d", err, revs[1])
	}

	bad := cfg
	bad.Password = "wrong"
	if k, err := etcdkv.New(ctx, bad); err == nil || !errors.Is(err, rpctypes.ErrAuthFailed) {
		if k != nil {
			k.Close()
		}
		t.Fatalf("New with a wrong password: %v, want %v", err, rpctypes.ErrAuthFailed)
	}
	outside := cfg
	outside.Prefix = "/other"
	if k, err := etcdkv.New(ctx, outside); err == nil || !errors.Is(err, rpctypes.ErrPermissionDenied) {
		if k != nil {
			k.Close()
		}
		t.Fatalf("New on a prefix the user may not read: %v, want %v", err, rpctypes.ErrPermissionDenied)
	}
	noCert := cfg
	noCert.TLS = &tls.Config{RootCAs: pki.clientTLS.RootCAs}
	noCert.DialTimeout = time.Second
	if k, err := etcdkv.New(ctx, noCert); err == nil {
		k.Close()
		t.Fatal("New without a client certificate succeeded")
	}
}

type testPKI struct {
	caFile, serverCert, serverKey string
	clientTLS                     *tls.Config
}

// newPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate into dir.
func newPKI(t *testing.T, dir string) testPKI {
	t.Helper()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		key := newKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "127.0.0.1"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	p := testPKI{
		caFile:     filepath.Join(dir, "ca.pem"),
		serverCert: filepath.Join(dir, "server.pem"),
		serverKey:  filepath.Join(dir, "server-key.pem"),
	}
	writePEM(t, p.caFile, "CERTIFICATE", caDER)
	srvDER, srvKey := issue(2, x509.ExtKeyUsageServerAuth)
	writePEM(t, p.serverCert, "CERTIFICATE", srvDER)
	writePEM(t, p.serverKey, "EC PRIVATE KEY", marshalKey(t, srvKey))
	cliDER, cliKey := issue(3, x509.ExtKeyUsageClientAuth)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	p.clientTLS = &tls.Config{
		RootCAs:      pool,
		Certificates: []tls.Certificate{{Certificate: [][]byte{cliDER}, PrivateKey: cliKey}},
	}
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func marshalKey(t *testing.T, k *ecdsa.PrivateKey) []byte {
	b, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestWatchEndsWhenPermissionRevoked revokes the user's read permission
// while its watch is cut off from etcd: etcd refuses to resume the watch
// (without saying why), and the watch must end with the permission error
// after delivering everything before, not retry forever or go quiet.
func TestWatchEndsWhenPermissionRevoked(t *testing.T) {
	ctx := testCtx(t)
	srv, err := embedded.Start(ctx, embedded.Config{Dir: t.TempDir(), BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	root, err := clientv3.New(clientv3.Config{Endpoints: []string{srv.Endpoint()}})
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for i, step := range []func() error{
		func() error { _, err := root.RoleAdd(ctx, "governor"); return err },
		func() error {
			_, err := root.RoleGrantPermission(ctx, "governor", "/app", clientv3.GetPrefixRangeEnd("/app"), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := root.UserAdd(ctx, "governor", "pw"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "governor", "governor"); return err },
		func() error { _, err := root.UserAdd(ctx, "root", "rootpw"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := root.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatalf("auth setup step %d: %v", i, err)
		}
	}
	admin, err := clientv3.New(clientv3.Config{Endpoints: []string{srv.Endpoint()}, Username: "root", Password: "rootpw"})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()

	px := newProxy(t, srv.Endpoint())
	k, err := etcdkv.New(ctx, etcdkv.Config{Endpoints: []string{px.Addr()}, Username: "governor", Password: "pw", Prefix: "/app"})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	f := follow(t, k, kv.WatchRequest{Key: "/k"})
	want := write(t, k, "/k", 0, 2)
	if err := f.until(want); err != nil {
		t.Fatal(err)
	}
	px.Cut()
	if _, err := admin.RoleRevokePermission(ctx, "governor", "/app", clientv3.GetPrefixRangeEnd("/app")); err != nil {
		t.Fatal(err)
	}
	px.Restore()
	err = f.until(append(want, 0))
	if !errors.Is(err, rpctypes.ErrPermissionDenied) {
		t.Fatalf("watch after its permission was revoked: %v, want %v", err, rpctypes.ErrPermissionDenied)
	}
}
