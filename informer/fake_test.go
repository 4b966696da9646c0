package informer

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/governor-io/governor/store/meta"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// widget is the object type of these tests.
type widget struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            string `json:"spec"`
}

func newWidget(ns, name, spec string, labels map[string]string) *widget {
	return &widget{ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: name, Labels: labels}, Spec: spec}
}

func rvOf(obj meta.Object) int64 {
	n, _ := strconv.ParseInt(obj.GetObjectMeta().ResourceVersion, 10, 64)
	return n
}

// fakeSource is a small revisioned collection of widgets with history,
// compaction, watch drops and injectable errors: a ListerWatcher whose
// every failure mode a test can trigger.
type fakeSource struct {
	mu        sync.Mutex
	rev       int64
	objs      map[string]*widget
	log       []logEntry // all history, in order
	compacted int64
	changed   chan struct{} // closed and replaced on every write
	drop      chan struct{} // closed to end every open watch
	streaming bool          // supports SendInitialEvents

	listErr  []error // returned by the next List calls, in order
	watchErr []error // returned by the next Watch calls, in order

	lists   int
	watches chan meta.ListOptions // every Watch call's options
}

type logEntry struct {
	ev meta.WatchEvent[*widget]
	rv int64
}

func newFakeSource() *fakeSource {
	return &fakeSource{
		objs:    make(map[string]*widget),
		changed: make(chan struct{}),
		drop:    make(chan struct{}),
		watches: make(chan meta.ListOptions, 1000),
	}
}

func (f *fakeSource) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func clone(w *widget) *widget {
	c := *w
	return &c
}

// write applies one change and returns the stored object (nil when a
// delete found nothing).
func (f *fakeSource) write(t meta.EventType, w *widget) *widget {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := w.Key()
	old, exists := f.objs[key]
	switch {
	case t == meta.Deleted && !exists, t == meta.Added && exists, t == meta.Modified && !exists:
		return nil
	}
	f.rev++
	c := clone(w)
	c.ResourceVersion = strconv.FormatInt(f.rev, 10)
	if t == meta.Deleted {
		c = clone(old)
		c.ResourceVersion = strconv.FormatInt(f.rev, 10)
		delete(f.objs, key)
	} else {
		f.objs[key] = c
	}
	f.log = append(f.log, logEntry{ev: meta.WatchEvent[*widget]{Type: t, Object: c}, rv: f.rev})
	f.notifyLocked()
	return c
}

func (f *fakeSource) create(w *widget) *widget { return f.write(meta.Added, w) }
func (f *fakeSource) update(w *widget) *widget { return f.write(meta.Modified, w) }
func (f *fakeSource) remove(w *widget) *widget { return f.write(meta.Deleted, w) }

// bookmark sends a bookmark at the current revision to open watches.
func (f *fakeSource) bookmark() {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := &widget{ObjectMeta: meta.ObjectMeta{ResourceVersion: strconv.FormatInt(f.rev, 10)}}
	f.log = append(f.log, logEntry{ev: meta.WatchEvent[*widget]{Type: meta.Bookmark, Object: b}, rv: f.rev})
	f.notifyLocked()
}

// expire ends every open watch with an Expired error event.
func (f *fakeSource) expire() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, logEntry{ev: meta.WatchEvent[*widget]{Type: meta.Error, Err: meta.NewExpired("too old")}, rv: f.rev})
	f.notifyLocked()
}

// compact forgets the history up to the current revision.
func (f *fakeSource) compact() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.compacted = f.rev
}

// dropWatches ends every open watch, as a lost connection would.
func (f *fakeSource) dropWatches() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.drop)
	f.drop = make(chan struct{})
}

func (f *fakeSource) snapshot() (items []*widget, rev int64) {
	for _, w := range f.objs {
		items = append(items, w)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Key() < items[j].Key() })
	return items, f.rev
}

func (f *fakeSource) List(ctx context.Context, opts meta.ListOptions) (*meta.List[*widget], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	if len(f.listErr) > 0 {
		err := f.listErr[0]
		f.listErr = f.listErr[1:]
		if err != nil {
			return nil, err
		}
	}
	items, rev := f.snapshot()
	items = filterNS(items, opts.Namespace)
	start := 0
	if opts.Continue != "" {
		var crev int64
		if _, err := fmt.Sscanf(opts.Continue, "%d/%d", &start, &crev); err != nil {
			return nil, meta.NewBadRequest("bad continue")
		}
		if crev < f.compacted {
			return nil, meta.NewExpired("continue token expired")
		}
	}
	end := len(items)
	cont := ""
	if opts.Limit > 0 && start+int(opts.Limit) < end {
		end = start + int(opts.Limit)
		cont = fmt.Sprintf("%d/%d", end, rev)
	}
	return &meta.List[*widget]{Items: items[start:end:end], ResourceVersion: strconv.FormatInt(rev, 10), Continue: cont}, nil
}

func filterNS(items []*widget, ns string) []*widget {
	if ns == "" {
		return items
	}
	var out []*widget
	for _, w := range items {
		if w.Namespace == ns {
			out = append(out, w)
		}
	}
	return out
}

func (f *fakeSource) Watch(ctx context.Context, opts meta.ListOptions) (<-chan meta.WatchEvent[*widget], error) {
	// Report the call once the watch is set up (or has failed), so that a
	// test that saw it can write and know the watch sees the write.
	defer func() { f.watches <- opts }()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.watchErr) > 0 {
		err := f.watchErr[0]
		f.watchErr = f.watchErr[1:]
		if err != nil {
			return nil, err
		}
	}
	from, err := meta.ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return nil, err
	}
	var initial []meta.WatchEvent[*widget]
	switch {
	case opts.SendInitialEvents && !f.streaming:
		return nil, meta.NewBadRequest("sendInitialEvents is not supported")
	case from == 0:
		items, rev := f.snapshot()
		for _, w := range filterNS(items, opts.Namespace) {
			initial = append(initial, meta.WatchEvent[*widget]{Type: meta.Added, Object: w})
		}
		if opts.SendInitialEvents {
			b := &widget{ObjectMeta: meta.ObjectMeta{ResourceVersion: strconv.FormatInt(rev, 10),
				Annotations: map[string]string{meta.InitialEventsEndAnnotation: "true"}}}
			initial = append(initial, meta.WatchEvent[*widget]{Type: meta.Bookmark, Object: b})
		}
		from = rev
	case from < f.compacted:
		return nil, meta.NewExpired(fmt.Sprintf("resourceVersion %d is compacted (at %d)", from, f.compacted))
	}
	ch := make(chan meta.WatchEvent[*widget])
	seen := sort.Search(len(f.log), func(i int) bool { return f.log[i].rv > from })
	go f.serve(ctx, ch, initial, seen, len(f.log), opts.Namespace, f.drop)
	return ch, nil
}

// serve sends initial, then every logged event from position seen, until ctx is
// done, the watch is dropped, or an error event is sent.
func (f *fakeSource) serve(ctx context.Context, ch chan<- meta.WatchEvent[*widget], initial []meta.WatchEvent[*widget], seen, startLen int, ns string, drop <-chan struct{}) {
	defer close(ch)
	send := func(ev meta.WatchEvent[*widget]) bool {
		select { // a dropped watch sends nothing more
		case <-drop:
			return false
		default:
		}
		select {
		case ch <- ev:
			return true
		case <-ctx.Done():
		case <-drop:
		}
		return false
	}
	for _, ev := range initial {
		if !send(ev) {
			return
		}
	}
	// The log only grows (compaction just refuses old starting points),
	// so a position in it is a cursor.
	for {
		f.mu.Lock()
		base := seen
		batch := f.log[seen:]
		seen = len(f.log)
		changed := f.changed
		f.mu.Unlock()
		for j, e := range batch {
			if (e.ev.Type == meta.Error || e.ev.Type == meta.Bookmark) && base+j < startLen {
				continue // sent to the watches open at the time only
			}
			if e.ev.Type != meta.Bookmark && e.ev.Type != meta.Error && ns != "" && e.ev.Object.Namespace != ns {
				continue
			}
			if !send(e.ev) || e.ev.Type == meta.Error {
				return
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		case <-drop:
			return
		}
	}
}

// recorder is a Handler that records what it gets.
type recorder struct {
	mu     sync.Mutex
	events []rec
	notify chan struct{}
	gate   chan struct{} // if set, each call waits for a receive from it
	// entered, if set, gets a send when a call starts waiting on gate.
	entered chan struct{}
}

type rec struct {
	kind     string
	key      string
	old, obj *widget
	flag     bool
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1)} }

func (r *recorder) add(e rec) {
	r.mu.Lock()
	gate, entered := r.gate, r.entered
	r.mu.Unlock()
	if gate != nil {
		if entered != nil {
			entered <- struct{}{}
		}
		<-gate
	}
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *recorder) OnAdd(obj *widget, initial bool) {
	r.add(rec{kind: "add", key: obj.Key(), obj: obj, flag: initial})
}
func (r *recorder) OnUpdate(old, obj *widget) {
	r.add(rec{kind: "update", key: obj.Key(), old: old, obj: obj})
}
func (r *recorder) OnDelete(obj *widget, known bool) {
	r.add(rec{kind: "delete", key: obj.Key(), obj: obj, flag: known})
}

func (r *recorder) snapshot() []rec {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]rec(nil), r.events...)
}

// waitFor waits until cond holds for the recorded events.
func (r *recorder) waitFor(t *testing.T, what string, cond func([]rec) bool) []rec {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		evs := r.snapshot()
		if cond(evs) {
			return evs
		}
		select {
		case <-r.notify:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; got %d events: %v", what, len(evs), summarize(evs))
		}
	}
}

func (r *recorder) waitN(t *testing.T, n int) []rec {
	t.Helper()
	return r.waitFor(t, fmt.Sprintf("%d events", n), func(e []rec) bool { return len(e) >= n })
}

func summarize(evs []rec) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = fmt.Sprintf("%s %s rv=%s flag=%v", e.kind, e.key, e.obj.ResourceVersion, e.flag)
	}
	return out
}

// run starts inf and returns a stop func that waits for Run to return.
func run[T meta.Object](t *testing.T, inf *Informer[T]) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- inf.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitSynced(t *testing.T, s ...Synced) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !WaitForCacheSync(ctx, s...) {
		t.Fatal("caches did not sync")
	}
}

// nextWatch returns the options of the next Watch call.
func (f *fakeSource) nextWatch(t *testing.T) meta.ListOptions {
	t.Helper()
	select {
	case o := <-f.watches:
		return o
	case <-time.After(10 * time.Second):
		t.Fatal("no watch was opened")
		return meta.ListOptions{}
	}
}

func (f *fakeSource) listCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists
}
