// Command apiserverbench compares Governor's API server with
// kube-apiserver v1.37.2 on etcd v3.7.3 (package
// benchmarks/apiserverbench). For each of -runs rounds it starts each
// implementation afresh (empty store, new PKI), drives it with the same
// client-go program and stops it; the implementations alternate within a
// round. It prints one Go benchmark line per run on standard output (for
// benchstat) and the median and range of each figure to -summary.
//
//	apiserverbench -governor BIN -kube-apiserver BIN -etcd BIN -runs 6
//	apiserverbench -impls governor -governor BIN -quick -runs 1
//
// bench.sh's apiserver area builds the binaries and runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/governor-io/governor/benchmarks/apiserverbench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "apiserverbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	var (
		impls    = flag.String("impls", "governor,kube-apiserver", "implementations to run, in order: governor, kube-apiserver")
		runs     = flag.Int("runs", 6, "runs of each implementation")
		quick    = flag.Bool("quick", false, "a tenth of the published sizes (seconds, for a smoke test)")
		governor = flag.String("governor", "", "the governor binary (examples/cluster/cmd/governor)")
		kube     = flag.String("kube-apiserver", "", "the kube-apiserver binary (benchmarks/kubeapiserver)")
		etcd     = flag.String("etcd", "", "the etcd member binary (benchmarks/cmd/etcdmember)")
		work     = flag.String("work", "", "directory for data, certificates and server logs (default: a new temporary directory, removed at the end)")
		summary  = flag.String("summary", "", "file for the median and range of each figure (default: standard error)")
	)
	flag.Parse()
	cfg := apiserverbench.Full()
	if *quick {
		cfg = cfg.Scale(10)
	}
	names := strings.Split(*impls, ",")
	for _, n := range names {
		switch {
		case n == "governor" && *governor == "":
			return errors.New("-governor is required")
		case n == "kube-apiserver" && (*kube == "" || *etcd == ""):
			return errors.New("-kube-apiserver and -etcd are required")
		case n != "governor" && n != "kube-apiserver":
			return fmt.Errorf("unknown implementation %q", n)
		}
	}
	dir := *work
	if dir == "" {
		d, err := os.MkdirTemp("", "apiserverbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	cpu := ""
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	fmt.Printf("goos: %s\ngoarch: %s\npkg: github.com/governor-io/governor/benchmarks/apiserverbench\ncpu: %s\n", runtime.GOOS, runtime.GOARCH, cpu)
	fmt.Printf("sizes: clients=%d pods=%d gets=%d lists=%d watchers=%d watch-writes=%d rss-pods=%d\n",
		cfg.Clients, cfg.Pods, cfg.Gets, cfg.Lists, cfg.Watchers, cfg.WatchWrites, cfg.RSSPods)
	results := map[string][]apiserverbench.Result{}
	for i := range *runs {
		for _, name := range names {
			r, err := runOne(ctx, name, filepath.Join(dir, fmt.Sprintf("%s-%d", name, i)), cfg, *governor, *kube, *etcd)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", name, i, err)
			}
			results[name] = append(results[name], r)
			fmt.Println(r.BenchLine(name))
		}
	}
	text := apiserverbench.Summarize(names, results)
	if *summary == "" {
		_, err := fmt.Fprint(os.Stderr, text)
		return err
	}
	return os.WriteFile(*summary, []byte(text), 0o644)
}

// runOne starts implementation name in dir, measures it and stops it.
func runOne(ctx context.Context, name, dir string, cfg apiserverbench.Config, governor, kube, etcd string) (apiserverbench.Result, error) {
	pki, err := apiserverbench.NewPKI(filepath.Join(dir, "pki"))
	if err != nil {
		return apiserverbench.Result{}, err
	}
	var proc *apiserverbench.Process
	if name == "governor" {
		proc, err = apiserverbench.StartGovernor(ctx, governor, dir, pki)
	} else {
		proc, err = apiserverbench.StartKube(ctx, kube, etcd, dir, pki)
	}
	if err != nil {
		return apiserverbench.Result{}, err
	}
	rctx, cancel := context.WithTimeout(ctx, 60*time.Minute)
	defer cancel()
	r, err := apiserverbench.Run(rctx, apiserverbench.Target{REST: pki.REST(proc.URL), PIDs: proc.PIDs}, cfg)
	return r, errors.Join(err, proc.Stop())
}
