package event

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
)

// Defaults for [Options], client-go's figures.
const (
	// DefaultCacheSize is how many distinct events a [Recorder] remembers
	// for aggregation.
	DefaultCacheSize = 4096
	// DefaultMaxSimilar is how many different messages one object may get
	// for one type and reason within the similar interval before they are
	// combined into one event.
	DefaultMaxSimilar = 10
	// DefaultSimilarInterval is that interval.
	DefaultSimilarInterval = 10 * time.Minute
)

// combinedPrefix starts the message of an event that combines similar
// events with different messages.
const combinedPrefix = "(combined from similar events): "

// Options configure a [Recorder]. The zero value works.
type Options struct {
	// Component names the reporter in Source.Component and
	// ReportingController, such as "backup-controller".
	Component string
	// Host names the reporter's instance in Source.Host and
	// ReportingInstance.
	Host string
	// Clock gives the timestamps. nil means the real clock.
	Clock clock.Clock
	// CacheSize bounds the events remembered for aggregation (least
	// recently recorded forgotten first). Zero means [DefaultCacheSize].
	CacheSize int
	// MaxSimilar is how many different messages one object may get for
	// one type and reason, each less than SimilarInterval after the one
	// before, before the rest are combined into one event whose message
	// is the latest, prefixed "(combined from similar events): ". Zero
	// means [DefaultMaxSimilar]; a negative value never combines.
	MaxSimilar int
	// SimilarInterval is that interval. Zero means
	// [DefaultSimilarInterval].
	SimilarInterval time.Duration
	// Logger, when set, also logs every event recorded, Normal ones at
	// Info and Warning ones at Warn, with the object, reason and message.
	// Nil logs nothing.
	Logger *slog.Logger
}

// Recorder writes events into a store, aggregating repeats as client-go's
// event correlator does: an event equal to one it recorded before (same
// source, involved object, type, reason and message) increments that
// event's Count and moves its LastTimestamp, with a conflict-retrying
// update, rather than creating a new event; and once an object has had
// Options.MaxSimilar different messages for one type and reason in quick
// succession, further ones are combined into one event. It remembers the
// last Options.CacheSize distinct events; one it has forgotten (or whose
// stored event was deleted) starts again with a new event. A Recorder is
// safe for concurrent use.
type Recorder struct {
	st         *store.Store[*Event]
	clk        clock.Clock
	src        Source
	limit      int
	maxSimilar int
	interval   time.Duration
	log        *slog.Logger

	mu      sync.Mutex
	lru     *list.List // of *entry, most recent first
	byKey   map[key]*list.Element
	similar *list.List // of *similarity, most recent first
	byAgg   map[key]*list.Element
}

// similarity tracks the different messages of one key without message.
type similarity struct {
	key  key
	msgs map[string]struct{}
	last time.Time
}

// key identifies repeats of one event, as client-go's event correlator
// does; with msg empty and combined set, the event that combines similar
// ones.
type key struct {
	src              Source
	obj              ObjectReference
	typ, reason, msg string
	combined         bool
}

// entry is the stored event that recordings of one key aggregate into.
type entry struct {
	key  key
	mu   sync.Mutex // held while writing this key's event
	ns   string
	name string // "" until created
}

// NewRecorder returns a Recorder that writes into st, a Store made with
// [Resource] (or a Resource like it). With a nil st it stores nothing and
// only logs, through Options.Logger.
func NewRecorder(st *store.Store[*Event], opts Options) *Recorder {
	limit := opts.CacheSize
	if limit <= 0 {
		limit = DefaultCacheSize
	}
	maxSimilar := opts.MaxSimilar
	if maxSimilar == 0 {
		maxSimilar = DefaultMaxSimilar
	}
	interval := opts.SimilarInterval
	if interval <= 0 {
		interval = DefaultSimilarInterval
	}
	return &Recorder{st: st, clk: clock.OrReal(opts.Clock), src: Source{Component: opts.Component, Host: opts.Host},
		limit: limit, maxSimilar: maxSimilar, interval: interval, log: opts.Logger,
		lru: list.New(), byKey: make(map[key]*list.Element), similar: list.New(), byAgg: make(map[key]*list.Element)}
}

// Event records an event of type eventType ([TypeNormal] or [TypeWarning])
// about obj, which carries its kind and apiVersion as objects read from a
// Store do. It returns the event as stored: new with Count 1, or a repeat
// with a higher Count. Events about a cluster-scoped object go into the
// "default" namespace, as in Kubernetes. A Recorder without a store
// returns the event it logged, with Count 1.
func (r *Recorder) Event(ctx context.Context, obj meta.Object, eventType, reason, message string) (*Event, error) {
	ref := ReferenceTo(obj)
	if r.log != nil {
		level := slog.LevelInfo
		if eventType == TypeWarning {
			level = slog.LevelWarn
		}
		r.log.Log(ctx, level, "event", "type", eventType, "reason", reason, "message", message,
			"object", ref.Kind+" "+meta.NameOf(obj).String(), "component", r.src.Component)
	}
	// A repeat is the same whatever version of the object it is about.
	k := key{src: r.src, obj: ref, typ: eventType, reason: reason, msg: message}
	k.obj.ResourceVersion = ""
	now := r.clk.Now()
	if r.st == nil {
		return r.newEvent(ref, eventType, reason, message, now), nil
	}
	if r.tooSimilar(k, now) {
		k.msg, k.combined = "", true
		message = combinedPrefix + message
	}
	e := r.entry(k)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.name != "" {
		out, err := r.st.GuaranteedUpdate(ctx, e.ns, e.name, func(ev *Event) (*Event, error) {
			ev.Count++
			ev.Message = message // the latest, for a combined event
			ev.LastTimestamp = meta.NewTime(now)
			ev.InvolvedObject.ResourceVersion = ref.ResourceVersion
			return ev, nil
		})
		if err == nil {
			return out, nil
		}
		if !errors.Is(err, meta.ErrNotFound) {
			return nil, fmt.Errorf("event: update %s/%s: %w", e.ns, e.name, err)
		}
		e.name = "" // deleted (expired, say): start again
	}
	ev := r.newEvent(ref, eventType, reason, message, now)
	out, err := r.st.Create(ctx, ev)
	if errors.Is(err, meta.ErrAlreadyExists) {
		// Another recorder's event of the same object at the same
		// nanosecond: let the store name this one.
		ev.GenerateName, ev.Name = ev.Name+"-", ""
		out, err = r.st.Create(ctx, ev)
	}
	if err != nil {
		return nil, fmt.Errorf("event: create %s for %s %s: %w", reason, ref.Kind, meta.NameOf(obj), err)
	}
	e.ns, e.name = out.Namespace, out.Name
	return out, nil
}

// newEvent returns the first recording of an event.
func (r *Recorder) newEvent(ref ObjectReference, eventType, reason, message string, now time.Time) *Event {
	ns := ref.Namespace
	if ns == "" {
		ns = "default"
	}
	return &Event{
		ObjectMeta: meta.ObjectMeta{Namespace: ns,
			// Kubernetes' naming: the object's name and the time in hex.
			Name: fmt.Sprintf("%s.%x", ref.Name, now.UnixNano())},
		InvolvedObject: ref, Type: eventType, Reason: reason, Message: message, Source: r.src,
		FirstTimestamp: meta.NewTime(now), LastTimestamp: meta.NewTime(now), EventTime: meta.NewMicroTime(now),
		Count: 1, ReportingController: r.src.Component, ReportingInstance: r.src.Host,
	}
}

// Eventf is [Recorder.Event] with a message formatted by fmt.Sprintf.
func (r *Recorder) Eventf(ctx context.Context, obj meta.Object, eventType, reason, format string, args ...any) (*Event, error) {
	return r.Event(ctx, obj, eventType, reason, fmt.Sprintf(format, args...))
}

// tooSimilar notes k's message among those of k without its message, and
// reports whether there have now been too many of them in quick
// succession.
func (r *Recorder) tooSimilar(k key, now time.Time) bool {
	if r.maxSimilar < 0 {
		return false
	}
	msg := k.msg
	k.msg = ""
	r.mu.Lock()
	defer r.mu.Unlock()
	var s *similarity
	if el, ok := r.byAgg[k]; ok {
		r.similar.MoveToFront(el)
		s = el.Value.(*similarity)
		if now.Sub(s.last) > r.interval {
			clear(s.msgs)
		}
	} else {
		s = &similarity{key: k, msgs: make(map[string]struct{})}
		r.byAgg[k] = r.similar.PushFront(s)
		for r.similar.Len() > r.limit {
			old := r.similar.Back()
			r.similar.Remove(old)
			delete(r.byAgg, old.Value.(*similarity).key)
		}
	}
	s.last = now
	s.msgs[msg] = struct{}{}
	return len(s.msgs) >= r.maxSimilar
}

// entry returns the entry of k, making it the most recent and forgetting
// the least recent beyond the limit.
func (r *Recorder) entry(k key) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, ok := r.byKey[k]; ok {
		r.lru.MoveToFront(el)
		return el.Value.(*entry)
	}
	e := &entry{key: k}
	r.byKey[k] = r.lru.PushFront(e)
	for r.lru.Len() > r.limit {
		old := r.lru.Back()
		r.lru.Remove(old)
		delete(r.byKey, old.Value.(*entry).key)
	}
	return e
}
