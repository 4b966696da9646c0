package benchmarks

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/client"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/etcdkv"
	"github.com/governor-io/governor/store/etcdkv/embedded"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
)

// Typed Store on a real etcd against the typed Store on Governor's Raft KV:
// the same store.Store load (a ~1.2 KB Pod-like object) driven through one
// kv.KV, in the same run. Both are durable single-member clusters (WAL
// with fsync) with linearizable reads, in this process, and both are
// reached over the network on 127.0.0.1 through their own clients:
//
//   - impl=etcd: the etcdkv adapter, over gRPC (clientv3), to an embedded
//     etcd 3.7.3 (go.etcd.io/etcd/server/v3/embed; bbolt);
//   - impl=raft: a single-member raft.Node (our WAL, the MVCC engine as
//     state machine) behind a raft/client Server, through raft/client's
//     framed binary protocol over TCP.
//
// impl=raft-inprocess calls the same raft.Node directly, without a client.
// etcd has no counterpart here (the etcdkv adapter only dials endpoints),
// so it is not a comparison: it shows what the client protocol costs.
//
//	go test -run '^$' -bench 'BenchmarkStoreOnKV' -count 6 -benchtime 300x

// kvBackend is the one interface both backends are driven through.
type kvBackend struct {
	name string
	open func(tb testing.TB) kv.KV
}

func storeBackends() []kvBackend {
	return []kvBackend{
		{"etcd", openEtcdBackend},
		{"raft", openRaftNetworkBackend},
		{"raft-inprocess", func(tb testing.TB) kv.KV { return openRaftNode(tb) }},
	}
}

func openEtcdBackend(b testing.TB) kv.KV {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := embedded.Start(ctx, embedded.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	k, err := etcdkv.New(ctx, etcdkv.Config{Endpoints: []string{srv.Endpoint()}, Prefix: "/bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { k.Close() })
	return k
}

// openRaftNode starts a single-member Raft KV and waits until it leads.
func openRaftNode(b testing.TB) *raft.Node {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := raft.Open(ctx, raft.Config{
		ID:             1,
		Dir:            b.TempDir(),
		InitialCluster: []raft.Member{{ID: 1, PeerAddr: "127.0.0.1:0"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Close() })
	if _, err := n.WaitLeader(ctx); err != nil {
		b.Fatal(err)
	}
	return n
}

// openRaftNetworkBackend serves a single-member Raft KV on 127.0.0.1 and
// returns a raft/client Client of it.
func openRaftNetworkBackend(b testing.TB) kv.KV {
	n := openRaftNode(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := client.NewServer(n, nil)
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	c, err := client.New(client.Config{Endpoints: []string{ln.Addr().String()}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

func BenchmarkStoreOnKV(b *testing.B) {
	ctx := context.Background()
	for _, be := range storeBackends() {
		k := be.open(b)
		s := store.New(k, kvBenchPods)
		// Fixtures: 100 pods to Get, Update and List.
		const listed = 100
		for i := range listed {
			if _, err := s.Create(ctx, kvBenchPodIn(b, "fixtures", fmt.Sprintf("fixture-%03d", i))); err != nil {
				b.Fatal(err)
			}
		}
		seq := 0
		var parallelSeq kvBenchCounter // names stay unique across b.Run's calls
		b.Run("op=create/impl="+be.name, func(b *testing.B) {
			p := kvBenchPodIn(b, "create", "x")
			b.ReportAllocs()
			for b.Loop() {
				seq++
				p.Name = fmt.Sprintf("pod-%d", seq)
				p.ResourceVersion = ""
				if _, err := s.Create(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("op=create-parallel/impl="+be.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8) // 16 writers on 2 cores: batching shows
			b.RunParallel(func(pb *testing.PB) {
				p := kvBenchPodIn(b, "parallel", "x")
				for pb.Next() {
					p.Name = fmt.Sprintf("pod-%d", parallelSeq.next())
					p.ResourceVersion = ""
					if _, err := s.Create(ctx, p); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run("op=get/impl="+be.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Get(ctx, "fixtures", "fixture-042"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("op=update/impl="+be.name, func(b *testing.B) {
			p, err := s.Get(ctx, "fixtures", "fixture-007")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				p.Labels["rev"] = p.ResourceVersion // a real change every time
				if p, err = s.Update(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("op=list%d/impl=%s", listed, be.name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				l, err := s.List(ctx, meta.ListOptions{Namespace: "fixtures"})
				if err != nil {
					b.Fatal(err)
				}
				if len(l.Items) != listed {
					b.Fatalf("listed %d pods, want %d", len(l.Items), listed)
				}
			}
		})
	}
}

// TestStoreOnKVBackends checks that both benchmark backends run the
// store's basic cycle, so that the benchmark measures working code.
func TestStoreOnKVBackends(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an etcd and a Raft member")
	}
	ctx := context.Background()
	for _, be := range storeBackends() {
		t.Run(be.name, func(t *testing.T) {
			s := store.New(be.open(t), kvBenchPods)
			p, err := s.Create(ctx, kvBenchPodIn(t, "default", "web"))
			if err != nil {
				t.Fatal(err)
			}
			p.Labels["x"] = "y"
			if _, err := s.Update(ctx, p); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, "default", "web")
			if err != nil || got.Labels["x"] != "y" {
				t.Fatalf("get after update: %v, %v", got, err)
			}
		})
	}
}

// kvBenchPod is a Pod-like object of about 1.2 KB of JSON: metadata with
// labels and annotations, a container spec and a status.
type kvBenchPod struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            kvBenchPodSpec   `json:"spec"`
	Status          kvBenchPodStatus `json:"status,omitzero"`
}

type kvBenchPodSpec struct {
	NodeName   string             `json:"nodeName,omitempty"`
	Containers []kvBenchContainer `json:"containers"`
}

type kvBenchContainer struct {
	Name    string            `json:"name"`
	Image   string            `json:"image"`
	Args    []string          `json:"args,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
	Ports   []int             `json:"ports,omitempty"`
	CPU     string            `json:"cpu,omitempty"`
	Memory  string            `json:"memory,omitempty"`
	Command []string          `json:"command,omitempty"`
}

type kvBenchPodStatus struct {
	Phase  string `json:"phase,omitempty"`
	PodIP  string `json:"podIP,omitempty"`
	HostIP string `json:"hostIP,omitempty"`
}

var kvBenchPods = store.Resource[*kvBenchPod]{Name: "pods", Kind: "Pod", APIVersion: "v1", Namespaced: true}

// kvBenchPodIn returns the benchmark pod named ns/name.
func kvBenchPodIn(tb testing.TB, ns, name string) *kvBenchPod {
	return &kvBenchPod{
		ObjectMeta: meta.ObjectMeta{
			Namespace: ns, Name: name,
			Labels: map[string]string{"app": "web", "tier": "frontend", "pod-template-hash": "7d4b9c8f6d"},
			Annotations: map[string]string{
				"kubectl.kubernetes.io/restartedAt": "2026-11-27T07:00:00Z",
				"prometheus.io/scrape":              "true",
				"prometheus.io/port":                "9090",
			},
		},
		Spec: kvBenchPodSpec{
			NodeName: "node-17.zone-b.example.internal",
			Containers: []kvBenchContainer{
				{
					Name: "web", Image: "registry.example.com/team/web-frontend:v1.42.7",
					Args:    []string{"--port=8080", "--metrics-port=9090", "--log-level=info", "--config=/etc/web/config.yaml"},
					Env:     map[string]string{"GOMAXPROCS": "2", "ENVIRONMENT": "production", "REGION": "eu-west-1", "FEATURE_FLAGS": "new-checkout,fast-search"},
					Ports:   []int{8080, 9090},
					CPU:     "500m",
					Memory:  "512Mi",
					Command: []string{"/usr/local/bin/web-frontend"},
				},
				{
					Name: "sidecar", Image: "registry.example.com/platform/log-shipper:v3.1.0",
					Args: []string{"--input=/var/log/web", "--output=https://logs.example.internal:443"},
					CPU:  "100m", Memory: "128Mi",
				},
			},
		},
		Status: kvBenchPodStatus{Phase: "Running", PodIP: "10.17.4.23", HostIP: "192.168.17.4"},
	}
}

type kvBenchCounter struct{ n atomic.Int64 }

func (c *kvBenchCounter) next() int64 { return c.n.Add(1) }
