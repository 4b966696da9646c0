package benchmarks

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// ownProcessEnv marks a test binary started by inOwnProcess: it runs the
// benchmark body itself instead of starting another process.
const ownProcessEnv = "GOVERNOR_BENCH_OWN_PROCESS"

// ownProcessPIDEnv, when set, makes a benchmark that inOwnProcess ran
// report the id of the process it ran in, as the metric "pid", so that a
// test can check it was not the process that asked.
const ownProcessPIDEnv = "GOVERNOR_BENCH_REPORT_PID"

// ownProcessResults keeps the metrics a child process reported, per
// sub-benchmark, so that the framework's later calls of the same
// sub-benchmark (it calls once with b.N = 1, then again with the real
// count) report them again instead of starting another process.
var ownProcessResults sync.Map // *testing.B -> map[string]float64

// inOwnProcess runs body in a fresh process of this test binary and
// reports the metrics that process printed as this benchmark's own
// (ns/op, B/op and allocs/op included). Each implementation of a
// comparison then starts from the same state: an empty heap with the
// runtime's default goal, no pages left mapped by the other side, no
// other side's garbage to collect. In that child process, inOwnProcess
// simply runs body.
//
// The child gets the same -benchtime and GOMAXPROCS as this benchmark, and
// -count 1: with -count N, each repetition starts its own child.
func inOwnProcess(b *testing.B, body func(b *testing.B)) {
	if os.Getenv(ownProcessEnv) != "" {
		body(b)
		if os.Getenv(ownProcessPIDEnv) != "" {
			b.ReportMetric(float64(os.Getpid()), "pid")
		}
		return
	}
	b.ReportAllocs()
	if v, ok := ownProcessResults.Load(b); ok {
		reportAll(b, v.(map[string]float64))
		return
	}
	out, err := runChild(b.Name(), flagValue("test.benchtime"), runtime.GOMAXPROCS(0))
	if err != nil {
		b.Fatal(err)
	}
	m, err := parseBenchLine(out, b.Name())
	if err != nil {
		b.Fatalf("%v\nchild output:\n%s", err, out)
	}
	ownProcessResults.Store(b, m)
	reportAll(b, m)
}

func reportAll(b *testing.B, m map[string]float64) {
	for unit, v := range m {
		b.ReportMetric(v, unit)
	}
}

func flagValue(name string) string {
	if f := flag.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

// benchPattern is the -test.bench pattern that selects exactly the
// benchmark named name (as testing.B.Name gives it).
func benchPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// runChild runs the benchmark named name in a new process of this test
// binary and returns its output.
func runChild(name, benchtime string, procs int) ([]byte, error) {
	args := []string{
		"-test.run=^$",
		"-test.bench=" + benchPattern(name),
		"-test.count=1",
		"-test.benchmem",
		"-test.cpu=" + strconv.Itoa(procs),
		"-test.timeout=0",
	}
	if benchtime != "" {
		args = append(args, "-test.benchtime="+benchtime)
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), ownProcessEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("benchmark %s in its own process: %w\n%s", name, err, out)
	}
	return out, nil
}

// parseBenchLine finds the result line of the benchmark named name in a
// test binary's output and returns its metrics by unit. The iteration
// count is not a metric and is left out.
func parseBenchLine(out []byte, name string) (map[string]float64, error) {
	for line := range bytes.Lines(out) {
		f := strings.Fields(string(line))
		if len(f) < 4 || (f[0] != name && !strings.HasPrefix(f[0], name+"-")) {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		if len(f)%2 != 0 {
			return nil, fmt.Errorf("benchmark line %q: odd number of fields", strings.TrimSpace(string(line)))
		}
		m := make(map[string]float64, len(f)/2)
		for i := 2; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark line %q: %w", strings.TrimSpace(string(line)), err)
			}
			m[f[i+1]] = v
		}
		return m, nil
	}
	return nil, fmt.Errorf("no result line for %s", name)
}

// gcCPU reads the CPU time the garbage collector has used so far: the
// runtime's own estimate, which covers the background mark workers, the
// assists that allocating goroutines pay, and the pauses.
func gcCPU() float64 {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return s[0].Value.Float64()
}

// gcCPUClock reports the garbage collector's CPU time per operation
// between its start and report, as gc-cpu-ns/op.
type gcCPUClock struct{ start float64 }

func startGCCPU() gcCPUClock { return gcCPUClock{gcCPU()} }

func (c gcCPUClock) report(b *testing.B) {
	b.ReportMetric((gcCPU()-c.start)*1e9/float64(b.N), "gc-cpu-ns/op")
}
