package informer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/internal/broadcast"
	"github.com/governor-io/governor/store/meta"
)

// Options configure an [Informer]. The zero value is usable.
type Options[T meta.Object] struct {
	// Name labels metrics and logs, such as "pods".
	Name string
	// Clock drives watch timeouts, backoff and resync (nil: wall clock).
	Clock clock.Clock
	// Logger (nil: slog.Default()).
	Logger *slog.Logger
	// ResyncPeriod is the default resync period of handlers: every period
	// a handler gets OnUpdate(obj, obj) for each cached object. 0: off.
	// [HandlerOptions].ResyncPeriod overrides it per handler.
	ResyncPeriod time.Duration
	// ListOptions select the objects: namespace, label and field
	// selectors. Other fields are managed by the reflector.
	ListOptions meta.ListOptions
	// KeyFunc replaces the default namespace/name cache key.
	KeyFunc KeyFunc[T]
	// Indexers are named indexes for [Lister.ByIndex].
	Indexers map[string]IndexFunc[T]
	// Transform, if set, is applied to every object before it is cached
	// and handed to handlers, for example to drop managed fields. It may
	// modify its argument in place when the source hands out fresh objects
	// (the typed store does); otherwise it must return a changed copy. To
	// cache a different, compact type, wrap the source in [Project].
	Transform func(T) T
	// WatchErrorHandler, if set, is called with every list or watch error.
	WatchErrorHandler func(err error)
	// Metrics, if set, receives this informer's metrics.
	Metrics MetricsProvider
	// DetectMutations, for tests, keeps a private copy of every object the
	// informer caches and checks that the shared object is unchanged: after
	// each handler call (the objects it was given), at each event (the
	// object the event replaces or removes), when Run returns (every
	// object), and at [Informer.CheckMutations]. It costs a deep copy of
	// every version seen, kept for the informer's lifetime, and tracks
	// objects of pointer types only.
	DetectMutations bool
	// OnMutation gets the *[MutationError] of each modified object that
	// DetectMutations finds, once. Nil panics with it.
	OnMutation func(err error)
	// PageSize, StreamInitialList, MinWatchTimeout and Backoff are passed
	// to the [Reflector]; see [ReflectorOptions].
	PageSize          int64
	StreamInitialList bool
	MinWatchTimeout   time.Duration
	Backoff           Backoff
}

// Errors of [Informer] methods.
var (
	// ErrAlreadyRunning is returned by a second call to Run.
	ErrAlreadyRunning = errors.New("informer: already running")
	// ErrStopped is returned by AddHandler once Run has returned.
	ErrStopped = errors.New("informer: stopped")
	// ErrUnknownHandler is returned by RemoveHandler for a registration
	// that is not this informer's, or was already removed.
	ErrUnknownHandler = errors.New("informer: unknown handler registration")
)

// Informer keeps a local, indexed cache of a collection in step with a
// [ListerWatcher], and tells any number of handlers what changed.
//
// A [Reflector] lists and watches the source. Each event updates the cache
// and is then buffered for each handler, which runs in its own goroutine:
// a slow handler delays neither the cache nor other handlers. Handlers can
// be added and removed at any time; one added after the initial list
// first gets an OnAdd for every cached object.
//
// Cached objects are shared and read-only; see [Cache].
type Informer[T meta.Object] struct {
	opts   Options[T]
	clock  clock.Clock
	log    *slog.Logger
	cache  *Cache[T]
	lister *Lister[T]
	refl   *Reflector[T]

	synced   atomic.Bool
	syncedCh chan struct{}
	// act is bumped at every change that can make Idle true: a cache
	// change, a resync, a handler that becomes idle, added or removed.
	act broadcast.Signal

	// mu orders every cache write with the fan-out of its notification
	// and with handler registration, so that a handler added late sees
	// each change exactly once: in its synthetic adds or as an event.
	mu        sync.Mutex
	listeners []*listener[T]
	added     int
	state     runState
	wg        sync.WaitGroup
	resyncCh  chan struct{}
	mut       *mutationDetector[T] // nil unless Options.DetectMutations
}

type runState uint8

const (
	notStarted runState = iota
	running
	stopped
)

// New returns an Informer over lw. Call [Informer.Run] to start it.
func New[T meta.Object](lw ListerWatcher[T], opts Options[T]) *Informer[T] {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	i := &Informer[T]{
		opts:     opts,
		clock:    clock.OrReal(opts.Clock),
		log:      log,
		cache:    NewCache(CacheOptions[T]{KeyFunc: opts.KeyFunc, Indexers: opts.Indexers}),
		syncedCh: make(chan struct{}),
		resyncCh: make(chan struct{}, 1),
	}
	i.lister = NewLister(i.cache)
	if opts.DetectMutations {
		i.mut = newMutationDetector[T](opts.Name, opts.OnMutation)
	}
	i.refl = NewReflector(lw, (*informerSink[T])(i), ReflectorOptions{
		Name:              opts.Name,
		Clock:             opts.Clock,
		Logger:            log,
		ListOptions:       opts.ListOptions,
		PageSize:          opts.PageSize,
		StreamInitialList: opts.StreamInitialList,
		MinWatchTimeout:   opts.MinWatchTimeout,
		Backoff:           opts.Backoff,
		WatchErrorHandler: opts.WatchErrorHandler,
		Metrics:           opts.Metrics,
	})
	stats := func() []HandlerStats {
		i.mu.Lock()
		defer i.mu.Unlock()
		out := make([]HandlerStats, len(i.listeners))
		for j, l := range i.listeners {
			out[j] = HandlerStats{Name: l.cfg.name, Processed: l.processed.Load(), Backlog: l.backlog.Load()}
		}
		return out
	}
	i.refl.stats.handlers.Store(&stats)
	return i
}

// Run starts the informer and blocks until ctx is done, then stops every
// handler goroutine and returns nil. A second call returns
// [ErrAlreadyRunning].
func (i *Informer[T]) Run(ctx context.Context) error {
	i.mu.Lock()
	if i.state != notStarted {
		i.mu.Unlock()
		return ErrAlreadyRunning
	}
	i.state = running
	for _, l := range i.listeners {
		i.wg.Go(l.run)
	}
	i.mu.Unlock()

	i.wg.Go(func() { i.resyncLoop(ctx) })
	i.refl.Run(ctx)

	i.mu.Lock()
	i.state = stopped
	for _, l := range i.listeners {
		l.stop()
	}
	i.mu.Unlock()
	i.wg.Wait()
	if i.mut != nil {
		if err := i.mut.checkAll("when the informer stopped"); err != nil {
			i.mut.report(err)
		}
	}
	i.act.Bump()
	return nil
}

// CheckMutations compares every object the informer has cached with the
// private copy that [Options].DetectMutations keeps, and returns a
// [MutationError] (joined, if several) for each that changed and was not
// reported before. It returns nil without DetectMutations.
func (i *Informer[T]) CheckMutations() error {
	if i.mut == nil {
		return nil
	}
	return i.mut.checkAll("by CheckMutations")
}

// Idle reports whether the informer has nothing left to do with what it has
// received: it has synced, every handler has handled every notification
// buffered for it and is not in a call, and no handler's resync is due.
// It cannot know of events that the source has not yet delivered: to tell
// whether the cache has caught up with a write, compare resourceVersions
// (reconciletest does).
func (i *Informer[T]) Idle() bool {
	if !i.synced.Load() {
		return false
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	var now time.Time
	for _, l := range i.listeners {
		if l.cfg.resync > 0 && i.state == running {
			if now.IsZero() {
				now = i.clock.Now()
			}
			if !now.Before(l.nextResync) {
				return false // the resync loop is about to push it
			}
		}
		if !l.idle() {
			return false
		}
	}
	return true
}

// Activity returns a channel that is closed at the next change that can
// make [Informer.Idle] true, or false: a change to the cache, a resync, a
// handler that gets work, becomes idle, is added or removed, and the end of
// Run. Take it before calling Idle, then wait on it, to miss no change.
func (i *Informer[T]) Activity() <-chan struct{} { return i.act.Next() }

// WaitIdle waits, without polling, until [Informer.Idle] is true. It
// returns an error wrapping ctx.Err() if ctx is done first.
func (i *Informer[T]) WaitIdle(ctx context.Context) error {
	if err := broadcast.Await(ctx, i.act.Next, i.Idle); err != nil {
		return fmt.Errorf("informer %s: wait for idle: %w", i.opts.Name, err)
	}
	return nil
}

// HasSynced reports whether the first full list is in the cache.
func (i *Informer[T]) HasSynced() bool { return i.synced.Load() }

// SyncDone returns a channel that is closed once [Informer.HasSynced] is
// true.
func (i *Informer[T]) SyncDone() <-chan struct{} { return i.syncedCh }

// Lister returns a reader of the cache.
func (i *Informer[T]) Lister() *Lister[T] { return i.lister }

// LastSyncResourceVersion returns the resourceVersion of the last list,
// event or bookmark seen.
func (i *Informer[T]) LastSyncResourceVersion() string { return i.refl.LastSyncResourceVersion() }

// AddIndexers adds named indexes, indexing what is already cached. It
// fails, adding nothing, if a name is taken (see [ErrIndexExists]).
func (i *Informer[T]) AddIndexers(indexers map[string]IndexFunc[T]) error {
	return i.cache.AddIndexers(indexers)
}

// Registration identifies a handler added by [Informer.AddHandler].
type Registration struct {
	owner any
	l     registered
}

type registered interface {
	name() string
	hasSynced() bool
	syncDone() <-chan struct{}
	pendingCount() int
	idle() bool
	activity() *broadcast.Signal
}

func (l *listener[T]) name() string                { return l.cfg.name }
func (l *listener[T]) hasSynced() bool             { return l.syncedFlag.Load() }
func (l *listener[T]) syncDone() <-chan struct{}   { return l.syncedCh }
func (l *listener[T]) activity() *broadcast.Signal { return &l.act }

func (l *listener[T]) pendingCount() int {
	if l.isStopped() {
		return 0 // what was buffered is dropped
	}
	return int(l.backlog.Load())
}

// HasSynced reports whether the handler has handled the whole initial
// state: the first list's objects, or for a handler added later, the
// synthetic adds it got.
func (r *Registration) HasSynced() bool { return r.l.hasSynced() }

// SyncDone returns a channel that is closed once [Registration.HasSynced]
// is true.
func (r *Registration) SyncDone() <-chan struct{} { return r.l.syncDone() }

// Backlog returns the number of notifications buffered for the handler and
// not yet handled, counting the one in hand (in [HandlerOptions].LatestPerKey mode, the
// number of pending keys, plus the entry in hand).
func (r *Registration) Backlog() int { return r.l.pendingCount() }

// Idle reports whether the handler has nothing buffered and is not in a
// call. A removed handler is idle once its call in progress, if any,
// returns. Idle says nothing about sync: see [Registration.HasSynced].
func (r *Registration) Idle() bool { return r.l.idle() }

// Activity returns a channel that is closed at the handler's next change of
// state: it gets a notification, or it becomes idle. Take it before calling
// Idle, then wait on it, to miss no change.
func (r *Registration) Activity() <-chan struct{} { return r.l.activity().Next() }

// WaitIdle waits, without polling, until [Registration.Idle] is true. It
// returns an error wrapping ctx.Err() if ctx is done first.
func (r *Registration) WaitIdle(ctx context.Context) error {
	if err := broadcast.Await(ctx, r.l.activity().Next, r.l.idle); err != nil {
		return fmt.Errorf("informer: handler %s: wait for idle: %w", r.l.name(), err)
	}
	return nil
}

// Name returns the handler's name (see [HandlerOptions].Name).
func (r *Registration) Name() string { return r.l.name() }

// AddHandler adds a handler with the default [HandlerOptions], which may
// happen before or after Run. If the initial list is already cached, the
// handler first gets an OnAdd, with isInInitialList set, for every cached
// object. It returns [ErrStopped] once Run has returned.
func (i *Informer[T]) AddHandler(h Handler[T]) (*Registration, error) {
	return i.AddHandlerWithOptions(h, HandlerOptions{})
}

// AddHandlerWithOptions adds a handler configured by opts, as
// [Informer.AddHandler] does.
func (i *Informer[T]) AddHandlerWithOptions(h Handler[T], opts HandlerOptions) (*Registration, error) {
	cfg := handlerConfig{name: opts.Name, resync: opts.ResyncPeriod, latest: opts.LatestPerKey}
	if cfg.resync == 0 {
		cfg.resync = i.opts.ResyncPeriod
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.state == stopped {
		return nil, ErrStopped
	}
	i.added++
	if cfg.name == "" {
		cfg.name = fmt.Sprintf("handler-%d", i.added)
	}
	l := newListener(h, cfg, i.log, &i.act)
	if i.mut != nil {
		l.check = i.mut.check
	}
	if i.synced.Load() {
		var zero T
		i.cache.mu.RLock()
		i.cache.eachLocked(func(key string, obj T) { l.push(noteAdd, key, zero, obj, true) })
		i.cache.mu.RUnlock()
		l.markSyncPoint()
	}
	if cfg.resync > 0 {
		l.nextResync = i.clock.Now().Add(cfg.resync)
		select {
		case i.resyncCh <- struct{}{}:
		default:
		}
	}
	// Copy on write, so that a stats scrape never sees a half-built slice.
	i.listeners = append(slices.Clip(i.listeners), l)
	if i.state == running {
		i.wg.Go(l.run)
	}
	r := &Registration{owner: i, l: l}
	l.reg = r
	i.act.Bump()
	return r, nil
}

// RemoveHandler removes a handler. Its buffered notifications are dropped;
// a call in progress finishes. It may be called from within the handler.
func (i *Informer[T]) RemoveHandler(r *Registration) error {
	if r == nil || r.owner != any(i) {
		return ErrUnknownHandler
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	for j, l := range i.listeners {
		if l.reg == r {
			i.listeners = slices.Delete(slices.Clone(i.listeners), j, j+1)
			l.stop()
			i.act.Bump()
			return nil
		}
	}
	return ErrUnknownHandler
}

// fan buffers one notification for every handler. The caller holds i.mu.
func (i *Informer[T]) fan(kind noteKind, key string, old, obj T, flag bool) {
	for _, l := range i.listeners {
		l.push(kind, key, old, obj, flag)
	}
}

// resyncLoop sends resync updates to handlers as their periods come due.
func (i *Informer[T]) resyncLoop(ctx context.Context) {
	for {
		var next time.Time
		i.mu.Lock()
		for _, l := range i.listeners {
			if l.cfg.resync > 0 && (next.IsZero() || l.nextResync.Before(next)) {
				next = l.nextResync
			}
		}
		i.mu.Unlock()
		var fire <-chan time.Time
		var t clock.Timer
		if !next.IsZero() {
			t = i.clock.NewTimer(next.Sub(i.clock.Now()))
			fire = t.C()
		}
		select {
		case <-ctx.Done():
		case <-i.resyncCh:
		case <-fire:
			i.resync()
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

func (i *Informer[T]) resync() {
	defer i.act.Bump() // the resync is no longer due, even with nothing cached
	i.mu.Lock()
	defer i.mu.Unlock()
	now := i.clock.Now()
	for _, l := range i.listeners {
		if l.cfg.resync <= 0 || now.Before(l.nextResync) {
			continue
		}
		l.nextResync = now.Add(l.cfg.resync)
		if !i.synced.Load() {
			continue
		}
		i.cache.mu.RLock()
		i.cache.eachLocked(func(key string, obj T) { l.push(noteUpdate, key, obj, obj, false) })
		i.cache.mu.RUnlock()
	}
}

// informerSink is the informer seen as its reflector's Sink.
type informerSink[T meta.Object] Informer[T]

func (s *informerSink[T]) Replace(items []T, rv string) {
	i := (*Informer[T])(s)
	if tf := i.opts.Transform; tf != nil {
		// The list belongs to the source; transform into our own slice.
		out := make([]T, len(items))
		for j, obj := range items {
			out[j] = tf(obj)
		}
		items = out
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	first := !i.synced.Load()
	var zero T
	i.cache.mu.Lock()
	i.cache.replace(items,
		func(key string, old T, existed bool, obj T) {
			i.track(key, old, existed, obj)
			if existed {
				i.fan(noteUpdate, key, old, obj, false)
			} else {
				i.fan(noteAdd, key, zero, obj, first)
			}
		},
		func(key string, old T) {
			i.track(key, old, true, zero)
			i.fan(noteDelete, key, zero, old, false)
		})
	i.cache.mu.Unlock()
	if first {
		i.synced.Store(true)
		close(i.syncedCh)
		for _, l := range i.listeners {
			l.markSyncPoint()
		}
	}
	i.act.Bump()
}

func (s *informerSink[T]) Add(obj T)    { s.upsert(obj) }
func (s *informerSink[T]) Update(obj T) { s.upsert(obj) }

func (s *informerSink[T]) upsert(obj T) {
	i := (*Informer[T])(s)
	if tf := i.opts.Transform; tf != nil {
		obj = tf(obj)
	}
	i.mu.Lock()
	i.cache.mu.Lock()
	key, old, existed := i.cache.set(obj)
	i.cache.mu.Unlock()
	if key != "" {
		i.track(key, old, existed, obj)
	}
	switch {
	case key == "":
		i.log.Warn("informer: ignoring an object with an empty key")
	case existed:
		i.fan(noteUpdate, key, old, obj, false)
	default:
		i.fan(noteAdd, key, old, obj, false)
	}
	i.mu.Unlock()
	i.act.Bump()
}

func (s *informerSink[T]) Delete(obj T) {
	i := (*Informer[T])(s)
	if tf := i.opts.Transform; tf != nil {
		obj = tf(obj)
	}
	i.mu.Lock()
	i.cache.mu.Lock()
	key, old, existed := i.cache.remove(obj)
	i.cache.mu.Unlock()
	if existed {
		var zero T
		i.track(key, old, true, zero)
		i.fan(noteDelete, key, old, obj, true)
	}
	i.mu.Unlock()
	i.act.Bump()
}

// track tells the mutation detector, if any, that the cached object under
// key changed from old (if existed) to obj (unless nil): old is checked,
// since no handler is told of it afterwards except as the old object of
// this event, and obj is copied before anyone sees it.
func (i *Informer[T]) track(key string, old T, existed bool, obj T) {
	if i.mut == nil {
		return
	}
	if existed {
		i.mut.check("at the next event on its key", old)
	}
	i.mut.add(key, obj) // a nil obj (a delete) is not tracked
}
