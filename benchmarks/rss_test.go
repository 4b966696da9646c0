package benchmarks

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/governor-io/governor/raft/client"
	"github.com/governor-io/governor/store/kv"
)

// BenchmarkRaftRSS measures the resident memory of each member process of
// our Raft KV and of etcd v3.7.3 after 100k keys of 256 B, like for like:
// each member is its own OS process (cmd/govmember: raft.Open behind a
// raft/client server, as examples/kvd; cmd/etcdmember: etcd's embed
// package with its defaults), both built with Go's defaults and run
// without GOGC or GOMEMLIMIT (members=1/gogc=50 runs both with GOGC=50
// instead, to show what that setting buys each). This process writes the keys through each
// one's network client (raft/client; clientv3 over gRPC), one client per
// member, from 64 concurrent writers whose puts go to the members in turn
// (the same spread on both sides), then asks every member to collect garbage and
// reads VmRSS and VmHWM from /proc/<pid>/status once it answers.
//
// Metrics, per member (the largest member for members=3; rss-mean-MiB is
// the mean over members): rss-MiB (VmRSS after the GC), hwm-MiB (peak
// RSS), rss-file-MiB (the file-backed part of VmRSS: the executable's
// pages and, for etcd, its bbolt database mapped in memory), heap-MiB (live Go heap after the GC, as the member reports it)
// and puts/s while writing.
//
//	go test -run '^$' -bench BenchmarkRaftRSS -count 5 -benchtime 1x
func BenchmarkRaftRSS(b *testing.B) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		b.Skip("needs /proc/<pid>/status (Linux)")
	}
	bin := b.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "./cmd/govmember", "./cmd/etcdmember")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build members: %v\n%s", err, out)
	}
	const keys = 100000
	impls := []struct {
		name  string
		start func(b *testing.B, bin string, members int, gogc string) *rssCluster
	}{
		{"governor", startGovMembers},
		{"etcd", startEtcdMembers},
	}
	runs := []struct {
		members int
		gogc    string // GOGC for the members; empty means Go's default
	}{{1, ""}, {3, ""}, {1, "50"}}
	for _, run := range runs {
		for _, im := range impls {
			name := fmt.Sprintf("members=%d/impl=%s", run.members, im.name)
			if run.gogc != "" {
				name = fmt.Sprintf("members=%d/gogc=%s/impl=%s", run.members, run.gogc, im.name)
			}
			b.Run(name, func(b *testing.B) {
				var rss, rssMean, hwm, file, heap, rate float64
				for range b.N {
					c := im.start(b, bin, run.members, run.gogc)
					start := time.Now()
					writeKeys(b, c.put, keys, 64)
					rate += keys / time.Since(start).Seconds()
					st := c.stats(b)
					rss += st.maxRSS
					rssMean += st.meanRSS
					hwm += st.maxHWM
					file += st.maxFile
					heap += st.maxHeap
					c.stop(b)
				}
				n := float64(b.N)
				b.ReportMetric(rss/n, "rss-MiB")
				b.ReportMetric(rssMean/n, "rss-mean-MiB")
				b.ReportMetric(hwm/n, "hwm-MiB")
				b.ReportMetric(file/n, "rss-file-MiB")
				b.ReportMetric(heap/n, "heap-MiB")
				b.ReportMetric(rate/n, "puts/s")
			})
		}
	}
}

// writeKeys puts keys distinct keys of 256 B from writers goroutines.
func writeKeys(b *testing.B, put func(ctx context.Context, key string) error, keys, writers int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Int64
	var firstErr atomic.Value
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := next.Add(1)
				if k > int64(keys) {
					return
				}
				if err := put(ctx, fmt.Sprintf("/bench/rss/%08d", k)); err != nil {
					if failed.Add(1) == 1 {
						firstErr.Store(err)
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d writers failed; first error: %v", f, firstErr.Load())
	}
}

// rssCluster is a cluster of member processes and a client of it.
type rssCluster struct {
	procs []*memberProc
	put   func(ctx context.Context, key string) error
	close func()
}

// memberProc is one member process, driven over its stdin and stdout.
type memberProc struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Scanner
	lines chan string // lines from out, closed at its end
}

// startMember starts a member process with Go's defaults, as a user would
// run either server, except for GOGC when gogc is not empty.
func startMember(b *testing.B, gogc, path string, args ...string) *memberProc {
	cmd := exec.Command(path, args...)
	env := []string{}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "GOGC=") && !strings.HasPrefix(e, "GOMEMLIMIT=") && !strings.HasPrefix(e, "GODEBUG=") {
			env = append(env, e)
		}
	}
	if gogc != "" {
		env = append(env, "GOGC="+gogc)
	}
	cmd.Env = env
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &memberProc{cmd: cmd, in: in, out: bufio.NewScanner(out), lines: make(chan string, 4)}
	go func() {
		defer close(p.lines)
		for p.out.Scan() {
			p.lines <- p.out.Text()
		}
	}()
	return p
}

// next returns the member's next line, failing after a minute.
func (p *memberProc) next(b *testing.B) string {
	select {
	case l, ok := <-p.lines:
		if !ok {
			b.Fatalf("member %d exited: %v", p.cmd.Process.Pid, p.cmd.Wait())
		}
		return l
	case <-time.After(time.Minute):
		b.Fatalf("member %d did not answer within a minute", p.cmd.Process.Pid)
	}
	return ""
}

// stop ends the member (end of input) and waits for it, killing it if it
// does not exit within a minute.
func (p *memberProc) stop() error {
	p.in.Close()
	done := make(chan error, 1)
	go func() {
		for range p.lines {
		}
		done <- p.cmd.Wait()
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		p.cmd.Process.Kill()
		return fmt.Errorf("member %d did not exit; killed: %v", p.cmd.Process.Pid, <-done)
	}
}

type memStats struct{ maxRSS, meanRSS, maxHWM, maxFile, maxHeap float64 }

// stats asks every member to collect garbage, then reads its RSS.
func (c *rssCluster) stats(b *testing.B) memStats {
	var st memStats
	for _, p := range c.procs {
		if _, err := fmt.Fprintln(p.in, "stats"); err != nil {
			b.Fatal(err)
		}
		line := p.next(b)
		heap, err := strconv.ParseFloat(strings.TrimPrefix(line, "stats "), 64)
		if err != nil {
			b.Fatalf("member answered %q", line)
		}
		rss, hwm, file, err := procMemory(p.cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		st.maxRSS = max(st.maxRSS, rss)
		st.meanRSS += rss / float64(len(c.procs))
		st.maxHWM = max(st.maxHWM, hwm)
		st.maxFile = max(st.maxFile, file)
		st.maxHeap = max(st.maxHeap, heap/(1<<20))
	}
	return st
}

// procMemory returns a process's VmRSS, VmHWM and RssFile in MiB.
func procMemory(pid int) (rss, hwm, file float64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, 0, err
	}
	fields := map[string]*float64{"VmRSS": &rss, "VmHWM": &hwm, "RssFile": &file}
	for _, line := range strings.Split(string(data), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok || fields[name] == nil {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 64)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("%s: %q: %w", name, val, err)
		}
		*fields[name] = kb / 1024
	}
	if rss == 0 || hwm == 0 {
		return 0, 0, 0, fmt.Errorf("no VmRSS/VmHWM in /proc/%d/status", pid)
	}
	return rss, hwm, file, nil
}

func (c *rssCluster) stop(b *testing.B) {
	c.close()
	for _, p := range c.procs {
		if err := p.stop(); err != nil {
			b.Error(err)
		}
	}
}

// waitReady waits for every member's "ready" line.
func (c *rssCluster) waitReady(b *testing.B) {
	for _, p := range c.procs {
		if l := p.next(b); l != "ready" {
			b.Fatalf("member said %q, want ready", l)
		}
	}
}

func startGovMembers(b *testing.B, bin string, members int, gogc string) *rssCluster {
	var cluster, endpoints []string
	for i := 1; i <= members; i++ {
		peer := "127.0.0.1:" + strconv.Itoa(freePort(b))
		cl := "127.0.0.1:" + strconv.Itoa(freePort(b))
		cluster = append(cluster, fmt.Sprintf("%d=%s/%s", i, peer, cl))
		endpoints = append(endpoints, cl)
	}
	c := &rssCluster{}
	for i := 1; i <= members; i++ {
		c.procs = append(c.procs, startMember(b, gogc, filepath.Join(bin, "govmember"),
			"-id", strconv.Itoa(i), "-dir", b.TempDir(), "-client", endpoints[i-1],
			"-cluster", strings.Join(cluster, ",")))
	}
	c.close = func() {}
	c.waitReady(b)
	var cls []*client.Client
	for _, ep := range endpoints {
		cl, err := client.New(client.Config{Endpoints: []string{ep}})
		if err != nil {
			c.stop(b)
			b.Fatal(err)
		}
		cls = append(cls, cl)
	}
	var next atomic.Int64
	c.put = func(ctx context.Context, key string) error {
		_, err := kv.Put(ctx, cls[int(next.Add(1))%len(cls)], key, value256)
		return err
	}
	c.close = func() {
		for _, cl := range cls {
			cl.Close()
		}
	}
	return c
}

func startEtcdMembers(b *testing.B, bin string, members int, gogc string) *rssCluster {
	var cluster, endpoints, peers []string
	for i := 1; i <= members; i++ {
		peer := "http://127.0.0.1:" + strconv.Itoa(freePort(b))
		cl := "127.0.0.1:" + strconv.Itoa(freePort(b))
		cluster = append(cluster, fmt.Sprintf("m%d=%s", i, peer))
		endpoints = append(endpoints, cl)
		peers = append(peers, peer)
	}
	c := &rssCluster{}
	for i := 1; i <= members; i++ {
		c.procs = append(c.procs, startMember(b, gogc, filepath.Join(bin, "etcdmember"),
			"-name", fmt.Sprintf("m%d", i), "-dir", b.TempDir(), "-client", "http://"+endpoints[i-1],
			"-peer", peers[i-1], "-cluster", strings.Join(cluster, ",")))
	}
	c.close = func() {}
	c.waitReady(b)
	var cls []*clientv3.Client
	for _, ep := range endpoints {
		cl, err := clientv3.New(clientv3.Config{Endpoints: []string{ep}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
		if err != nil {
			c.stop(b)
			b.Fatal(err)
		}
		cls = append(cls, cl)
	}
	var next atomic.Int64
	c.put = func(ctx context.Context, key string) error {
		_, err := cls[int(next.Add(1))%len(cls)].Put(ctx, key, string(value256))
		return err
	}
	c.close = func() {
		for _, cl := range cls {
			cl.Close()
		}
	}
	return c
}
