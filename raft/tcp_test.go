package raft_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/store/kv"
)

// tcpCluster starts members on real TCP transports on 127.0.0.1, with
// the wall clock and short ticks.
type tcpCluster struct {
	t       *testing.T
	root    string
	tls     *tls.Config
	members []raft.Member
	nodes   map[uint64]*raft.Node
	snapN   uint64
}

func newTCPCluster(t *testing.T, size int, tlsCfg *tls.Config, snapN uint64) *tcpCluster {
	c := &tcpCluster{t: t, root: t.TempDir(), tls: tlsCfg, nodes: map[uint64]*raft.Node{}, snapN: snapN}
	trs := map[uint64]*raft.TCPTransport{}
	for i := 1; i <= size; i++ {
		tr, err := raft.NewTCPTransport(raft.TCPConfig{ID: uint64(i), ListenAddr: "127.0.0.1:0", TLS: tlsCfg})
		if err != nil {
			t.Fatal(err)
		}
		trs[uint64(i)] = tr
		c.members = append(c.members, raft.Member{ID: uint64(i), PeerAddr: tr.Addr()})
	}
	for id, tr := range trs {
		c.open(id, tr, true)
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			n.Close()
		}
	})
	return c
}

func (c *tcpCluster) open(id uint64, tr raft.Transport, bootstrap bool) {
	c.t.Helper()
	cfg := raft.Config{
		ID:                     id,
		Dir:                    filepath.Join(c.root, fmt.Sprint(id)),
		Transport:              tr,
		PeerTLS:                c.tls,
		TickInterval:           10 * time.Millisecond,
		SnapshotEntries:        c.snapN,
		SnapshotCatchUpEntries: 5,
	}
	if bootstrap {
		cfg.InitialCluster = c.members
	} else {
		cfg.ListenAddr = c.members[id-1].PeerAddr
	}
	n, err := raft.Open(context.Background(), cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.nodes[id] = n
}

func (c *tcpCluster) leader(ctx context.Context) *raft.Node {
	c.t.Helper()
	for _, n := range c.nodes {
		id, err := n.WaitLeader(ctx)
		if err != nil {
			c.t.Fatal(err)
		}
		if l, ok := c.nodes[id]; ok {
			return l
		}
	}
	c.t.Fatal("no leader")
	return nil
}

func runTCPCluster(t *testing.T, tlsCfg *tls.Config) {
	ctx := ctxFor(t, time.Minute)
	c := newTCPCluster(t, 3, tlsCfg, 30)
	lead := c.leader(ctx)
	var down uint64
	for id := range c.nodes {
		if id != lead.ID() {
			down = id
		}
	}
	// Stop a follower, write enough for the others to compact their logs,
	// then restart it on the same port: it must catch up from a snapshot
	// streamed over TCP.
	c.nodes[down].Close()
	delete(c.nodes, down)
	for i := range 120 {
		if _, err := kv.Put(ctx, lead, fmt.Sprintf("/tcp/%03d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	c.open(down, nil, false)
	resp, err := c.nodes[down].Range(ctx, kv.RangeRequest{Key: "/tcp/", End: kv.PrefixEnd("/tcp/"), CountOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Count != 120 {
		t.Fatalf("restarted member sees %d keys, want 120", resp.Count)
	}
	if st := c.nodes[down].Status(); st.SnapshotsReceived == 0 {
		t.Fatalf("restarted member caught up without a snapshot: %+v", st)
	}
	// A write through the restarted member is forwarded to the leader.
	if _, err := kv.Put(ctx, c.nodes[down], "/tcp/forwarded", []byte("v")); err != nil {
		t.Fatal(err)
	}
}

func TestTCPTransportCluster(t *testing.T) { runTCPCluster(t, nil) }

func TestTCPTransportMutualTLS(t *testing.T) { runTCPCluster(t, testTLS(t)) }

// testTLS makes a CA and one certificate for 127.0.0.1 that serves as
// both server and client certificate, with client certificates required.
func testTLS(t *testing.T) *tls.Config {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "member"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		RootCAs:      pool, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert,
		MinVersion: tls.VersionTLS13,
	}
}
