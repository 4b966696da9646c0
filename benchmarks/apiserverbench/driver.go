package apiserverbench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/scheme"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
)

// Config holds the sizes of one run of the driver. [Full] gives the sizes
// the benchmark is published at; [Config.Scale] divides them for a quick
// run.
type Config struct {
	// Clients is the number of goroutines that create, get and top up
	// pods at once, sharing one client.
	Clients int
	// Pods is the number of pods the create phase makes in one namespace;
	// the list phase lists them.
	Pods int
	// Gets is the number of gets of those pods, spread over Clients.
	Gets int
	// Lists is the number of lists of each kind (resourceVersion "0", and
	// consistent: resourceVersion unset).
	Lists int
	// Watchers is the number of watches on the pods of a second namespace.
	Watchers int
	// WatchWrites is the number of pods created there, one at a time,
	// each once every watcher has seen the one before.
	WatchWrites int
	// RSSPods is the number of pods the server holds (in all namespaces)
	// when the RSS is read; a third namespace makes up the difference.
	RSSPods int
	// RSSSettle is how long the driver waits, after the last pod is
	// stored, before it reads the RSS, so that both servers finish
	// background work (caches, compaction) started by the writes.
	RSSSettle time.Duration
	// Seed seeds the choice of pods to get.
	Seed uint64
}

// Full returns the published sizes: 64 clients, 10k pods listed, 1000
// watchers, 50k pods held.
func Full() Config {
	return Config{Clients: 64, Pods: 10000, Gets: 20000, Lists: 10, Watchers: 1000, WatchWrites: 100,
		RSSPods: 50000, RSSSettle: 10 * time.Second, Seed: 1}
}

// Scale divides every count but Clients and Lists by div (each count stays
// at least 1) and the settle time too: Full().Scale(10) is the quick mode.
func (c Config) Scale(div int) Config {
	d := func(n int) int { return max(1, n/div) }
	c.Pods, c.Gets, c.Watchers, c.WatchWrites, c.RSSPods = d(c.Pods), d(c.Gets), d(c.Watchers), d(c.WatchWrites), d(c.RSSPods)
	c.RSSSettle /= time.Duration(div)
	return c
}

func (c Config) validate() error {
	if c.Clients < 1 || c.Pods < 1 || c.Gets < 1 || c.Lists < 1 || c.Watchers < 1 || c.WatchWrites < 1 || c.RSSPods < 1 {
		return fmt.Errorf("apiserverbench: every count must be at least 1: %+v", c)
	}
	return nil
}

// Target is a server to drive.
type Target struct {
	// REST reaches the server. The driver copies it and sets JSON as the
	// content type both ways and no client-side rate limit.
	REST *rest.Config
	// PIDs are the processes whose RSS is read at the end, by role:
	// "server" (the API server) and, when the store is a process of its
	// own, "store".
	PIDs map[string]int
}

// Result is what one run measured.
type Result struct {
	CreatesPerSec  float64
	GetP99         time.Duration
	ListRV0        time.Duration // median of Config.Lists lists
	ListConsistent time.Duration // median of Config.Lists lists
	WatchP99       time.Duration // write start to delivery, over every watcher and write
	// RSS is the resident set size in bytes of each process of
	// Target.PIDs, by role.
	RSS map[string]int64
}

// Namespaces the driver writes to. The server must not hold pods in them.
const (
	nsPods  = "bench-pods"
	nsWatch = "bench-watch"
	nsRSS   = "bench-rss"
)

// Run measures t with the sizes of c. It checks what it reads: every list
// returns every pod, and every watcher sees every write.
func Run(ctx context.Context, t Target, c Config) (Result, error) {
	if err := c.validate(); err != nil {
		return Result{}, err
	}
	if c.RSSPods < c.Pods+c.WatchWrites {
		return Result{}, fmt.Errorf("apiserverbench: RSSPods %d below Pods+WatchWrites %d", c.RSSPods, c.Pods+c.WatchWrites)
	}
	cfg := rest.CopyConfig(t.REST)
	cfg.ContentType = "application/json"
	cfg.AcceptContentTypes = "application/json"
	cfg.QPS = -1
	cfg.UserAgent = "governor-apiserverbench"
	client, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return Result{}, fmt.Errorf("apiserverbench: client: %w", err)
	}
	if rc, ok := client.RESTClient().(*rest.RESTClient); ok && rc.Client != nil {
		defer rc.Client.CloseIdleConnections()
	}
	for _, ns := range []string{nsPods, nsWatch, nsRSS} {
		if err := createNamespace(ctx, client, ns); err != nil {
			return Result{}, err
		}
	}
	var r Result
	start := time.Now()
	if err := createPods(ctx, client, nsPods, "p", 0, c.Pods, c.Clients); err != nil {
		return Result{}, err
	}
	r.CreatesPerSec = float64(c.Pods) / time.Since(start).Seconds()
	if r.GetP99, err = getPods(ctx, client, c); err != nil {
		return Result{}, err
	}
	if r.ListRV0, err = listPods(ctx, client, c, "0"); err != nil {
		return Result{}, err
	}
	if r.ListConsistent, err = listPods(ctx, client, c, ""); err != nil {
		return Result{}, err
	}
	if r.WatchP99, err = watchPods(ctx, client, c); err != nil {
		return Result{}, err
	}
	if err := createPods(ctx, client, nsRSS, "r", 0, c.RSSPods-c.Pods-c.WatchWrites, c.Clients); err != nil {
		return Result{}, err
	}
	if c.RSSSettle > 0 {
		select {
		case <-time.After(c.RSSSettle):
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
	r.RSS = make(map[string]int64, len(t.PIDs))
	for role, pid := range t.PIDs {
		if r.RSS[role], err = ReadRSS(pid); err != nil {
			return Result{}, err
		}
	}
	return r, nil
}

func createNamespace(ctx context.Context, client corev1client.CoreV1Interface, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := client.Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("apiserverbench: create namespace %s: %w", name, err)
	}
	return nil
}

// newPod returns the pod the benchmark writes: one container with
// requests, a few labels, the size of a small real pod (about 1 KiB of
// JSON).
func newPod(ns, name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns,
			Labels:      map[string]string{"app": "bench", "tier": "web", "release": "r1"},
			Annotations: map[string]string{"bench.governor.io/run": "1"}},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyAlways,
			TerminationGracePeriodSeconds: new(int64(30)),
			AutomountServiceAccountToken:  new(false),
			Containers: []corev1.Container{{
				Name:  "web",
				Image: "registry.example/web:1.0",
				Args:  []string{"--port=8080", "--log=info"},
				Env:   []corev1.EnvVar{{Name: "MODE", Value: "bench"}},
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU:    resource.MustParse("100m"),
					corev1.ResourceMemory: resource.MustParse("64Mi"),
				}},
				ImagePullPolicy:          corev1.PullIfNotPresent,
				TerminationMessagePath:   "/dev/termination-log",
				TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			}},
		},
	}
}

func podName(prefix string, i int) string { return prefix + "-" + strconv.Itoa(i) }

// createPods creates pods prefix-from .. prefix-(to-1) in ns with workers
// goroutines.
func createPods(ctx context.Context, client corev1client.CoreV1Interface, ns, prefix string, from, to, workers int) error {
	var next atomic.Int64
	next.Store(int64(from))
	return parallel(ctx, workers, func(ctx context.Context) error {
		for {
			i := int(next.Add(1) - 1)
			if i >= to {
				return nil
			}
			if err := createOne(ctx, client, newPod(ns, podName(prefix, i))); err != nil {
				return err
			}
		}
	})
}

func createOne(ctx context.Context, client corev1client.CoreV1Interface, pod *corev1.Pod) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := client.Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("apiserverbench: create pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// getPods gets random pods of the create phase and returns the 99th
// percentile latency.
func getPods(ctx context.Context, client corev1client.CoreV1Interface, c Config) (time.Duration, error) {
	lat := make([]time.Duration, c.Gets)
	var next atomic.Int64
	err := parallel(ctx, c.Clients, func(ctx context.Context) error {
		for {
			i := int(next.Add(1) - 1)
			if i >= c.Gets {
				return nil
			}
			// One generator per get: the pods chosen do not depend on
			// which worker runs which get.
			name := podName("p", rand.New(rand.NewPCG(c.Seed, uint64(i))).IntN(c.Pods))
			gctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			t0 := time.Now()
			pod, err := client.Pods(nsPods).Get(gctx, name, metav1.GetOptions{})
			lat[i] = time.Since(t0)
			cancel()
			if err != nil {
				return fmt.Errorf("apiserverbench: get pod %s: %w", name, err)
			}
			if pod.Name != name {
				return fmt.Errorf("apiserverbench: get pod %s returned %s", name, pod.Name)
			}
		}
	})
	if err != nil {
		return 0, err
	}
	return Percentile(lat, 0.99), nil
}

// listPods lists the pods of the create phase c.Lists times with
// resourceVersion rv, through the REST client (a plain LIST, never a
// streaming one), and returns the median time.
func listPods(ctx context.Context, client *corev1client.CoreV1Client, c Config, rv string) (time.Duration, error) {
	lat := make([]time.Duration, c.Lists)
	for i := range lat {
		lctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		var list corev1.PodList
		t0 := time.Now()
		err := client.RESTClient().Get().Namespace(nsPods).Resource("pods").
			VersionedParams(&metav1.ListOptions{ResourceVersion: rv}, scheme.ParameterCodec).
			Do(lctx).Into(&list)
		lat[i] = time.Since(t0)
		cancel()
		if err != nil {
			return 0, fmt.Errorf("apiserverbench: list pods (resourceVersion %q): %w", rv, err)
		}
		if len(list.Items) != c.Pods {
			return 0, fmt.Errorf("apiserverbench: list pods (resourceVersion %q): %d items, want %d", rv, len(list.Items), c.Pods)
		}
	}
	return Percentile(lat, 0.5), nil
}

// watchPods opens c.Watchers watches on an empty namespace, creates
// c.WatchWrites pods there one at a time (each once every watcher has
// seen the one before) and returns the 99th percentile of the time from
// the start of a create to its delivery to a watcher.
func watchPods(ctx context.Context, client *corev1client.CoreV1Client, c Config) (time.Duration, error) {
	lctx, cancel := context.WithTimeout(ctx, time.Minute)
	list, err := client.Pods(nsWatch).List(lctx, metav1.ListOptions{Limit: 1})
	cancel()
	if err != nil {
		return 0, fmt.Errorf("apiserverbench: list watch namespace: %w", err)
	}
	if len(list.Items) != 0 {
		return 0, fmt.Errorf("apiserverbench: namespace %s holds pods", nsWatch)
	}
	wctx, stopWatches := context.WithCancel(ctx)
	defer stopWatches()
	timeout := int64(3600)
	watchers := make([]watch.Interface, 0, c.Watchers)
	defer func() {
		for _, w := range watchers {
			w.Stop()
		}
	}()
	for range c.Watchers {
		w, err := client.Pods(nsWatch).Watch(wctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion, TimeoutSeconds: &timeout})
		if err != nil {
			return 0, fmt.Errorf("apiserverbench: watch: %w", err)
		}
		watchers = append(watchers, w)
	}
	sent := make([]atomic.Int64, c.WatchWrites) // unix nanoseconds at the start of create i
	seen := make([]chan struct{}, c.WatchWrites)
	left := make([]atomic.Int64, c.WatchWrites)
	for i := range seen {
		seen[i] = make(chan struct{})
		left[i].Store(int64(c.Watchers))
	}
	lat := make([][]time.Duration, c.Watchers)
	errc := make(chan error, c.Watchers)
	var wg sync.WaitGroup
	for k, w := range watchers {
		wg.Go(func() {
			errc <- receive(w, c.WatchWrites, sent, seen, left, &lat[k])
		})
	}
	waitErr := func() error {
		for _, w := range watchers {
			w.Stop()
		}
		wg.Wait()
		close(errc)
		var errs []error
		for err := range errc {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}
	for i := range c.WatchWrites {
		sent[i].Store(time.Now().UnixNano())
		if err := createOne(ctx, client, newPod(nsWatch, podName("w", i))); err != nil {
			return 0, errors.Join(err, waitErr())
		}
		select {
		case <-seen[i]:
		case <-time.After(time.Minute):
			return 0, errors.Join(fmt.Errorf("apiserverbench: write %d not seen by %d watchers after a minute", i, left[i].Load()), waitErr())
		case <-ctx.Done():
			return 0, errors.Join(ctx.Err(), waitErr())
		}
	}
	if err := waitErr(); err != nil {
		return 0, err
	}
	all := make([]time.Duration, 0, c.Watchers*c.WatchWrites)
	for _, l := range lat {
		if len(l) != c.WatchWrites {
			return 0, fmt.Errorf("apiserverbench: a watcher saw %d writes, want %d", len(l), c.WatchWrites)
		}
		all = append(all, l...)
	}
	return Percentile(all, 0.99), nil
}

// receive reads w until it has seen writes pods or w ends, appending each
// latency to lat.
func receive(w watch.Interface, writes int, sent []atomic.Int64, seen []chan struct{}, left []atomic.Int64, lat *[]time.Duration) error {
	got := 0
	for ev := range w.ResultChan() {
		now := time.Now().UnixNano()
		if ev.Type == watch.Error {
			return fmt.Errorf("apiserverbench: watch error: %v", apierrors.FromObject(ev.Object))
		}
		pod, ok := ev.Object.(*corev1.Pod)
		if !ok || ev.Type != watch.Added {
			continue
		}
		i, err := strconv.Atoi(strings.TrimPrefix(pod.Name, "w-"))
		if err != nil || i < 0 || i >= writes {
			return fmt.Errorf("apiserverbench: unexpected pod %s in the watch", pod.Name)
		}
		*lat = append(*lat, time.Duration(now-sent[i].Load()))
		if left[i].Add(-1) == 0 {
			close(seen[i])
		}
		if got++; got == writes {
			return nil
		}
	}
	if got < writes {
		return fmt.Errorf("apiserverbench: a watch ended after %d of %d writes", got, writes)
	}
	return nil
}

// parallel runs f in n goroutines and returns the first error; an error
// cancels the others' context.
func parallel(ctx context.Context, n int, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range n {
		wg.Go(func() {
			if err := f(ctx); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		})
	}
	wg.Wait()
	return first
}

// Percentile returns the q-quantile (0 < q ≤ 1) of d by the nearest-rank
// method; it sorts d.
func Percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	k := int(float64(len(d))*q+0.999999999) - 1
	return d[min(max(k, 0), len(d)-1)]
}

// ReadRSS returns the resident set size of process pid in bytes, from
// VmRSS in /proc/PID/status.
func ReadRSS(pid int) (int64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("apiserverbench: RSS of %d: %w", pid, err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("apiserverbench: RSS of %d: unexpected %q", pid, line)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("apiserverbench: RSS of %d: %w", pid, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("apiserverbench: RSS of %d: no VmRSS line", pid)
}

// Metric is one figure of a Result, in the unit its name ends with.
type Metric struct {
	Name  string
	Value float64
}

// Metrics returns r's figures in a fixed order: throughput, latencies in
// milliseconds, then RSS in bytes per role (sorted) and in total (unit
// "-B", which benchstat shows in binary multiples).
func (r Result) Metrics() []Metric {
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	m := []Metric{{"creates/s", r.CreatesPerSec}, {"get-p99-ms", ms(r.GetP99)}, {"list-rv0-ms", ms(r.ListRV0)},
		{"list-consistent-ms", ms(r.ListConsistent)}, {"watch-p99-ms", ms(r.WatchP99)}}
	roles := make([]string, 0, len(r.RSS))
	var total int64
	for role, v := range r.RSS {
		roles = append(roles, role)
		total += v
	}
	slices.Sort(roles)
	for _, role := range roles {
		m = append(m, Metric{role + "-rss-B", float64(r.RSS[role])})
	}
	return append(m, Metric{"total-rss-B", float64(total)})
}

// BenchLine formats r as a line of Go benchmark output named
// BenchmarkAPIServer/impl=IMPL, so that benchstat compares runs.
func (r Result) BenchLine(impl string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "BenchmarkAPIServer/impl=%s\t1", impl)
	for _, m := range r.Metrics() {
		fmt.Fprintf(&b, "\t%s %s", strconv.FormatFloat(m.Value, 'f', 3, 64), m.Name)
	}
	return b.String()
}

// Summarize returns, for each implementation (in the order of impls) and
// each figure, the median and the range (minimum to maximum) of runs, as
// a text table; sizes in bytes show in MiB.
func Summarize(impls []string, runs map[string][]Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-20s %-20s %4s %12s %12s %12s\n", "impl", "metric", "n", "median", "min", "max")
	for _, impl := range impls {
		rs := runs[impl]
		if len(rs) == 0 {
			continue
		}
		byName := map[string][]float64{}
		var order []string
		for _, r := range rs {
			for _, m := range r.Metrics() {
				if _, ok := byName[m.Name]; !ok {
					order = append(order, m.Name)
				}
				byName[m.Name] = append(byName[m.Name], m.Value)
			}
		}
		for _, name := range order {
			v := byName[name]
			if base, ok := strings.CutSuffix(name, "-B"); ok {
				name = base + "-MiB"
				for i := range v {
					v[i] /= 1 << 20
				}
			}
			slices.Sort(v)
			med := v[len(v)/2]
			if len(v)%2 == 0 {
				med = (v[len(v)/2-1] + v[len(v)/2]) / 2
			}
			fmt.Fprintf(&b, "%-20s %-20s %4d %12.3f %12.3f %12.3f\n", impl, name, len(v), med, v[0], v[len(v)-1])
		}
	}
	return b.String()
}
