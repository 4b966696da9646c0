package benchmarks

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	crreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/governor-io/governor/workqueue"
)

// The tests in this file check that each comparison gives both sides the
// same work: the same process state, topology, metrics and fields.

// TestMVCCSidesRunInOwnProcess checks that a storage benchmark runs its
// body in a process of its own, not in the process that runs the
// benchmark.
func TestMVCCSidesRunInOwnProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a storage benchmark in two processes")
	}
	if os.Getenv(ownProcessEnv) != "" {
		t.Skip("already a benchmark's own process")
	}
	const name = "BenchmarkMVCCRange100k/impl=governor"
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench="+benchPattern(name), "-test.benchtime=1x", "-test.count=1")
	cmd.Env = append(os.Environ(), ownProcessPIDEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	m, err := parseBenchLine(out, name)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	pid, ok := m["pid"]
	if !ok {
		t.Fatalf("the benchmark reported no pid: it did not run through inOwnProcess\n%s", out)
	}
	if int(pid) == cmd.Process.Pid {
		t.Fatalf("the benchmark ran in the process that ran it (pid %d)", cmd.Process.Pid)
	}
	if _, ok := m["gc-cpu-ns/op"]; !ok {
		t.Fatalf("no gc-cpu-ns/op in %v", m)
	}
}

func TestParseBenchLine(t *testing.T) {
	out := []byte("goos: linux\nBenchmarkX/impl=a-2   \t  300\t  1234 ns/op\t  5.5 gc-cpu-ns/op\t  12 B/op\t 3 allocs/op\nPASS\n")
	m, err := parseBenchLine(out, "BenchmarkX/impl=a")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"ns/op": 1234, "gc-cpu-ns/op": 5.5, "B/op": 12, "allocs/op": 3}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, m[k], v, m)
		}
	}
	if _, err := parseBenchLine(out, "BenchmarkX/impl=b"); err == nil {
		t.Error("found a line for a benchmark that did not run")
	}
	if got := benchPattern("BenchmarkX/impl=a.b"); got != `^BenchmarkX$/^impl=a\.b$` {
		t.Errorf("benchPattern = %s", got)
	}
}

// TestRouteMember checks that route=leader sends everything to the
// leader and route=spread sends the same share to every member.
func TestRouteMember(t *testing.T) {
	const members, lead = 3, 2
	counts := map[route][]int{routeLeader: make([]int, members), routeSpread: make([]int, members)}
	for r, c := range counts {
		for i := range 300 {
			c[r.member(i, members, lead)]++
		}
	}
	if c := counts[routeLeader]; c[lead] != 300 {
		t.Errorf("route=leader: per member %v, want all 300 on member %d", c, lead)
	}
	for m, n := range counts[routeSpread] {
		if n != 100 {
			t.Errorf("route=spread: member %d got %d of 300, want 100", m, n)
		}
	}
}

// TestRaftClustersOneClientPerMember checks that both Raft comparisons
// have a client per member, that each serves writes and reads, and that
// leader() names the member that leads.
func TestRaftClustersOneClientPerMember(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two three-member clusters")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, im := range raftImpls {
		t.Run(im.name, func(t *testing.T) {
			c := im.start(t, 3)
			if c.members() != 3 {
				t.Fatalf("%d clients, want 3", c.members())
			}
			for m := range c.members() {
				if err := c.put(ctx, m, "/test/k"); err != nil {
					t.Fatalf("put through member %d: %v", m, err)
				}
				if err := c.get(ctx, m, "/test/k"); err != nil {
					t.Fatalf("get through member %d: %v", m, err)
				}
			}
			switch c := c.(type) {
			case *govCluster:
				if !c.nodes[c.leader()].IsLeader() {
					t.Errorf("member %d is not the leader", c.leader())
				}
			case *etcdCluster:
				resp, err := c.clients[c.leader()].Status(ctx, c.clients[c.leader()].Endpoints()[0])
				if err != nil {
					t.Fatal(err)
				}
				if resp.Leader != resp.Header.MemberId {
					t.Errorf("member %d is not the leader", c.leader())
				}
			}
		})
	}
}

// counterValue returns the value of the counter named name with the label
// name=queue in reg's metrics, and whether there is one.
func counterValue(t *testing.T, mfs []*dto.MetricFamily, name, queue string) (float64, bool) {
	t.Helper()
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "name" && l.GetValue() == queue {
					return m.GetCounter().GetValue(), true
				}
			}
		}
	}
	return 0, false
}

// TestWorkqueueMetricsModes checks that metrics=on gives both queues
// Prometheus metrics and metrics=off gives neither.
func TestWorkqueueMetricsModes(t *testing.T) {
	for _, m := range wqMetricsModes {
		t.Run(string(m), func(t *testing.T) {
			ours, reg := newGovernorQueue(t, m, workqueue.Options[string]{})
			defer ours.ShutDown()
			if (reg != nil) != (m == wqMetricsOn) {
				t.Fatalf("our queue has a registry: %v", reg != nil)
			}
			if reg != nil {
				ours.Add("a")
				mfs, err := reg.Gather()
				if err != nil {
					t.Fatal(err)
				}
				if v, ok := counterValue(t, mfs, "workqueue_adds_total", wqBenchName); !ok || v != 1 {
					t.Errorf("our adds: %v, %v; want 1", v, ok)
				}
			}
			before, err := crmetrics.Registry.Gather()
			if err != nil {
				t.Fatal(err)
			}
			n0, _ := counterValue(t, before, "workqueue_adds_total", wqBenchName)
			theirs := newCRPriorityQueue(m)
			defer theirs.ShutDown()
			theirs.AddWithPriority("a", 0)
			k, _ := theirs.Get()
			theirs.Done(k)
			after, err := crmetrics.Registry.Gather()
			if err != nil {
				t.Fatal(err)
			}
			n1, _ := counterValue(t, after, "workqueue_adds_total", wqBenchName)
			_, unnamed := counterValue(t, after, "workqueue_adds_total", "")
			if got, want := n1-n0, map[wqMetrics]float64{wqMetricsOff: 0, wqMetricsOn: 1}[m]; got != want || unnamed {
				t.Errorf("controller-runtime adds counted: %v (unnamed series: %v), want %v", got, unnamed, want)
			}
		})
	}
}

// TestReconcileMetricsModes checks that both controllers get queue
// metrics with metrics=on and neither with metrics=off.
func TestReconcileMetricsModes(t *testing.T) {
	on := governorReconcileOptions(t, 1, wqMetricsOn)
	if on.Metrics == nil || on.QueueMetrics == nil {
		t.Error("metrics=on: our controller has no registered metrics")
	}
	off := governorReconcileOptions(t, 1, wqMetricsOff)
	if off.QueueMetrics != nil {
		t.Error("metrics=off: our queue has metrics")
	}
	if crReconcileOptions(1, true, wqMetricsOn).NewQueue != nil {
		t.Error("metrics=on: controller-runtime's queue is not its default one")
	}
	for _, prio := range []bool{true, false} {
		opts := crReconcileOptions(1, prio, wqMetricsOff)
		if opts.NewQueue == nil {
			t.Fatalf("metrics=off, priority queue %v: controller-runtime's default queue keeps metrics", prio)
		}
		q := opts.NewQueue("bench", opts.RateLimiter)
		before, err := crmetrics.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		n0, _ := counterValue(t, before, "workqueue_adds_total", "bench")
		q.Add(crReconcileRequest("x"))
		after, err := crmetrics.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		n1, _ := counterValue(t, after, "workqueue_adds_total", "bench")
		_, unnamed := counterValue(t, after, "workqueue_adds_total", "")
		q.ShutDown()
		if n1 != n0 || unnamed {
			t.Errorf("metrics=off, priority queue %v: an add was counted", prio)
		}
	}
}

// TestInformerSummariesKeepSameFields checks that our projection and
// client-go's transform keep the same fields of a Pod, and that neither
// shares a map with the object it was given.
func TestInformerSummariesKeepSameFields(t *testing.T) {
	kp := infKubePod(7)
	kp.Spec.NodeName, kp.Status.Phase = "node-1", corev1.PodRunning
	kp.Annotations = map[string]string{"prometheus.io/port": "9090"}
	ours := infSummarize(infToPod(t, kp))
	obj, err := infStripPod(kp.DeepCopy())
	if err != nil {
		t.Fatal(err)
	}
	theirs := obj.(*corev1.Pod)
	if ours.Name != theirs.Name || ours.Namespace != theirs.Namespace || ours.UID != string(theirs.UID) ||
		ours.ResourceVersion != theirs.ResourceVersion || ours.NodeName != theirs.Spec.NodeName ||
		ours.Phase != string(theirs.Status.Phase) || !maps.Equal(ours.Labels, theirs.Labels) ||
		!maps.Equal(ours.Annotations, theirs.Annotations) {
		t.Errorf("the summaries differ:\nours   %+v\ntheirs %+v", ours, theirs)
	}
	if len(theirs.Spec.Containers) != 0 || theirs.Status.PodIP != "" {
		t.Errorf("the transform kept more than the projection: %+v", theirs)
	}

	in := infToPod(t, kp)
	sum := infSummarize(in)
	in.Labels["app"], in.Annotations["prometheus.io/port"] = "changed", "changed"
	if sum.Labels["app"] == "changed" || sum.Annotations["prometheus.io/port"] == "changed" {
		t.Error("the projection shares its maps with its input")
	}
	kin := kp.DeepCopy()
	obj, _ = infStripPod(kin)
	kin.Labels["app"], kin.Annotations["prometheus.io/port"] = "changed", "changed"
	if p := obj.(*corev1.Pod); p.Labels["app"] == "changed" || p.Annotations["prometheus.io/port"] == "changed" {
		t.Error("the transform shares its maps with its input")
	}
}

func crReconcileRequest(name string) crreconcile.Request {
	return crreconcile.Request{NamespacedName: types.NamespacedName{Namespace: "default", Name: name}}
}
