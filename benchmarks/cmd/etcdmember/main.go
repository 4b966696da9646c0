// Command etcdmember runs one etcd v3.7.3 member (go.etcd.io/etcd/server/v3/embed)
// with etcd's defaults (fsync on), for the RSS benchmark in package benchmarks
// and as the store of kube-apiserver in package apiserverbench.
//
// It speaks the same line protocol as govmember on stdin and stdout: it
// prints "ready" once the member serves; each "stats" line makes it
// collect garbage (runtime.GC) and answer "stats <heap-bytes>"; at end of
// input it closes the member and exits.
//
//	etcdmember -name m1 -dir /tmp/m1 -client http://127.0.0.1:2379 \
//	    -peer http://127.0.0.1:2380 -cluster m1=http://127.0.0.1:2380,m2=...
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "etcdmember:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		name    = flag.String("name", "m1", "member name")
		dir     = flag.String("dir", "", "data directory")
		clientU = flag.String("client", "", "client URL")
		peerU   = flag.String("peer", "", "peer URL")
		cluster = flag.String("cluster", "", "initial cluster: name=peerURL,...")
	)
	flag.Parse()
	cu, err := url.Parse(*clientU)
	if err != nil {
		return err
	}
	pu, err := url.Parse(*peerU)
	if err != nil {
		return err
	}
	ec := embed.NewConfig()
	ec.Name = *name
	ec.Dir = *dir
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	ec.LogLevel = "error"
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	ec.InitialClusterToken = "rss"
	ec.InitialCluster = *cluster
	e, err := embed.StartEtcd(ec)
	if err != nil {
		return err
	}
	defer e.Close()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		return err
	case <-time.After(time.Minute):
		return fmt.Errorf("not ready after a minute")
	}
	return serveStats(os.Stdin, os.Stdout)
}

// serveStats answers the benchmark's requests until in ends.
func serveStats(in *os.File, out *os.File) error {
	fmt.Fprintln(out, "ready")
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if sc.Text() != "stats" {
			return fmt.Errorf("unknown request %q", sc.Text())
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(out, "stats %d\n", ms.HeapAlloc)
	}
	return sc.Err()
}
