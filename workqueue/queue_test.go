package workqueue

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/governor-io/governor/clock/clocktest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// step is one action of a scripted queue test.
type step struct {
	op   string // add, prio, get, done, len, shutdown
	item string
	prio int
	want string // get: the item expected; len: unused
	n    int    // len: expected length
}

func runScript(t *testing.T, q *Queue[string], steps []step) {
	t.Helper()
	for i, s := range steps {
		switch s.op {
		case "add":
			q.Add(s.item)
		case "prio":
			q.AddWithPriority(s.item, s.prio)
		case "get":
			got, shutdown := q.Get()
			if shutdown {
				t.Fatalf("step %d: Get reported shutdown, want %q", i, s.want)
			}
			if got != s.want {
				t.Fatalf("step %d: Get = %q, want %q", i, got, s.want)
			}
		case "done":
			q.Done(s.item)
		case "len":
			if got := q.Len(); got != s.n {
				t.Fatalf("step %d: Len = %d, want %d", i, got, s.n)
			}
		case "shutdown":
			q.ShutDown()
		case "getshutdown":
			if got, shutdown := q.Get(); !shutdown {
				t.Fatalf("step %d: Get = %q, want shutdown", i, got)
			}
		default:
			t.Fatalf("step %d: unknown op %q", i, s.op)
		}
	}
}

func add(item string) step         { return step{op: "add", item: item} }
func prio(item string, p int) step { return step{op: "prio", item: item, prio: p} }
func get(want string) step         { return step{op: "get", want: want} }
func done(item string) step        { return step{op: "done", item: item} }
func length(n int) step            { return step{op: "len", n: n} }

func TestQueueRules(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"items come out in FIFO order", []step{
			add("a"), add("b"), add("c"), get("a"), get("b"), get("c"), length(0),
		}},
		{"an item added while queued is queued once", []step{
			add("a"), add("b"), add("a"), length(2), get("a"), get("b"), length(0),
		}},
		{"a duplicate add keeps the first position", []step{
			add("a"), add("b"), add("a"), get("a"), get("b"),
		}},
		{"an item added while processing is queued only after Done", []step{
			add("a"), get("a"), add("a"), length(0), add("b"), get("b"),
			done("a"), length(1), get("a"),
		}},
		{"several adds while processing queue the item once", []step{
			add("a"), get("a"), add("a"), add("a"), done("a"), length(1), get("a"), done("a"), length(0),
		}},
		{"an item re-added after Done goes to the back", []step{
			add("a"), add("b"), get("a"), done("a"), add("a"), get("b"), get("a"),
		}},
		{"Done of an unknown item does nothing", []step{
			done("x"), add("a"), done("a"), length(1), get("a"),
		}},
		{"Len counts queued items only", []step{
			add("a"), add("b"), length(2), get("a"), length(1), done("a"), length(1),
		}},
		{"shutdown drops later adds and drains the rest", []step{
			add("a"), {op: "shutdown"}, add("b"), length(1), get("a"), {op: "getshutdown"},
		}},
		{"an item dirtied before shutdown is requeued at Done", []step{
			add("a"), get("a"), add("a"), {op: "shutdown"}, done("a"), get("a"), done("a"), {op: "getshutdown"},
		}},
		{"higher priority goes first", []step{
			add("a"), prio("b", 1), prio("c", 2), get("c"), get("b"), get("a"),
		}},
		{"negative priority goes last", []step{
			prio("low", -10), add("a"), add("b"), get("a"), get("b"), get("low"),
		}},
		{"equal priorities are FIFO", []step{
			prio("a", 3), prio("b", 3), prio("c", 3), get("a"), get("b"), get("c"),
		}},
		{"raising the priority of a queued item moves it ahead", []step{
			add("a"), add("b"), prio("b", 5), length(2), get("b"), get("a"), length(0),
		}},
		{"lowering the priority of a queued item keeps its place", []step{
			prio("a", 5), add("b"), prio("a", -5), add("a"), get("a"), get("b"),
		}},
		{"an item added while processing keeps its highest priority", []step{
			add("a"), get("a"), prio("a", 1), prio("a", 9), add("a"), add("b"), prio("c", 5),
			done("a"), get("a"), get("c"), get("b"),
		}},
		{"waiting items age past newer higher-priority ones", []step{
			// PriorityStep is 2: priority 1 is worth two places, so h
			// passes c but not b, which ties with it and is older.
			add("a"), add("b"), add("c"), prio("h", 1), get("a"), get("b"), get("h"), get("c"),
		}},
		{"aging lets an old low-priority item pass newer high ones", []step{
			prio("low", -1), prio("h1", 0), prio("h2", 0), prio("h3", 0), get("h1"), get("low"), get("h2"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := New(Options[string]{PriorityStep: 2})
			defer q.ShutDown()
			runScript(t, q, tt.steps)
		})
	}
}

func TestGetBlocksUntilAdd(t *testing.T) {
	q := New(Options[int]{})
	defer q.ShutDown()
	got := make(chan int)
	go func() {
		item, _ := q.Get()
		got <- item
	}()
	q.Add(7)
	select {
	case item := <-got:
		if item != 7 {
			t.Fatalf("Get = %d, want 7", item)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Get did not return after Add")
	}
}

func TestShutDownWakesEveryGetter(t *testing.T) {
	q := New(Options[int]{})
	const getters = 4
	results := make(chan bool, getters)
	for range getters {
		go func() {
			_, shutdown := q.Get()
			results <- shutdown
		}()
	}
	q.ShutDown()
	for range getters {
		select {
		case shutdown := <-results:
			if !shutdown {
				t.Fatal("Get returned an item from an empty queue")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Get did not return after ShutDown")
		}
	}
	if !q.ShuttingDown() {
		t.Fatal("ShuttingDown = false after ShutDown")
	}
}

func TestShutDownWithDrainWaitsForProcessing(t *testing.T) {
	q := New(Options[string]{})
	q.Add("a")
	q.Add("b")
	item, _ := q.Get()
	drained := make(chan struct{})
	go func() {
		q.ShutDownWithDrain()
		close(drained)
	}()
	// The queue still hands out what is queued while it drains.
	second, shutdown := q.Get()
	if shutdown || second != "b" {
		t.Fatalf("Get during drain = %q, %v", second, shutdown)
	}
	q.Done(item)
	select {
	case <-drained:
		t.Fatal("drain finished with an item still in processing")
	default:
	}
	q.Done(second)
	select {
	case <-drained:
	case <-time.After(10 * time.Second):
		t.Fatal("ShutDownWithDrain did not return after the last Done")
	}
	if _, shutdown := q.Get(); !shutdown {
		t.Fatal("Get after drain did not report shutdown")
	}
}

func TestShutDownWithDrainContextGivesUp(t *testing.T) {
	q := New(Options[string]{})
	q.Add("a")
	item, _ := q.Get()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.ShutDownWithDrainContext(ctx); err != context.Canceled {
		t.Fatalf("ShutDownWithDrainContext = %v, want context.Canceled", err)
	}
	q.Done(item)
	if err := q.ShutDownWithDrainContext(context.Background()); err != nil {
		t.Fatalf("second drain = %v", err)
	}
}

func TestShutDownWithDrainOnIdleQueueReturns(t *testing.T) {
	q := New(Options[string]{})
	q.ShutDownWithDrain()
	q.ShutDownWithDrain() // idempotent
}

func TestGetContext(t *testing.T) {
	q := New(Options[string]{})
	defer q.ShutDown()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, _, err := q.GetContext(ctx)
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		if err != context.Canceled {
			t.Fatalf("GetContext = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("GetContext ignored cancellation")
	}
	q.Add("a")
	item, shutdown, err := q.GetContext(context.Background())
	if item != "a" || shutdown || err != nil {
		t.Fatalf("GetContext = %q, %v, %v", item, shutdown, err)
	}
	q.Done(item)
	q.ShutDown()
	if _, shutdown, err := q.GetContext(context.Background()); !shutdown || err != nil {
		t.Fatalf("GetContext after shutdown = %v, %v", shutdown, err)
	}
}

func TestPlainQueueStartsNoGoroutine(t *testing.T) {
	q := New(Options[int]{})
	q.Add(1)
	q.AddAfter(2, 0)
	if q.delay.exited != nil {
		t.Fatal("a queue without delays started its delay goroutine")
	}
	q.ShutDown()
}

func TestStarvationBound(t *testing.T) {
	// A low-priority item competes with a flood of priority-0 items that
	// keeps the queue full. Its wait is bounded by the items queued ahead of
	// it plus (0-(-100))*PriorityStep newer ones.
	const step, low, ahead = 4, -100, 50
	bound := ahead + (0-low)*step
	q := New(Options[int]{PriorityStep: step})
	defer q.ShutDown()
	next := 0
	for range ahead {
		next++
		q.Add(next)
	}
	q.AddWithPriority(-1, low)
	for served := 1; ; served++ {
		// Two new priority-0 items for every one served: the load grows.
		next++
		q.Add(next)
		next++
		q.Add(next)
		item, _ := q.Get()
		q.Done(item)
		if item == -1 {
			if served > bound+1 {
				t.Fatalf("low-priority item served after %d gets, bound %d", served, bound)
			}
			if served <= ahead {
				t.Fatalf("low-priority item served after only %d gets: it jumped the line", served)
			}
			return
		}
		if served > 10*bound {
			t.Fatalf("low-priority item starved for %d gets", served)
		}
	}
}

func TestFairSharing(t *testing.T) {
	tenant := func(s string) string { return s[:1] }
	q := New(Options[string]{Tenant: tenant})
	defer q.ShutDown()
	// Tenant a floods the queue before b and c add one item each.
	for _, it := range []string{"a1", "a2", "a3", "a4", "a5", "b1", "c1"} {
		q.Add(it)
	}
	want := []string{"a1", "b1", "c1", "a2", "a3"}
	var got []string
	for range want {
		item, _ := q.Get()
		got = append(got, item)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order = %v, want %v", got, want)
		}
	}
	// a holds three workers, b and c none: a new b item goes first.
	q.Done("b1")
	q.Done("c1")
	q.Add("b2")
	q.Add("c2")
	if item, _ := q.Get(); item != "b2" {
		t.Fatalf("Get = %q, want b2 (b has nothing in processing)", item)
	}
	if item, _ := q.Get(); item != "c2" {
		t.Fatalf("Get = %q, want c2", item)
	}
	// The same rules hold per item: a re-add during processing waits for Done.
	q.Add("a1")
	if n := q.Len(); n != 2 { // a4, a5
		t.Fatalf("Len = %d, want 2", n)
	}
	q.Done("a1")
	if n := q.Len(); n != 3 {
		t.Fatalf("Len = %d, want 3", n)
	}
	for _, it := range []string{"a2", "a3", "b2", "c2"} {
		q.Done(it)
	}
	for _, want := range []string{"a4", "a5", "a1"} {
		if item, _ := q.Get(); item != want {
			t.Fatalf("Get = %q, want %q", item, want)
		}
		q.Done(want)
	}
	if n := len(q.fair.lanes); n != 0 {
		t.Fatalf("%d tenant lanes left on an empty queue", n)
	}
}

func TestFairSharingWithPriorities(t *testing.T) {
	q := New(Options[string]{Tenant: func(s string) string { return s[:1] }})
	defer q.ShutDown()
	q.Add("a1")
	q.AddWithPriority("a2", 10)
	q.Add("b1")
	q.AddWithPriority("b2", 10)
	for _, want := range []string{"a2", "b2", "a1", "b1"} {
		if item, _ := q.Get(); item != want {
			t.Fatalf("Get = %q, want %q", item, want)
		}
	}
}

func TestAddAfterOrdering(t *testing.T) {
	fake := clocktest.New(epoch)
	q := New(Options[string]{Clock: fake})
	defer q.ShutDown()
	q.AddAfter("c", 3*time.Second)
	q.AddAfter("a", 1*time.Second)
	q.AddAfter("b", 2*time.Second)
	q.AddAfter("now", 0)
	q.AddAfter("neg", -time.Second)
	if n := q.Len(); n != 2 {
		t.Fatalf("Len = %d, want 2 (d <= 0 adds at once)", n)
	}
	mustGet(t, q, "now")
	mustGet(t, q, "neg")
	fake.Step(999 * time.Millisecond)
	if n := q.Len(); n != 0 {
		t.Fatalf("Len = %d before any delay passed", n)
	}
	fake.Step(time.Millisecond)
	mustGet(t, q, "a")
	fake.Step(5 * time.Second)
	mustGet(t, q, "b")
	mustGet(t, q, "c")
}

func TestAddAfterEarlierTimeWins(t *testing.T) {
	fake := clocktest.New(epoch)
	q := New(Options[string]{Clock: fake})
	defer q.ShutDown()
	q.AddAfter("x", 10*time.Second)
	q.AddAfter("x", 2*time.Second) // earlier: wins
	q.AddAfter("x", 5*time.Second) // later: ignored
	fake.Step(2 * time.Second)
	mustGet(t, q, "x")
	q.Done("x")
	fake.Step(10 * time.Second)
	// Neither later time adds x again.
	q.Add("sentinel")
	mustGet(t, q, "sentinel")
	if n := q.Len(); n != 0 {
		t.Fatalf("Len = %d, want 0: a superseded AddAfter fired", n)
	}
}

func TestAddAfterOfQueuedItem(t *testing.T) {
	fake := clocktest.New(epoch)
	q := New(Options[string]{Clock: fake})
	defer q.ShutDown()
	q.Add("x")
	q.AddAfter("x", time.Second)
	mustGet(t, q, "x")
	q.Done("x")
	fake.Step(time.Second)
	mustGet(t, q, "x") // the delayed add still happens
}

func TestAddAfterDroppedAtShutdown(t *testing.T) {
	fake := clocktest.New(epoch)
	q := New(Options[string]{Clock: fake})
	q.AddAfter("x", time.Second)
	q.ShutDown()
	q.AddAfter("y", time.Second)
	fake.Step(time.Hour)
	if n := q.Len(); n != 0 {
		t.Fatalf("Len = %d after shutdown", n)
	}
	if fake.HasWaiters() {
		t.Fatal("the delay timer is still armed after shutdown")
	}
}

func TestAddRateLimited(t *testing.T) {
	fake := clocktest.New(epoch)
	limiter, err := NewExponentialRateLimiter[string](time.Second, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	q := New(Options[string]{Clock: fake, RateLimiter: limiter})
	defer q.ShutDown()
	q.AddRateLimited("x") // 1s
	fake.Step(time.Second)
	mustGet(t, q, "x")
	q.AddRateLimited("x") // 2s, queued after Done
	q.Done("x")
	fake.Step(time.Second)
	if n := q.Len(); n != 0 {
		t.Fatalf("retry came after 1s, want 2s")
	}
	fake.Step(time.Second)
	mustGet(t, q, "x")
	q.Done("x")
	if n := q.NumRequeues("x"); n != 2 {
		t.Fatalf("NumRequeues = %d, want 2", n)
	}
	q.Forget("x")
	if n := q.NumRequeues("x"); n != 0 {
		t.Fatalf("NumRequeues after Forget = %d", n)
	}
}

func TestDefaultLimiterUsesQueueClock(t *testing.T) {
	fake := clocktest.New(epoch)
	q := New(Options[int]{Clock: fake})
	defer q.ShutDown()
	// The bucket allows a burst of 100; the 101st retry of distinct items
	// waits 100ms on the fake clock, not the wall clock.
	for i := range 100 {
		q.AddRateLimited(i)
	}
	q.AddRateLimited(100)
	fake.Step(5 * time.Millisecond) // exponential base for the first 100
	for range 100 {
		it, _ := q.Get()
		q.Done(it)
	}
	if n := q.Len(); n != 0 {
		t.Fatalf("Len = %d, want 0 before the bucket refills", n)
	}
	fake.Step(95 * time.Millisecond)
	mustGet(t, q, 100)
}

func mustGet[T comparable](t *testing.T, q *Queue[T], want T) {
	t.Helper()
	type res struct {
		item     T
		shutdown bool
	}
	ch := make(chan res, 1)
	go func() {
		item, shutdown := q.Get()
		ch <- res{item, shutdown}
	}()
	select {
	case r := <-ch:
		if r.shutdown || r.item != want {
			t.Fatalf("Get = %v, %v; want %v", r.item, r.shutdown, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("Get did not return %v", want)
	}
}

// TestProcessingCountsItemsBetweenGetAndDone checks that an item handed out
// by Get counts in Processing until Done, including one added again while
// it was processed, so that Len and Processing together never show an
// empty queue while a worker holds an item.
func TestProcessingCountsItemsBetweenGetAndDone(t *testing.T) {
	q := New(Options[string]{Name: "processing"})
	defer q.ShutDown()
	q.Add("a")
	q.Add("b")
	if got := q.Processing(); got != 0 {
		t.Fatalf("Processing before Get = %d, want 0", got)
	}
	a, _ := q.Get()
	b, _ := q.Get()
	if q.Len() != 0 || q.Processing() != 2 {
		t.Fatalf("after two Gets: Len %d, Processing %d; want 0, 2", q.Len(), q.Processing())
	}
	q.Add(a) // dirty: queued again at Done
	q.Done(a)
	if q.Len() != 1 || q.Processing() != 1 {
		t.Fatalf("after Done of a dirty item: Len %d, Processing %d; want 1, 1", q.Len(), q.Processing())
	}
	q.Done(b)
	if q.Processing() != 0 {
		t.Fatalf("after Done of b: Processing %d, want 0", q.Processing())
	}
}
