package apiserver

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/governor-io/governor/store/meta"
)

// watchEvent is one line of a watch stream.
type watchEvent struct {
	Type   meta.EventType `json:"type"`
	Object any            `json:"object"`
}

// bookmarkObject is the object of a BOOKMARK event: kind, apiVersion and
// metadata.resourceVersion (plus the initial-events-end annotation).
type bookmarkObject struct {
	Kind       string       `json:"kind"`
	APIVersion string       `json:"apiVersion"`
	Metadata   bookmarkMeta `json:"metadata"`
}

type bookmarkMeta struct {
	ResourceVersion string            `json:"resourceVersion"`
	Annotations     map[string]string `json:"annotations,omitempty"`
}

func (r *resource[T]) watch(ctx context.Context, w http.ResponseWriter, req *http.Request, ri *requestInfo, neg negotiation) error {
	p, err := parseListParams(req.URL.Query(), ri.namespace, true)
	if err != nil {
		return err
	}
	if ri.name != "" {
		// A watch of one object: kube-apiserver's legacy form.
		sel := "metadata.name=" + ri.name
		if p.opts.FieldSelector != "" {
			sel += "," + p.opts.FieldSelector
		}
		p.opts.FieldSelector = sel
	}
	match, err := r.matcher(p.opts)
	if err != nil {
		return err
	}
	rv := p.opts.ResourceVersion
	initial := p.opts.SendInitialEvents || (rv == "" || rv == "0") && p.sendInitial == nil
	var from int64
	switch {
	case rv == "0":
		err = r.cache.waitFor(ctx, 0)
	case rv == "":
		// "Start at the most recent": the cache once it has caught up
		// with the KV, or as it is if it does not in time.
		if err = r.cache.waitFresh(ctx); err != nil && meta.ReasonOf(err) == meta.ReasonTimeout && ctx.Err() == nil {
			err = r.cache.waitFor(ctx, 0)
		}
	default:
		from, _ = meta.ParseResourceVersion(rv)
		err = r.cache.waitFor(ctx, from)
	}
	if err != nil {
		return err
	}
	if !initial && (rv == "" || rv == "0") {
		from = r.cache.currentRev() // sendInitialEvents=false: changes from now on
	}
	filter := func(ev cacheEvent[T]) (cacheEvent[T], bool) { return filterEvent(ev, match) }
	first, snapRev, cw, err := r.cache.subscribe(from, initial, p.opts.AllowWatchBookmarks, filter)
	if err != nil {
		if meta.ReasonOf(err) != meta.ReasonExpired {
			return err
		}
		// Too old: a 200 stream with one ERROR event, as Kubernetes does.
		return r.streamError(w, err)
	}
	defer r.cache.stop(cw)

	timeout := time.Duration(p.timeoutSeconds) * time.Second
	if timeout == 0 {
		min := r.s.cfg.MinRequestTimeout
		timeout = min + time.Duration(rand.Int64N(int64(min)))
	}
	timer := r.s.clock.NewTimer(timeout)
	defer timer.Stop()

	st := newWatchStream(w, r, neg, req)
	st.start()
	for _, ev := range first {
		if !st.send(ev) {
			return nil
		}
	}
	if p.opts.SendInitialEvents {
		if !st.bookmark(snapRev, map[string]string{meta.InitialEventsEndAnnotation: "true"}) {
			return nil
		}
	}
	st.flush()
	for {
		select {
		case ev, ok := <-cw.ch:
			if !ok {
				return nil // dropped by the cache: the client resumes from its last RV
			}
			if !st.send(ev) {
				return nil
			}
			// Send what is already queued before flushing.
			for more := true; more; {
				select {
				case ev, ok := <-cw.ch:
					if !ok {
						st.flush()
						return nil
					}
					if !st.send(ev) {
						return nil
					}
				default:
					more = false
				}
			}
			st.flush()
		case <-timer.C():
			return nil
		case <-ctx.Done():
			return nil
		case <-r.s.watchStop:
			return nil
		}
	}
}

// filterEvent turns a cache event into what a watch with match sees: an
// object that starts matching arrives as ADDED, one that stops matching
// as DELETED (its last matching state, with the new resourceVersion).
func filterEvent[T meta.Object](ev cacheEvent[T], match func(T) bool) (cacheEvent[T], bool) {
	switch ev.typ {
	case meta.Added:
		return ev, match(ev.obj)
	case meta.Deleted:
		return ev, match(ev.prev)
	case meta.Modified:
		cur, was := match(ev.obj), match(ev.prev)
		switch {
		case cur && was:
			return ev, true
		case cur:
			ev.typ = meta.Added
			return ev, true
		case was:
			old := meta.DeepCopy(ev.prev)
			old.GetObjectMeta().ResourceVersion = ev.obj.GetObjectMeta().ResourceVersion
			return cacheEvent[T]{typ: meta.Deleted, obj: old, prev: ev.prev, rev: ev.rev}, true
		}
	}
	return ev, false
}

// streamError answers a watch that cannot start with a 200 stream holding
// one ERROR event.
func (r *resource[T]) streamError(w http.ResponseWriter, err error) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	data, _ := json.Marshal(watchEvent{Type: meta.Error, Object: statusOf(err)})
	_, _ = w.Write(append(data, '\n'))
	return nil
}

// watchStream writes the events of one watch.
type watchStream[T meta.Object] struct {
	w       http.ResponseWriter
	r       *resource[T]
	neg     negotiation
	req     *http.Request
	flusher http.Flusher
	events  interface{ Inc() }
	failed  bool
}

func newWatchStream[T meta.Object](w http.ResponseWriter, r *resource[T], neg negotiation, req *http.Request) *watchStream[T] {
	f, _ := w.(http.Flusher)
	return &watchStream[T]{w: w, r: r, neg: neg, req: req, flusher: f,
		events: r.s.metrics.watchEvents.WithLabelValues(r.t.Group, r.t.Version, r.t.Resource)}
}

func (s *watchStream[T]) start() {
	s.w.Header().Set("Content-Type", "application/json")
	s.w.Header().Set("Cache-Control", "no-cache, private")
	s.w.WriteHeader(http.StatusOK)
	s.flush()
}

func (s *watchStream[T]) flush() {
	if s.flusher != nil && !s.failed {
		s.flusher.Flush()
	}
}

func (s *watchStream[T]) write(ev watchEvent) bool {
	data, err := json.Marshal(ev)
	if err != nil {
		data, _ = json.Marshal(watchEvent{Type: meta.Error, Object: statusOf(meta.NewInternalError(err))})
	}
	if _, err := s.w.Write(append(data, '\n')); err != nil {
		s.failed = true
		return false
	}
	s.events.Inc()
	return true
}

// send writes one event in the negotiated form.
func (s *watchStream[T]) send(ev cacheEvent[T]) bool {
	if ev.typ == meta.Bookmark {
		return s.bookmark(ev.rev, nil)
	}
	var obj any = ev.obj
	switch s.neg.out {
	case outTable:
		obj = s.r.table([]T{ev.obj}, ev.obj.GetObjectMeta().ResourceVersion, "", s.neg, s.req)
	case outMetadata:
		obj = partialMetadata(ev.obj)
	}
	return s.write(watchEvent{Type: ev.typ, Object: obj})
}

func (s *watchStream[T]) bookmark(rev int64, annotations map[string]string) bool {
	return s.write(watchEvent{Type: meta.Bookmark, Object: bookmarkObject{
		Kind: s.r.t.Kind, APIVersion: s.r.t.APIVersion(),
		Metadata: bookmarkMeta{ResourceVersion: meta.FormatResourceVersion(rev), Annotations: annotations},
	}})
}
