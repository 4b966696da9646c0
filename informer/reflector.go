package informer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/store/meta"
)

// Sink receives what a [Reflector] learns from its source. [Cache]
// implements it; so does the informer internally.
type Sink[T any] interface {
	// Replace makes items the whole known state, read at resourceVersion.
	Replace(items []T, resourceVersion string)
	// Add, Update and Delete apply one watch event.
	Add(obj T)
	Update(obj T)
	Delete(obj T)
}

// ReflectorOptions configure a [Reflector]. The zero value is usable.
type ReflectorOptions struct {
	// Name labels metrics and logs.
	Name string
	// Clock times watches and backoff (nil: the wall clock).
	Clock clock.Clock
	// Logger gets list and watch failures (nil: slog.Default()).
	Logger *slog.Logger
	// ListOptions select what to list and watch (namespace, label and
	// field selectors). Their ResourceVersion, Limit, Continue and watch
	// flags are managed by the reflector and ignored.
	ListOptions meta.ListOptions
	// PageSize asks the source for pages of at most this many items
	// (0: one page).
	PageSize int64
	// StreamInitialList fetches the initial state with one watch that has
	// SendInitialEvents set, ended by the InitialEventsEndAnnotation
	// bookmark, instead of a List. Should the source not support it (the
	// watch fails, ends, or sends anything but ADDED events before the
	// bookmark), the reflector falls back to List then Watch for good.
	StreamInitialList bool
	// MinWatchTimeout: each watch is ended after a random time between
	// MinWatchTimeout and twice that, and resumed, so that many clients do
	// not reconnect at once (default 5m).
	MinWatchTimeout time.Duration
	// Backoff is the delay policy after errors.
	Backoff Backoff
	// WatchErrorHandler, if set, is called with every list or watch error
	// (after it is logged).
	WatchErrorHandler func(err error)
	// Metrics, if set, receives list and watch counts and durations, and
	// the reflector's [Stats]. Nil means no metrics.
	Metrics MetricsProvider
}

// Reflector keeps a [Sink] in step with a [ListerWatcher]: it lists,
// replaces the sink's content, then watches from the list's
// resourceVersion. When a watch ends it watches again from the last
// resourceVersion it saw (bookmarks move it forward too); when the source
// says that resourceVersion has Expired it lists again. Errors are retried
// with exponential backoff and jitter.
type Reflector[T meta.Object] struct {
	lw    ListerWatcher[T]
	sink  Sink[T]
	opts  ReflectorOptions
	clock clock.Clock
	log   *slog.Logger
	stats *sourceStats
	met   *reflectorMetrics // nil without Metrics
	bo    *backoffState

	mu       sync.Mutex
	lastRV   string
	noStream bool // the source does not stream initial lists

	// afterEvent, if set, is called after each watch event is handled
	// (a test hook).
	afterEvent func(meta.EventType)
}

// NewReflector returns a Reflector that feeds sink from lw.
func NewReflector[T meta.Object](lw ListerWatcher[T], sink Sink[T], opts ReflectorOptions) *Reflector[T] {
	if opts.MinWatchTimeout <= 0 {
		opts.MinWatchTimeout = 5 * time.Minute
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	r := &Reflector[T]{
		lw:    lw,
		sink:  sink,
		opts:  opts,
		clock: clock.OrReal(opts.Clock),
		log:   log.With("informer", opts.Name),
		stats: newSourceStats(opts.Name),
		met:   newReflectorMetrics(opts.Metrics, opts.Name),
		bo:    newBackoffState(opts.Backoff, nil),
	}
	r.stats.lastRV = r.LastSyncResourceVersion
	return r
}

// LastSyncResourceVersion returns the resourceVersion of the last list,
// event or bookmark the reflector saw, or "" before the first list.
func (r *Reflector[T]) LastSyncResourceVersion() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastRV
}

func (r *Reflector[T]) setRV(rv string) {
	if rv == "" {
		return
	}
	r.mu.Lock()
	r.lastRV = rv
	r.mu.Unlock()
}

// errWatchEnded is how watch reports a watch that closed normally.
var errWatchEnded = errors.New("informer: watch ended")

// errEmptyWatch is how watch reports a watch that closed normally within a
// second and without an event. A few in a row mean a source that ends
// every watch at once; the reflector then backs off instead of spinning.
var errEmptyWatch = fmt.Errorf("%w at once, without an event", errWatchEnded)

// maxEmptyWatches is how many empty watches in a row are retried at once.
const maxEmptyWatches = 3

// errNoStream marks a source that cannot stream the initial list.
var errNoStream = errors.New("informer: source does not stream initial lists")

// Run lists and watches until ctx is done.
func (r *Reflector[T]) Run(ctx context.Context) {
	if r.opts.Metrics != nil {
		defer r.opts.Metrics.AddStats(r.stats.snapshot)()
	}
	needList := true
	empty := 0 // empty watches in a row
	for ctx.Err() == nil {
		var err error
		if needList {
			err = r.initial(ctx)
			if err == nil {
				needList = false
				continue // initial has already run the first watch
			}
		} else {
			err = r.watch(ctx, nil)
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errEmptyWatch) {
			empty++
		} else {
			empty = 0
		}
		switch {
		case errors.Is(err, errEmptyWatch) && empty >= maxEmptyWatches:
			err = fmt.Errorf("informer: watch %s: %d in a row: %w", r.opts.Name, empty, err)
		case errors.Is(err, errWatchEnded):
			continue
		case errors.Is(err, meta.ErrExpired):
			// The resourceVersion we hold is gone: list again, now.
			r.log.Info("informer: resourceVersion expired, relisting", "resourceVersion", r.LastSyncResourceVersion())
			needList = true
			continue
		}
		r.report(err)
		if !r.sleep(ctx, r.bo.delay(r.clock.Now())) {
			return
		}
	}
}

func (r *Reflector[T]) report(err error) {
	r.log.Warn("informer: list or watch failed", "err", err)
	if r.opts.WatchErrorHandler != nil {
		r.opts.WatchErrorHandler(err)
	}
}

func (r *Reflector[T]) sleep(ctx context.Context, d time.Duration) bool {
	t := r.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
		return true
	}
}

// initial fetches the whole state into the sink, then watches. It returns
// what the first watch returns, or the list's error.
func (r *Reflector[T]) initial(ctx context.Context) error {
	r.mu.Lock()
	stream := r.opts.StreamInitialList && !r.noStream
	r.mu.Unlock()
	if stream {
		err := r.streamList(ctx)
		if !errors.Is(err, errNoStream) {
			return err
		}
		r.log.Info("informer: source does not stream initial lists; falling back to list and watch")
		r.mu.Lock()
		r.noStream = true
		r.mu.Unlock()
	}
	if err := r.list(ctx); err != nil {
		return err
	}
	err := r.watch(ctx, nil)
	if err == nil || errors.Is(err, errWatchEnded) {
		return nil
	}
	if errors.Is(err, meta.ErrExpired) {
		return err
	}
	// The list worked; only the watch failed. Back off, then rewatch.
	r.report(err)
	r.sleep(ctx, r.bo.delay(r.clock.Now()))
	return nil
}

// list reads every page and replaces the sink's content.
func (r *Reflector[T]) list(ctx context.Context) error {
	start := r.clock.Now()
	opts := r.baseOptions()
	opts.Limit = r.opts.PageSize
	var items []T
	rv := ""
	for {
		page, err := r.lw.List(ctx, opts)
		if err != nil {
			if errors.Is(err, meta.ErrExpired) && opts.Continue != "" {
				// The continue token outlived its snapshot: read it all
				// in one page instead.
				opts.Continue, opts.Limit, items, rv = "", 0, items[:0], ""
				continue
			}
			return fmt.Errorf("informer: list %s: %w", r.opts.Name, err)
		}
		if rv == "" {
			rv = page.ResourceVersion
		}
		if items == nil && page.Continue == "" {
			items = page.Items // one page: no copy
		} else {
			items = append(items, page.Items...)
		}
		if page.Continue == "" {
			break
		}
		opts.Continue = page.Continue
	}
	r.sink.Replace(items, rv)
	r.setRV(rv)
	r.met.observeList(r.clock.Since(start), len(items))
	return nil
}

// streamList fetches the state with a SendInitialEvents watch, replaces
// the sink's content when the initial-events-end bookmark arrives, and
// goes on with the same watch. It returns errNoStream when the source
// cannot do it.
func (r *Reflector[T]) streamList(ctx context.Context) error {
	start := r.clock.Now()
	opts := r.baseOptions()
	opts.SendInitialEvents = true
	opts.AllowWatchBookmarks = true
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := r.lw.Watch(wctx, opts)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %w", errNoStream, err)
	}
	timer := r.clock.AfterFunc(r.watchTimeout(), cancel)
	defer timer.Stop()
	var items []T
	for {
		var ev meta.WatchEvent[T]
		var ok bool
		select {
		case ev, ok = <-ch:
		case <-wctx.Done():
			ok = false
		}
		if !ok {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return errNoStream
		}
		switch ev.Type {
		case meta.Added:
			items = append(items, ev.Object)
		case meta.Bookmark:
			m := ev.Object.GetObjectMeta()
			if m.Annotations[meta.InitialEventsEndAnnotation] != "true" {
				continue
			}
			r.sink.Replace(items, m.ResourceVersion)
			r.setRV(m.ResourceVersion)
			r.met.observeList(r.clock.Since(start), len(items))
			err := r.watch(ctx, &openWatch[T]{ch: ch, ctx: wctx, start: start})
			if err == nil || errors.Is(err, errWatchEnded) {
				return nil
			}
			return err
		case meta.Error:
			if errors.Is(ev.Err, meta.ErrExpired) {
				return ev.Err
			}
			return fmt.Errorf("%w: %w", errNoStream, ev.Err)
		default:
			return errNoStream
		}
	}
}

// openWatch is a watch that streamList opened and watch goes on with.
type openWatch[T any] struct {
	ch    <-chan meta.WatchEvent[T]
	ctx   context.Context
	start time.Time
}

func (r *Reflector[T]) baseOptions() meta.ListOptions {
	return meta.ListOptions{
		Namespace:     r.opts.ListOptions.Namespace,
		LabelSelector: r.opts.ListOptions.LabelSelector,
		FieldSelector: r.opts.ListOptions.FieldSelector,
	}
}

func (r *Reflector[T]) watchTimeout() time.Duration {
	return r.opts.MinWatchTimeout + time.Duration(rand.Float64()*float64(r.opts.MinWatchTimeout))
}

// watch follows one watch from the last resourceVersion, or ow if it is
// already open. It returns errWatchEnded when the watch ends normally, an
// error matching meta.ErrExpired when the resourceVersion is too old, or
// another error.
func (r *Reflector[T]) watch(ctx context.Context, ow *openWatch[T]) error {
	if ow == nil {
		opts := r.baseOptions()
		opts.ResourceVersion = r.LastSyncResourceVersion()
		opts.AllowWatchBookmarks = true
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		ch, err := r.lw.Watch(wctx, opts)
		if err != nil {
			return fmt.Errorf("informer: watch %s from %q: %w", r.opts.Name, opts.ResourceVersion, err)
		}
		timer := r.clock.AfterFunc(r.watchTimeout(), cancel)
		defer timer.Stop()
		ow = &openWatch[T]{ch: ch, ctx: wctx, start: r.clock.Now()}
	}
	n := 0
	defer func() { r.met.observeWatch(r.clock.Since(ow.start), n) }()
	done := ow.ctx.Done()
	for {
		var ev meta.WatchEvent[T]
		var ok bool
		select {
		case ev, ok = <-ow.ch:
		case <-done:
		}
		if !ok {
			if n > 0 {
				r.bo.reset()
			} else if r.clock.Since(ow.start) < time.Second && ctx.Err() == nil {
				return errEmptyWatch
			}
			return errWatchEnded
		}
		r.stats.received(ev.Type)
		switch ev.Type {
		case meta.Added:
			r.sink.Add(ev.Object)
		case meta.Modified:
			r.sink.Update(ev.Object)
		case meta.Deleted:
			r.sink.Delete(ev.Object)
		case meta.Bookmark:
		case meta.Error:
			if ev.Err == nil {
				return fmt.Errorf("informer: watch %s: error event without an error", r.opts.Name)
			}
			return fmt.Errorf("informer: watch %s: %w", r.opts.Name, ev.Err)
		default:
			return fmt.Errorf("informer: watch %s: unknown event type %q", r.opts.Name, ev.Type)
		}
		n++
		r.setRV(ev.Object.GetObjectMeta().ResourceVersion)
		if r.afterEvent != nil {
			r.afterEvent(ev.Type)
		}
	}
}
