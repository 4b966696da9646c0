package main

import (
	"bytes"
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
	"testing"
	"time"
)

// lines collects what run prints and hands out each complete line.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
	ch  chan string
}

func newLines() *lines { return &lines{ch: make(chan string, 100)} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.WriteString(line)
			return len(p), nil
		}
		select {
		case l.ch <- strings.TrimRight(line, "\n"):
		default:
		}
	}
}

// server is a running "governor apiserver".
type server struct {
	kubeconfig string
	url        string
	stop       func() error
}

// startServer runs "governor apiserver" with args and waits for it to
// print its kubeconfig.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	return beginServer(t, args...)()
}

// beginServer starts "governor apiserver" with args and returns a
// function that waits for it to print its kubeconfig: servers that need
// each other (the members of one Raft cluster) start together.
func beginServer(t *testing.T, args ...string) func() *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := newLines()
	stderr := &syncWriter{w: &bytes.Buffer{}}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"apiserver", "-listen", "127.0.0.1:0", "-log", "warn"}, args...), out, stderr)
	}()
	s := &server{}
	var once sync.Once
	var stopErr error
	s.stop = func() error {
		once.Do(func() {
			cancel()
			stopErr = <-done
		})
		return stopErr
	}
	t.Cleanup(func() { _ = s.stop() })
	return func() *server {
		t.Helper()
		timeout := time.NewTimer(60 * time.Second)
		defer timeout.Stop()
		for s.kubeconfig == "" {
			select {
			case line := <-out.ch:
				if u, ok := strings.CutPrefix(line, "governor apiserver: serving "); ok {
					s.url, _, _ = strings.Cut(u, " ")
				}
				if p, ok := strings.CutPrefix(line, "  export KUBECONFIG="); ok {
					s.kubeconfig = p
				}
			case err := <-done:
				done <- err
				t.Fatalf("the server stopped: %v\n%s", err, stderr.String())
			case <-timeout.C:
				t.Fatalf("the server printed no kubeconfig\n%s", stderr.String())
			}
		}
		return s
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.String()
}

// freeAddrs returns n 127.0.0.1 addresses whose ports were free a moment
// ago.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ln.Addr().String())
		ln.Close()
	}
	return out
}

// call sends one API request to s and returns the code and body.
func (s *server) call(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(data)
}

// Three API servers that are the three members of one Raft KV: a write
// through any of them is read, consistently, through the others.
func TestThreeMemberRaft(t *testing.T) {
	peers := freeAddrs(t, 3)
	cluster := fmt.Sprintf("1=%s,2=%s,3=%s", peers[0], peers[1], peers[2])
	var waits []func() *server
	for i := range 3 {
		waits = append(waits, beginServer(t, "-data-dir", t.TempDir(), "-raft-id", fmt.Sprint(i+1), "-raft-cluster", cluster))
	}
	var servers []*server
	for _, w := range waits {
		servers = append(servers, w())
	}
	if code, body := servers[0].call(t, "POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"one"},"data":{"k":"v"}}`); code != 201 {
		t.Fatalf("create through member 1: %d %s", code, body)
	}
	for i, s := range servers[1:] {
		if code, body := s.call(t, "GET", "/api/v1/namespaces/default/configmaps/one", ""); code != 200 || !strings.Contains(body, `"k":"v"`) {
			t.Fatalf("get through member %d: %d %s", i+2, code, body)
		}
	}
	if code, body := servers[2].call(t, "POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"three"}}`); code != 201 {
		t.Fatalf("create through member 3: %d %s", code, body)
	}
	if code, body := servers[0].call(t, "GET", "/api/v1/namespaces/default/configmaps", ""); code != 200 || !strings.Contains(body, `"name":"one"`) || !strings.Contains(body, `"name":"three"`) {
		t.Fatalf("a consistent list through member 1: %d %s", code, body)
	}
}

func TestAPIServerStopsOnCancel(t *testing.T) {
	s := startServer(t, "-storage", "memory", "-data-dir", t.TempDir())
	data, err := os.ReadFile(s.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "server: "+s.url) || !strings.Contains(string(data), "current-context: governor") {
		t.Fatalf("kubeconfig:\n%s", data)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

func TestAPIServerBadFlags(t *testing.T) {
	var out, errw bytes.Buffer
	for _, args := range [][]string{{}, {"nope"}, {"apiserver", "-storage", "tape", "-data-dir", t.TempDir()}, {"apiserver", "extra"}} {
		if err := run(context.Background(), args, &out, &errw); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

// kubectl runs kubectl against s and returns its output.
func (s *server) kubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.kubeconfig, "HOME="+t.TempDir())
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func mustContain(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Fatalf("%s: %q missing from:\n%s", what, w, got)
		}
	}
}

const podYAML = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
  - name: nginx
    image: nginx:1.19
    ports:
    - containerPort: 80
`

// watchWhileWriting runs "kubectl get pods -w" while a pod is created, and
// waits for the watch to print it.
func (s *server) watchWhileWriting(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", "get", "pods", "-w")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.kubeconfig, "HOME="+t.TempDir())
	out := newLines()
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = cmd.Wait()
	}()
	for seen := false; !seen; { // the list's first row: the watch is open
		select {
		case line := <-out.ch:
			seen = strings.HasPrefix(line, "web ")
		case <-ctx.Done():
			t.Fatal("kubectl get -w printed no list")
		}
	}
	s.kubectl(t, strings.Replace(podYAML, "name: web", "name: watched", 1), "create", "-f", "-")
	for {
		select {
		case line := <-out.ch:
			if strings.HasPrefix(line, "watched ") {
				return
			}
		case <-ctx.Done():
			t.Fatal("kubectl get -w did not print the new pod")
		}
	}
}

const deploymentYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: api
        image: nginx
`

// TestKubectlSession runs a scripted kubectl session against the
// command's server, on its default storage (Raft in a data directory),
// then restarts it on the same directory.
func TestKubectlSession(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not installed (apt-get install kubernetes-client)")
	}
	dir := t.TempDir()
	s := startServer(t, "-data-dir", dir)
	mustContain(t, "api-resources", s.kubectl(t, "", "api-resources"),
		"pods", "po", "Pod", "deployments", "apps/v1", "namespaces")
	mustContain(t, "get ns", s.kubectl(t, "", "get", "namespaces"), "default", "kube-system")

	file := filepath.Join(t.TempDir(), "pod.yaml")
	if err := os.WriteFile(file, []byte(podYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "create", s.kubectl(t, "", "create", "-f", file), "pod/web created")
	mustContain(t, "apply", s.kubectl(t, "", "apply", "-f", file), "pod/web")
	changed := strings.Replace(strings.Replace(podYAML, "1.19", "1.20", 1), "app: web", "app: web\n    tier: front", 1)
	if err := os.WriteFile(file, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "apply a change", s.kubectl(t, "", "apply", "-f", file), "pod/web configured")
	mustContain(t, "the applied image", s.kubectl(t, "", "get", "pod", "web", "-o", "jsonpath={.spec.containers[0].image} {.spec.containers[0].ports[0].containerPort} {.metadata.labels.tier}"),
		"nginx:1.20 80 front")

	mustContain(t, "get", s.kubectl(t, "", "get", "pods"), "NAME", "READY", "STATUS", "RESTARTS", "AGE", "web", "0/1", "Pending")
	mustContain(t, "get -o wide", s.kubectl(t, "", "get", "pods", "-o", "wide"), "NODE", "NOMINATED NODE", "web")
	mustContain(t, "get -o json", s.kubectl(t, "", "get", "pod", "web", "-o", "json"), `"kind": "Pod"`, `"uid":`, `"resourceVersion":`)
	mustContain(t, "get -o yaml", s.kubectl(t, "", "get", "pod", "web", "-o", "yaml"), "kind: Pod", "name: web", "image: nginx:1.20")

	mustContain(t, "label", s.kubectl(t, "", "label", "pod", "web", "env=prod"), "pod/web labeled")
	mustContain(t, "annotate", s.kubectl(t, "", "annotate", "pod", "web", "note=hi"), "pod/web annotated")
	mustContain(t, "patch merge", s.kubectl(t, "", "patch", "pod", "web", "--type", "merge", "-p", `{"metadata":{"labels":{"m":"1"}}}`), "pod/web patched")
	mustContain(t, "patch json", s.kubectl(t, "", "patch", "pod", "web", "--type", "json", "-p", `[{"op":"add","path":"/metadata/labels/j","value":"2"}]`), "pod/web patched")
	mustContain(t, "patch strategic", s.kubectl(t, "", "patch", "pod", "web", "-p", `{"metadata":{"labels":{"s":"3"}}}`), "pod/web patched")
	mustContain(t, "labels", s.kubectl(t, "", "get", "pod", "web", "--show-labels"), "app=web,env=prod,j=2,m=1,s=3,tier=front")
	mustContain(t, "selector", s.kubectl(t, "", "get", "pods", "-l", "env=prod", "-o", "name"), "pod/web")
	mustContain(t, "annotation", s.kubectl(t, "", "get", "pod", "web", "-o", "jsonpath={.metadata.annotations.note}"), "hi")

	// (kubectl create deployment sends protobuf, which gets 415: see
	// CONTROLPLANE.md.)
	mustContain(t, "create deployment", s.kubectl(t, deploymentYAML, "create", "-f", "-"), "deployment.apps/api created")
	mustContain(t, "get deployment", s.kubectl(t, "", "get", "deploy"), "api", "READY", "0/2")
	mustContain(t, "scale", s.kubectl(t, "", "scale", "deployment", "api", "--replicas=3"), "deployment.apps/api scaled")
	mustContain(t, "scaled", s.kubectl(t, "", "get", "deploy", "api", "-o", "jsonpath={.spec.replicas}"), "3")
	mustContain(t, "describe", s.kubectl(t, "", "describe", "pod", "web"), "Name:", "web", "nginx:1.20")
	s.watchWhileWriting(t)

	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	s = startServer(t, "-data-dir", dir)
	mustContain(t, "after a restart", s.kubectl(t, "", "get", "pod", "web", "--show-labels"), "tier=front")

	mustContain(t, "delete", s.kubectl(t, "", "delete", "pod", "web", "watched"), `pod "web" deleted`, `pod "watched" deleted`)
	mustContain(t, "gone", s.kubectl(t, "", "get", "pods"), "No resources found")
}
