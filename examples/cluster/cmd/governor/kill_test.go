package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/api/corev1"
	"github.com/governor-io/governor/examples/cluster/client"
	"github.com/governor-io/governor/store/meta"
)

// The test in this file builds the governor command, runs its API server
// as a process on Raft storage, kills it with SIGKILL and starts it again
// on the same data dir and address.

// buildGovernor builds this command into a temporary directory, with the
// race detector when the test binary has it (so the build reuses the
// test's compiled packages).
func buildGovernor(ctx context.Context, t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "governor")
	args := []string{"build", "-o", bin}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "-race" && s.Value == "true" {
				args = append(args, "-race")
			}
		}
	}
	cmd := exec.CommandContext(ctx, "go", append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is one run of "governor apiserver".
type process struct {
	url    string
	cmd    *exec.Cmd
	stderr *lockedBuffer
	exited chan struct{} // closed when the process has been reaped
	err    error         // Wait's result, once exited is closed
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startProcess runs bin's API server on the Raft KV in dir, listening on
// listen, and waits until it says where it serves and /readyz answers 200.
// The process is killed when the test ends if it still runs.
func startProcess(ctx context.Context, t *testing.T, bin, dir, listen string) *process {
	t.Helper()
	p := &process{stderr: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "apiserver", "-storage", "raft", "-data-dir", dir, "-listen", listen, "-log", "warn")
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "governor apiserver: serving "); ok {
				u, _, _ = strings.Cut(u, " ")
				urls <- u
			}
		}
		p.err = p.cmd.Wait() // after stdout is read to its end, as Wait requires
		close(p.exited)
	}()
	t.Cleanup(func() { p.kill(t) })
	select {
	case p.url = <-urls:
	case <-p.exited:
		t.Fatalf("the server exited: %v\n%s", p.err, p.stderr)
	case <-ctx.Done():
		t.Fatalf("the server never said where it serves\n%s", p.stderr)
	}
	if err := awaitReady(ctx, p.url); err != nil {
		t.Fatalf("%v\n%s", err, p.stderr)
	}
	return p
}

// kill sends SIGKILL, if the process still runs, and reaps it.
func (p *process) kill(t *testing.T) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	if p.err == nil {
		t.Errorf("a killed server exited with status 0")
	}
}

// awaitReady asks /readyz until it answers 200: the listener is open
// before the watch caches have loaded, and until then /readyz answers
// 503. Each retry waits a little longer; ctx bounds them all.
func awaitReady(ctx context.Context, url string) error {
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	wait := 10 * time.Millisecond
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/readyz", nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("readyz: %w (last: %v)", ctx.Err(), err)
		case <-t.C:
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// watched is one event a watcher saw.
type watched struct {
	typ meta.EventType
	rv  string
	err error
}

// watchPods watches pods in default from rv and, whenever the stream
// ends (the server went away), watches again from the last
// resourceVersion it saw, as a client resuming its watch does. It sends
// every event on the returned channel until ctx is done or it gets an
// ERROR event.
func watchPods(ctx context.Context, pods *client.Resource[*corev1.Pod], rv string) <-chan watched {
	out := make(chan watched, 1000)
	go func() {
		defer close(out)
		for ctx.Err() == nil {
			ch, err := pods.Watch(ctx, meta.ListOptions{Namespace: "default", ResourceVersion: rv})
			if err != nil {
				continue // opening was retried with backoff; try again while ctx lasts
			}
			for ev := range ch {
				if ev.Type == meta.Error {
					out <- watched{typ: ev.Type, err: ev.Err}
					return
				}
				rv = ev.Object.GetObjectMeta().ResourceVersion
				out <- watched{typ: ev.Type, rv: rv}
			}
		}
	}()
	return out
}

// TestKill9LosesNoAcknowledgedWriteAndWatchResumes kills the API server
// process with SIGKILL after acknowledged writes and starts it again on
// the same data dir and address: every acknowledged write is there, and a
// watch resumed from the last resourceVersion it saw gets every later
// revision, in order, with none missing.
func TestKill9LosesNoAcknowledgedWriteAndWatchResumes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := buildGovernor(ctx, t)
	dir := filepath.Join(t.TempDir(), "data")
	p := startProcess(ctx, t, bin, dir, "127.0.0.1:0")
	addr := strings.TrimPrefix(p.url, "http://")

	c, err := client.New(client.Config{Host: p.url, QPS: -1, MaxRetries: 30, Timeout: time.Minute,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pods := client.For(c, corev1.Pods)
	list, err := pods.List(ctx, meta.ListOptions{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	events := watchPods(wctx, pods, list.ResourceVersion)

	// Every write is acknowledged with its resourceVersion; a watch event
	// is expected for each, in order.
	var acked []string
	latest := map[string]string{} // pod -> resourceVersion of its last acknowledged write ("" once deleted)
	create := func(name string) {
		t.Helper()
		pod := corev1.Pods.New()
		pod.Namespace, pod.Name = "default", name
		pod.Spec.Containers = []corev1.Container{{Name: "app", Image: "nginx:1.27"}}
		got, err := pods.Create(ctx, pod)
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		acked = append(acked, got.ResourceVersion)
		latest[name] = got.ResourceVersion
	}
	label := func(name string, v int) {
		t.Helper()
		got, err := pods.Patch(ctx, "default", name, client.MergePatch, fmt.Appendf(nil, `{"metadata":{"labels":{"v":"%d"}}}`, v))
		if err != nil {
			t.Fatalf("patch %s: %v", name, err)
		}
		acked = append(acked, got.ResourceVersion)
		latest[name] = got.ResourceVersion
	}
	remove := func(name string) {
		t.Helper()
		if _, err := pods.Delete(ctx, "default", name, meta.DeleteOptions{}); err != nil {
			t.Fatalf("delete %s: %v", name, err)
		}
		acked = append(acked, "") // the delete's revision is the watch event's
		latest[name] = ""
	}
	var seen []watched
	awaitWatch := func() {
		t.Helper()
		for len(seen) < len(acked) {
			select {
			case ev, ok := <-events:
				if !ok || ev.err != nil {
					t.Fatalf("the watch ended after %d events: %v", len(seen), ev.err)
				}
				seen = append(seen, ev)
			case <-ctx.Done():
				t.Fatalf("the watch saw %d of %d writes", len(seen), len(acked))
			}
		}
	}
	checkStored := func() {
		t.Helper()
		got, err := pods.List(ctx, meta.ListOptions{Namespace: "default"})
		if err != nil {
			t.Fatal(err)
		}
		stored := map[string]string{}
		for _, p := range got.Items {
			stored[p.Name] = p.ResourceVersion
		}
		for name, rv := range latest {
			if stored[name] != rv {
				t.Errorf("after the restart %s is at %q, its last acknowledged write at %q", name, stored[name], rv)
			}
		}
		if len(stored) != len(latest)-countEmpty(latest) {
			t.Errorf("after the restart the server holds %v, want %v", stored, latest)
		}
	}

	for i := range 8 {
		create(fmt.Sprintf("p%d", i))
	}
	for i := range 8 {
		label(fmt.Sprintf("p%d", i), 1)
	}
	remove("p7")
	awaitWatch() // the watch is at the last revision when the server dies
	p.kill(t)
	p = startProcess(ctx, t, bin, dir, addr)
	checkStored()

	for i := range 6 {
		label(fmt.Sprintf("p%d", i), 2)
	}
	create("p8")
	remove("p0")
	awaitWatch()
	prev := int64(0)
	for i, ev := range seen {
		rv, err := meta.ParseResourceVersion(ev.rv)
		if err != nil || rv <= prev {
			t.Fatalf("event %d at %q after %d: not in order", i, ev.rv, prev)
		}
		prev = rv
		if acked[i] != "" && acked[i] != ev.rv {
			t.Fatalf("event %d is at %s, write %d was acknowledged at %s", i, ev.rv, i, acked[i])
		}
		if want := meta.Deleted; (acked[i] == "") != (ev.typ == want) {
			t.Fatalf("event %d is %s at %s, write %d was acknowledged at %q", i, ev.typ, ev.rv, i, acked[i])
		}
	}
	stopWatch()
	for range events {
	}

	// Acknowledged just before the kill, with nobody waiting for them to
	// be seen: still there after the restart.
	for i := 1; i < 7; i++ {
		label(fmt.Sprintf("p%d", i), 3)
	}
	create("p9")
	p.kill(t)
	p = startProcess(ctx, t, bin, dir, addr)
	checkStored()

	// A graceful stop ends the last run.
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
		if p.err != nil {
			t.Fatalf("the server stopped with %v\n%s", p.err, p.stderr)
		}
	case <-ctx.Done():
		t.Fatalf("the server did not stop on SIGINT\n%s", p.stderr)
	}
}

func countEmpty(m map[string]string) int {
	n := 0
	for _, v := range m {
		if v == "" {
			n++
		}
	}
	return n
}
