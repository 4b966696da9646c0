package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/governor-io/governor/store/meta"
)

// wireEvent is one line of a watch stream.
type wireEvent struct {
	Type   meta.EventType  `json:"type"`
	Object json.RawMessage `json:"object"`
}

// Watch opens a watch on the objects opts select and returns its events,
// as [github.com/governor-io/governor/store.Store.Watch] does:
// ResourceVersion "" (or "0") starts with an ADDED event for each current object, "N" sends every change after N.
// AllowWatchBookmarks asks for BOOKMARK events; SendInitialEvents asks
// for the current state as ADDED events ended by a bookmark annotated
// [meta.InitialEventsEndAnnotation] (sent with
// resourceVersionMatch=NotOlderThan, as Kubernetes requires).
//
// The channel closes when ctx is done, when the server ends the watch (its
// timeout, a restart, a dropped connection: watch again from the last
// resourceVersion seen), or after an ERROR event, whose Err is the
// [*meta.StatusError] the server sent: Expired (410) when the
// resourceVersion is too old, so errors.Is(ev.Err, meta.ErrExpired) tells
// the caller to list again. A ctx deadline is passed on to the server as
// timeoutSeconds. Opening the watch is retried like any GET; a failure to
// open it is returned as an error.
func (r *Resource[T]) Watch(ctx context.Context, opts meta.ListOptions) (<-chan meta.WatchEvent[T], error) {
	p, err := r.path(opts.Namespace, "", "", false)
	if err != nil {
		return nil, r.fail("watch", "", "", err)
	}
	q := listQuery(meta.ListOptions{LabelSelector: opts.LabelSelector, FieldSelector: opts.FieldSelector, ResourceVersion: opts.ResourceVersion})
	q.Set("watch", "true")
	if opts.AllowWatchBookmarks {
		q.Set("allowWatchBookmarks", "true")
	}
	if opts.SendInitialEvents {
		q.Set("sendInitialEvents", "true")
		q.Set("resourceVersionMatch", "NotOlderThan")
	}
	if dl, ok := ctx.Deadline(); ok {
		q.Set("timeoutSeconds", strconv.FormatInt(max(int64(time.Until(dl)/time.Second), 1), 10))
	}
	resp, err := r.c.stream(ctx, &request{method: http.MethodGet, path: p, query: q, idempotent: true})
	if err != nil {
		return nil, r.fail("watch", "", "", err)
	}
	ch := make(chan meta.WatchEvent[T])
	go r.decodeWatch(ctx, resp.Body, ch)
	return ch, nil
}

// decodeWatch sends the events of body on ch until the stream ends, an
// ERROR event has been sent, or ctx is done; then it closes body and ch.
func (r *Resource[T]) decodeWatch(ctx context.Context, body io.ReadCloser, ch chan<- meta.WatchEvent[T]) {
	defer close(ch)
	defer body.Close()
	dec := json.NewDecoder(body)
	for {
		var we wireEvent
		if err := dec.Decode(&we); err != nil {
			if ctx.Err() != nil || !isSyntaxError(err) {
				return // the stream ended (or broke): the caller watches again
			}
			r.send(ctx, ch, r.watchError(fmt.Errorf("decode watch event: %w", err)))
			return
		}
		ev := meta.WatchEvent[T]{Type: we.Type}
		switch we.Type {
		case meta.Added, meta.Modified, meta.Deleted, meta.Bookmark:
			obj, err := r.decode(we.Object)
			if err != nil {
				r.send(ctx, ch, r.watchError(err))
				return
			}
			ev.Object = obj
		case meta.Error:
			ev.Err = r.fail("watch", "", "", eventStatus(we.Object))
		default:
			ev = r.watchError(fmt.Errorf("unknown watch event type %q", we.Type))
		}
		if !r.send(ctx, ch, ev) || ev.Type == meta.Error {
			return
		}
	}
}

func (r *Resource[T]) send(ctx context.Context, ch chan<- meta.WatchEvent[T], ev meta.WatchEvent[T]) bool {
	select {
	case ch <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

func (r *Resource[T]) watchError(err error) meta.WatchEvent[T] {
	var se *meta.StatusError
	if !errors.As(err, &se) {
		err = meta.NewInternalError(err)
	}
	return meta.WatchEvent[T]{Type: meta.Error, Err: r.fail("watch", "", "", err)}
}

// eventStatus turns the object of an ERROR event into the error its
// Status names.
func eventStatus(raw json.RawMessage) error {
	var st meta.Status
	if err := json.Unmarshal(raw, &st); err != nil || st.Kind != "Status" {
		return meta.NewInternalError(fmt.Errorf("watch ERROR event without a Status: %.200s", raw))
	}
	st.Status = meta.StatusFailure // an ERROR is never a success
	return meta.FromStatus(st)
}

// isSyntaxError tells a body that is not a stream of JSON events from one
// that ended or broke (EOF, a reset connection, a cancelled request).
func isSyntaxError(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &te)
}
