package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/governor-io/governor/raft/client"
	"github.com/governor-io/governor/store/kv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// TestThreeProcessesSurviveLeaderKill starts three kvd processes, kills
// the leader with SIGKILL while a client writes, restarts it, and checks
// that no acknowledged write is lost and that all members converge.
func TestThreeProcessesSurviveLeaderKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs kvd processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "kvd")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	var peers, clients []string
	var spec []string
	for i := 1; i <= 3; i++ {
		p, c := freeAddr(t), freeAddr(t)
		peers, clients = append(peers, p), append(clients, c)
		spec = append(spec, fmt.Sprintf("%d=%s/%s", i, p, c))
	}
	root := t.TempDir()
	procs := map[int]*proc{}
	var mu sync.Mutex
	start := func(i int) {
		cmd := exec.Command(bin, "-id", fmt.Sprint(i), "-data", filepath.Join(root, fmt.Sprint(i)),
			"-peer", peers[i-1], "-client", clients[i-1], "-cluster", strings.Join(spec, ","),
			"-tick", "20ms", "-snapshot-entries", "200", "-log", "error")
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait for the banner: the member is serving.
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "client:") {
				break
			}
		}
		go io.Copy(io.Discard, stdout)
		p := &proc{cmd: cmd, done: make(chan struct{})}
		go func() { cmd.Wait(); close(p.done) }()
		mu.Lock()
		procs[i] = p
		mu.Unlock()
	}
	for i := 1; i <= 3; i++ {
		start(i)
	}
	defer func() {
		for _, p := range procs {
			p.cmd.Process.Signal(syscall.SIGTERM)
			<-p.done
		}
	}()

	c, err := client.New(client.Config{Endpoints: clients})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// Write until told to stop, remembering what was acknowledged.
	var acked []string
	var ackMu sync.Mutex
	ackc := make(chan struct{}, 1) // signalled after each acknowledgement
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			key := fmt.Sprintf("/mp/%05d", i)
			wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := kv.Put(wctx, c, key, []byte("v"))
			wcancel()
			if err == nil {
				ackMu.Lock()
				acked = append(acked, key)
				ackMu.Unlock()
				select {
				case ackc <- struct{}{}:
				default:
				}
			}
		}
	}()
	waitAcked := func(n int) {
		for {
			ackMu.Lock()
			got := len(acked)
			ackMu.Unlock()
			if got >= n {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("only %d writes acknowledged", got)
			case <-ackc:
			}
		}
	}
	waitAcked(100)
	lead := leaderOf(t, clients)
	// The leader's /metrics shows its traffic with its peers.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	mreq, _ := http.NewRequestWithContext(ctx, "GET", "http://"+clients[lead-1]+"/metrics", nil)
	mresp, err := hc.Do(mreq)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, family := range []string{"etcd_network_peer_sent_bytes_total{", "etcd_network_peer_received_bytes_total{"} {
		if !strings.Contains(string(metrics), "\n"+family) {
			t.Errorf("leader's /metrics lacks %s...}", family)
		}
	}
	t.Logf("killing leader %d", lead)
	procs[lead].cmd.Process.Signal(syscall.SIGKILL)
	<-procs[lead].done
	ackMu.Lock()
	before := len(acked)
	ackMu.Unlock()
	waitAcked(before + 100)
	start(lead)
	ackMu.Lock()
	before = len(acked)
	ackMu.Unlock()
	waitAcked(before + 50)
	close(stop)
	<-writerDone

	// Every member, read linearizably and then locally, holds every
	// acknowledged key, and all hold the same state.
	var digests []string
	for i, addr := range clients {
		mc, err := client.New(client.Config{Endpoints: []string{addr}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mc.Range(ctx, kv.RangeRequest{Key: "/mp/"}); err != nil {
			t.Fatalf("member %d: %v", i+1, err)
		}
		resp, err := mc.Range(ctx, kv.RangeRequest{Key: "/mp/", End: kv.PrefixEnd("/mp/"), Serializable: true})
		mc.Close()
		if err != nil {
			t.Fatalf("member %d: %v", i+1, err)
		}
		have := map[string]bool{}
		var sb strings.Builder
		fmt.Fprintf(&sb, "rev=%d", resp.Revision)
		for _, e := range resp.KVs {
			have[e.Key] = true
			fmt.Fprintf(&sb, " %s@%d", e.Key, e.ModRevision)
		}
		for _, k := range acked {
			if !have[k] {
				t.Fatalf("member %d lost acknowledged write %s", i+1, k)
			}
		}
		digests = append(digests, sb.String())
	}
	if digests[0] != digests[1] || digests[1] != digests[2] {
		t.Fatal("members diverged")
	}
	t.Logf("%d acknowledged writes survived", len(acked))
}

// leaderOf asks each member's metrics which one leads.
func leaderOf(t *testing.T, clients []string) int {
	t.Helper()
	for i, addr := range clients {
		hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := hc.Get("http://" + addr + "/metrics")
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), "\netcd_server_is_leader 1") {
			return i + 1
		}
	}
	t.Fatal("no leader")
	return 0
}
