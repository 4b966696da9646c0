// Command govmember runs one member of a Governor Raft KV cluster, the way
// examples/kvd does (raft.Open behind a raft/client server), for the RSS
// benchmark in package benchmarks. It runs with Go's defaults (no GOGC or
// memory limit of its own), as etcd's member does.
//
// It speaks a line protocol on stdin and stdout: it prints "ready" once
// the member runs; each "stats" line on stdin makes it collect garbage
// (runtime.GC) and answer "stats <heap-bytes>" with the live heap after
// that collection (and, with -heapprofile, write a heap profile); at end
// of input it closes the member and exits.
//
//	govmember -id 1 -dir /tmp/m1 -client 127.0.0.1:2379 \
//	    -cluster 1=127.0.0.1:2380/127.0.0.1:2379,2=...
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/raft/client"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "govmember:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		id      = flag.Uint64("id", 1, "member ID")
		dir     = flag.String("dir", "", "data directory")
		clientA = flag.String("client", "127.0.0.1:0", "client listen address")
		cluster = flag.String("cluster", "", "initial cluster: id=peer/client,...")
		heapOut = flag.String("heapprofile", "", "write a heap profile here at each stats request")
	)
	flag.Parse()
	var members []raft.Member
	for _, part := range strings.Split(*cluster, ",") {
		ids, addrs, ok := strings.Cut(part, "=")
		peer, cl, ok2 := strings.Cut(addrs, "/")
		n, err := strconv.ParseUint(ids, 10, 64)
		if !ok || !ok2 || err != nil {
			return fmt.Errorf("bad -cluster entry %q", part)
		}
		members = append(members, raft.Member{ID: n, PeerAddr: peer, ClientAddr: cl})
	}
	ln, err := net.Listen("tcp", *clientA)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	node, err := raft.Open(ctx, raft.Config{ID: *id, Dir: *dir, InitialCluster: members})
	if err != nil {
		return err
	}
	defer node.Close()
	srv := client.NewServer(node, nil)
	go srv.Serve(ln)
	defer srv.Close()
	if _, err := node.WaitLeader(ctx); err != nil {
		return err
	}
	return serveStats(os.Stdin, os.Stdout, *heapOut)
}

// serveStats answers the benchmark's requests until in ends.
func serveStats(in *os.File, out *os.File, heapOut string) error {
	fmt.Fprintln(out, "ready")
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if sc.Text() != "stats" {
			return fmt.Errorf("unknown request %q", sc.Text())
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if heapOut != "" {
			if err := writeHeapProfile(heapOut); err != nil {
				return err
			}
		}
		fmt.Fprintf(out, "stats %d\n", ms.HeapAlloc)
	}
	return sc.Err()
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
