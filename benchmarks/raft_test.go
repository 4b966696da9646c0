package benchmarks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/client"
	"github.com/governor-io/governor/store/kv"
)

// Governor's Raft KV against etcd v3.7.3, side by side in one run, both
// as three members on 127.0.0.1 in this process with fsync on, both
// driven through their own network clients (raft/client's framed binary
// protocol over TCP; etcd's clientv3 over gRPC), with 256-byte values.
//
// Both sides get the same topology: one client per member, each pinned to
// its member (a client with a single endpoint), and a route that says
// which member each request goes to:
//
//   - route=leader: every request goes to the leader's client;
//   - route=spread: request i goes to member i mod 3, so two thirds of the
//     writes are forwarded by a follower to the leader and two thirds of
//     the linearizable reads ask the leader for a read index from a
//     follower, on both sides (an etcd client with the three endpoints
//     round-robins the same way).
//
// Benchmarks:
//
//   - BenchmarkRaftPut/members=3/clients=N/route=R: N concurrent writers.
//     Reports puts/s and the p50/p99 latency in ms.
//   - BenchmarkRaftRangeLinearizable/members=3/clients=64/route=R:
//     linearizable reads of one key.
//   - BenchmarkRaftWatch/members=3/watchers=100/route=R: latency from a
//     put's return to its delivery to 100 watchers (p99). With
//     route=spread the watchers and the puts are spread over the members.
//   - BenchmarkRaftPutEmbedded: our members called in-process (no client);
//     it has no etcd counterpart and is not a comparison.
//
//	go test -run '^$' -bench 'BenchmarkRaft(Put|RangeLinearizable)$' -count 5 -benchtime 2000x
//	go test -run '^$' -bench 'BenchmarkRaftWatch$' -count 5 -benchtime 300x

var value256 = make([]byte, 256)

// route says which member a request goes to.
type route string

const (
	// routeLeader sends every request to the leader.
	routeLeader route = "leader"
	// routeSpread sends request i to member i mod members.
	routeSpread route = "spread"
)

var routes = []route{routeLeader, routeSpread}

// member returns the index of the member that request i goes to, in a
// cluster of members whose leader is member lead.
func (r route) member(i, members, lead int) int {
	if r == routeLeader {
		return lead
	}
	return i % members
}

// benchCluster is what each implementation offers the benchmarks: one
// client per member, each talking to that member only, and the index of
// the member that led when the cluster started.
type benchCluster interface {
	members() int
	leader() int
	// put, get and watch go through the client of member m.
	put(ctx context.Context, m int, key string) error
	get(ctx context.Context, m int, key string) error
	// watch returns a channel receiving the key of each event on prefix.
	watch(ctx context.Context, m int, prefix string) (<-chan string, error)
}

func freePort(tb testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// --- etcd ---

type etcdCluster struct {
	clients []*clientv3.Client // one per member, that member's endpoint only
	lead    int
}

func startEtcd(tb testing.TB, members int) *etcdCluster {
	// The ports are picked free and bound later; another socket can take
	// one in between, so a start that finds its port taken is tried again
	// with new ports.
	for attempt := 1; ; attempt++ {
		c, err := tryStartEtcd(tb, members)
		if err == nil {
			return c
		}
		inUse := errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
		if !inUse || attempt == 3 {
			tb.Fatal(err)
		}
		tb.Logf("etcd start attempt %d: %v; trying other ports", attempt, err)
	}
}

func tryStartEtcd(tb testing.TB, members int) (*etcdCluster, error) {
	var cfgs []*embed.Config
	var initial []string
	var endpoints []string
	for i := 1; i <= members; i++ {
		ec := embed.NewConfig()
		ec.Name = fmt.Sprintf("m%d", i)
		ec.Dir = tb.TempDir()
		cu := url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(freePort(tb))}
		pu := url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(freePort(tb))}
		ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
		ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
		ec.LogLevel = "error"
		ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
		ec.InitialClusterToken = "bench"
		initial = append(initial, ec.Name+"="+pu.String())
		endpoints = append(endpoints, cu.Host)
		cfgs = append(cfgs, ec)
	}
	var servers []*embed.Etcd
	for _, ec := range cfgs {
		ec.InitialCluster = strings.Join(initial, ",")
		e, err := embed.StartEtcd(ec)
		if err != nil {
			for _, e := range servers {
				e.Close()
			}
			return nil, err
		}
		servers = append(servers, e)
	}
	tb.Cleanup(func() {
		for _, e := range servers {
			e.Close()
		}
	})
	for _, e := range servers {
		select {
		case <-e.Server.ReadyNotify():
		case <-time.After(time.Minute):
			tb.Fatal("etcd not ready")
		}
	}
	c := &etcdCluster{lead: -1}
	leadID := servers[0].Server.Leader()
	for i, e := range servers {
		if e.Server.MemberID() == leadID {
			c.lead = i
		}
	}
	if c.lead < 0 {
		tb.Fatalf("etcd: no member is the leader %v", leadID)
	}
	for _, ep := range endpoints {
		cl, err := clientv3.New(clientv3.Config{Endpoints: []string{ep}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { cl.Close() })
		c.clients = append(c.clients, cl)
	}
	return c, nil
}

func (e *etcdCluster) members() int { return len(e.clients) }
func (e *etcdCluster) leader() int  { return e.lead }

func (e *etcdCluster) put(ctx context.Context, m int, key string) error {
	_, err := e.clients[m].Put(ctx, key, string(value256))
	return err
}

func (e *etcdCluster) get(ctx context.Context, m int, key string) error {
	_, err := e.clients[m].Get(ctx, key)
	return err
}

func (e *etcdCluster) watch(ctx context.Context, m int, prefix string) (<-chan string, error) {
	wc := e.clients[m].Watch(ctx, prefix, clientv3.WithPrefix())
	out := make(chan string, 1024)
	go func() {
		defer close(out)
		for resp := range wc {
			for _, ev := range resp.Events {
				select {
				case out <- string(ev.Kv.Key):
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// --- governor ---

type govCluster struct {
	nodes   []*raft.Node
	clients []*client.Client // one per member, that member's endpoint only
	lead    int
}

func startGovernor(tb testing.TB, members int) *govCluster {
	var trs []*raft.TCPTransport
	var ms []raft.Member
	var lns []net.Listener
	for i := 1; i <= members; i++ {
		tr, err := raft.NewTCPTransport(raft.TCPConfig{ID: uint64(i), ListenAddr: "127.0.0.1:0"})
		if err != nil {
			tb.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		trs, lns = append(trs, tr), append(lns, ln)
		ms = append(ms, raft.Member{ID: uint64(i), PeerAddr: tr.Addr(), ClientAddr: ln.Addr().String()})
	}
	g := &govCluster{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range members {
		n, err := raft.Open(ctx, raft.Config{ID: uint64(i + 1), Dir: tb.TempDir(), InitialCluster: ms, Transport: trs[i]})
		if err != nil {
			tb.Fatal(err)
		}
		srv := client.NewServer(n, nil)
		go srv.Serve(lns[i])
		tb.Cleanup(func() { srv.Close(); n.Close() })
		g.nodes = append(g.nodes, n)
	}
	lead, err := g.nodes[0].WaitLeader(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	g.lead = int(lead) - 1
	for _, m := range ms {
		c, err := client.New(client.Config{Endpoints: []string{m.ClientAddr}})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { c.Close() })
		g.clients = append(g.clients, c)
	}
	return g
}

func (g *govCluster) members() int { return len(g.clients) }
func (g *govCluster) leader() int  { return g.lead }

func (g *govCluster) put(ctx context.Context, m int, key string) error {
	_, err := kv.Put(ctx, g.clients[m], key, value256)
	return err
}

func (g *govCluster) get(ctx context.Context, m int, key string) error {
	_, _, err := kv.Get(ctx, g.clients[m], key)
	return err
}

func (g *govCluster) watch(ctx context.Context, m int, prefix string) (<-chan string, error) {
	wc, err := g.clients[m].Watch(ctx, kv.WatchRequest{Key: prefix, End: kv.PrefixEnd(prefix)})
	if err != nil {
		return nil, err
	}
	out := make(chan string, 1024)
	go func() {
		defer close(out)
		for resp := range wc {
			for _, ev := range resp.Events {
				select {
				case out <- ev.KV.Key:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

type impl struct {
	name  string
	start func(testing.TB, int) benchCluster
}

var raftImpls = []impl{
	{"governor", func(tb testing.TB, n int) benchCluster { return startGovernor(tb, n) }},
	{"etcd", func(tb testing.TB, n int) benchCluster { return startEtcd(tb, n) }},
}

// runClients runs b.N operations over clients goroutines and reports
// throughput and latency percentiles.
func runClients(b *testing.B, clients int, op func(ctx context.Context, i int) error) {
	ctx := context.Background()
	lat := make([][]time.Duration, clients)
	var next atomic.Int64
	var failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				t0 := time.Now()
				if err := op(ctx, int(i)); err != nil {
					failed.Add(1)
					continue
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d operations failed", f)
	}
	reportLatency(b, slices.Concat(lat...), elapsed)
}

func reportLatency(b *testing.B, all []time.Duration, elapsed time.Duration) {
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "ops/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

func BenchmarkRaftPut(b *testing.B) {
	for _, clients := range []int{64, 1} {
		for _, r := range routes {
			for _, im := range raftImpls {
				b.Run(fmt.Sprintf("members=3/clients=%d/route=%s/impl=%s", clients, r, im.name), func(b *testing.B) {
					c := im.start(b, 3)
					runClients(b, clients, func(ctx context.Context, i int) error {
						return c.put(ctx, r.member(i, c.members(), c.leader()), "/bench/put/"+strconv.Itoa(i%10000))
					})
				})
			}
		}
	}
}

func BenchmarkRaftRangeLinearizable(b *testing.B) {
	for _, r := range routes {
		for _, im := range raftImpls {
			b.Run(fmt.Sprintf("members=3/clients=64/route=%s/impl=%s", r, im.name), func(b *testing.B) {
				c := im.start(b, 3)
				if err := c.put(context.Background(), c.leader(), "/bench/read"); err != nil {
					b.Fatal(err)
				}
				runClients(b, 64, func(ctx context.Context, i int) error {
					return c.get(ctx, r.member(i, c.members(), c.leader()), "/bench/read")
				})
			})
		}
	}
}

func BenchmarkRaftWatch(b *testing.B) {
	const watchers = 100
	for _, r := range routes {
		for _, im := range raftImpls {
			b.Run(fmt.Sprintf("members=3/watchers=%d/route=%s/impl=%s", watchers, r, im.name), func(b *testing.B) {
				c := im.start(b, 3)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				chans := make([]<-chan string, watchers)
				for w := range chans {
					ch, err := c.watch(ctx, r.member(w, c.members(), c.leader()), "/bench/watch/")
					if err != nil {
						b.Fatal(err)
					}
					chans[w] = ch
				}
				// Warm up: make sure every watcher is registered.
				if err := c.put(ctx, c.leader(), "/bench/watch/warm"); err != nil {
					b.Fatal(err)
				}
				for _, ch := range chans {
					<-ch
				}
				var lats []time.Duration
				b.ResetTimer()
				start := time.Now()
				for i := 0; i < b.N; i++ {
					key := "/bench/watch/" + strconv.Itoa(i)
					t0 := time.Now()
					if err := c.put(ctx, r.member(i, c.members(), c.leader()), key); err != nil {
						b.Fatal(err)
					}
					for _, ch := range chans {
						if got := <-ch; got != key {
							b.Fatalf("watcher got %s, want %s", got, key)
						}
						lats = append(lats, time.Since(t0))
					}
				}
				elapsed := time.Since(start)
				b.StopTimer()
				reportLatency(b, lats, elapsed)
			})
		}
	}
}

// BenchmarkRaftPutEmbedded is our three members called in-process: the
// cost of consensus and the WAL without the client protocol.
func BenchmarkRaftPutEmbedded(b *testing.B) {
	b.Run("members=3/clients=64/impl=governor", func(b *testing.B) {
		g := startGovernor(b, 3)
		lead := g.nodes[g.lead]
		runClients(b, 64, func(ctx context.Context, i int) error {
			_, err := kv.Put(ctx, lead, "/bench/put/"+strconv.Itoa(i%10000), value256)
			return err
		})
	})
}

// BenchmarkRaftHeap100k reports the Go heap of one of our members after
// 100k keys of 256 B (in-process, so heap rather than RSS) next to etcd's
// embedded member holding the same keys. It is not RSS, nor like for like
// (etcd keeps values in bbolt's mmap, outside the Go heap): BenchmarkRaftRSS
// (rss_test.go) measures each member as its own process.
func BenchmarkRaftHeap100k(b *testing.B) {
	const keys = 100000
	for _, im := range raftImpls {
		b.Run("members=1/impl="+im.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				c := im.start(b, 1)
				var wg sync.WaitGroup
				var next atomic.Int64
				for range 64 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							k := next.Add(1)
							if k > keys {
								return
							}
							if err := c.put(context.Background(), c.leader(), fmt.Sprintf("/bench/heap/%08d", k)); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				runtime.GC()
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
			}
		})
	}
}
