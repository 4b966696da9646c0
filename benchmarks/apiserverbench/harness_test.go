package apiserverbench

import (
	"context"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"testing"
	"time"
)

// buildGovernor builds "governor" from this module (so that it reuses the
// test's compiled packages, with the race detector when the test has it).
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
	cmd := exec.CommandContext(ctx, "go", append(args, "github.com/governor-io/governor/examples/cluster/cmd/governor")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestStartGovernorProcess starts "governor apiserver" as the benchmark
// does (a process on Raft storage, HTTPS with the run's PKI), drives it at
// a thousandth of the published sizes, reads its RSS by the PID the
// harness reports, and stops it with SIGTERM.
func TestStartGovernorProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the governor command")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin := buildGovernor(ctx, t)
	dir := t.TempDir()
	p, err := NewPKI(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	proc, err := StartGovernor(ctx, bin, dir, p)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = proc.Stop()
		}
	}()
	c := Full().Scale(1000)
	c.Clients, c.Lists = 4, 1
	r, err := Run(ctx, Target{REST: p.REST(proc.URL), PIDs: proc.PIDs}, c)
	if err != nil {
		t.Fatal(err)
	}
	if r.RSS["server"] <= 0 || len(r.RSS) != 1 {
		t.Fatalf("RSS by role: %v, want the server's", r.RSS)
	}
	stopped = true
	if err := proc.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := ReadRSS(proc.PIDs["server"]); err == nil {
		t.Fatal("the server process is still there after Stop")
	}
}
