package etcdkv

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/store/kv"
)

// streamMetadataKey is the gRPC metadata key that gives each watch its own
// etcd watch stream. The etcd client multiplexes watches whose contexts
// carry the same metadata onto one stream, and etcd answers a progress
// request on a stream only when every watch on it is caught up and none
// starts in the future; one stream per watch keeps one watch from holding
// back another's progress notifications.
const streamMetadataKey = "governor-etcdkv-watch"

// Retry timing of a watch. A progress request that etcd dropped (it drops
// them while the watch is still catching up) is sent again, and a watch
// that etcd cancelled is opened again, with a doubling delay.
const (
	progressRetryMin  = 50 * time.Millisecond
	progressRetryMax  = time.Second
	reopenMin         = 50 * time.Millisecond
	reopenMax         = 5 * time.Second
	maxReopenAttempts = 8
)

// Watch implements [kv.KV].
//
// Each response's Revision is the ModRevision of its last event (etcd's
// own header may run ahead of what was delivered while a watch catches
// up), or, on a progress notification, the revision that etcd vouches
// for. Deletes always carry PrevKV, as the contract requires; puts carry
// it only when req.PrevKV is set.
//
// The watch survives what etcd's client survives (a lost connection, a
// restarted or replaced member): the client reopens it from the revision
// after the last one delivered. If etcd cancels it for another reason, the
// adapter reopens it from there too, a few times, before ending it with
// the reason. If the history it needs has been compacted meanwhile, the
// watch ends with a [kv.CompactedError]. Either way it never skips a
// revision.
//
// Watch returns a [kv.CompactedError] at once when 0 < req.StartRevision
// <= the compaction revision. (etcd would still serve a watch that starts
// at the compaction revision itself; a read at StartRevision-1 is what
// tells the two apart. With StartRevision 1 and a compaction revision of
// exactly 1 the watch is served, which loses nothing: revision 1 of an
// etcd cluster holds no change.)
func (k *KV) Watch(ctx context.Context, req kv.WatchRequest) (<-chan kv.WatchResponse, error) {
	if err := k.checkOpen(); err != nil {
		return nil, err
	}
	if err := checkRange(req.Key, req.End, 0); err != nil {
		return nil, fmt.Errorf("etcdkv: watch %q: %w", req.Key, err)
	}
	if req.StartRevision < 0 {
		return nil, fmt.Errorf("etcdkv: watch %q from revision %d: %w", req.Key, req.StartRevision, kv.ErrInvalidRequest)
	}
	next := req.StartRevision
	switch {
	case next == 0:
		// Pin "from now on" to a revision, so that a reconnect before the
		// first event cannot skip one.
		resp, err := k.client.Get(ctx, k.probeKey(), clientv3.WithCountOnly())
		if err != nil {
			return nil, fmt.Errorf("etcdkv: watch %q: %w", req.Key, k.mapErr(ctx, err, 0))
		}
		next = resp.Header.Revision + 1
	case next > 1:
		_, err := k.client.Get(ctx, k.probeKey(), clientv3.WithRev(next-1), clientv3.WithCountOnly())
		if err != nil && !errors.Is(err, rpctypes.ErrFutureRev) {
			return nil, fmt.Errorf("etcdkv: watch %q from revision %d: %w", req.Key, req.StartRevision, k.mapErr(ctx, err, next))
		}
	}
	key, end := k.span(req.Key, req.End)
	wctx, cancel := context.WithCancel(ctx)
	w := &watcher{
		k:        k,
		req:      req,
		key:      key,
		end:      end,
		next:     next,
		out:      make(chan kv.WatchResponse),
		userCtx:  ctx,
		cancel:   cancel,
		progress: make(chan struct{}, 1),
		id:       k.watchID(),
	}
	k.mu.Lock()
	if k.isClosed.Load() {
		k.mu.Unlock()
		cancel()
		return nil, fmt.Errorf("etcdkv: %w", kv.ErrClosed)
	}
	k.watchers[w] = struct{}{}
	k.mu.Unlock()
	go w.run(wctx)
	return w.out, nil
}

// RequestProgress implements [kv.KV]. It reads the current revision R and
// has every watch opened with ProgressNotify send a progress notification
// once it has delivered every change up to R, asking etcd on its own
// stream until etcd confirms.
func (k *KV) RequestProgress(ctx context.Context) error {
	if err := k.checkOpen(); err != nil {
		return err
	}
	resp, err := k.client.Get(ctx, k.probeKey(), clientv3.WithCountOnly())
	if err != nil {
		return fmt.Errorf("etcdkv: request progress: %w", k.mapErr(ctx, err, 0))
	}
	rev := resp.Header.Revision
	k.mu.Lock()
	defer k.mu.Unlock()
	for w := range k.watchers {
		if w.req.ProgressNotify {
			w.requestProgress(rev)
		}
	}
	return nil
}

// closeWatchers ends every open watch; each sends ErrClosed.
func (k *KV) closeWatchers() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for w := range k.watchers {
		w.cancel()
	}
}

// watcher is one Watch call: a goroutine that relays an etcd watch,
// reopening it when needed, and answers progress requests.
type watcher struct {
	k        *KV
	req      kv.WatchRequest
	key, end string
	id       string
	out      chan kv.WatchResponse
	userCtx  context.Context
	cancel   context.CancelFunc

	// next is the first revision not yet delivered. Only run touches it.
	next int64

	mu              sync.Mutex
	pendingProgress int64 // highest revision a progress request waits for
	progress        chan struct{}
}

func (w *watcher) requestProgress(rev int64) {
	w.mu.Lock()
	w.pendingProgress = max(w.pendingProgress, rev)
	w.mu.Unlock()
	select {
	case w.progress <- struct{}{}:
	default:
	}
}

func (w *watcher) pending() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pendingProgress
}

// clearPending drops the pending progress request if rev satisfies it.
func (w *watcher) clearPending(rev int64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pendingProgress > 0 && w.pendingProgress <= rev {
		w.pendingProgress = 0
		return true
	}
	return false
}

// errReopen asks run to open the etcd watch again from w.next.
var errReopen = errors.New("reopen")

func (w *watcher) run(ctx context.Context) {
	defer func() {
		w.k.mu.Lock()
		delete(w.k.watchers, w)
		w.k.mu.Unlock()
		w.cancel()
		close(w.out)
	}()
	attempts := 0
	for {
		if ctx.Err() != nil {
			if w.userCtx.Err() == nil && w.k.isClosed.Load() {
				w.finish(kv.ErrClosed)
			}
			return
		}
		lastNext := w.next
		err := w.serveOnce(ctx)
		if w.next > lastNext {
			attempts = 0
		}
		if errors.Is(err, errTerminal) {
			return
		}
		if err == nil || ctx.Err() != nil {
			continue // the check above ends the watch
		}
		if perr := w.permanentError(ctx); perr != nil {
			w.finish(fmt.Errorf("etcdkv: watch %q from revision %d: %w", w.req.Key, w.next, perr))
			return
		}
		if attempts >= maxReopenAttempts {
			w.finish(fmt.Errorf("etcdkv: watch %q from revision %d: %w: %w", w.req.Key, w.next, errWatchCancelled, err))
			return
		}
		w.k.log.Warn("etcdkv: etcd ended the watch; reopening", "key", w.req.Key, "revision", w.next, "error", err)
		sleep(ctx, w.k.clock, backoff(reopenMin, reopenMax, attempts))
		attempts++
	}
}

// permanentError reads the watched range to learn whether etcd ended the
// watch for a reason that reopening cannot fix (etcd cancels the creation
// of a watch the user may no longer read without saying why). It returns
// nil when a reopen may work.
func (w *watcher) permanentError(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, compactLookupTimeout)
	defer cancel()
	opts := []clientv3.OpOption{clientv3.WithCountOnly()}
	if w.end != "" {
		opts = append(opts, clientv3.WithRange(w.end))
	}
	_, err := w.k.client.Get(ctx, w.key, opts...)
	if errors.Is(err, rpctypes.ErrPermissionDenied) || errors.Is(err, rpctypes.ErrAuthFailed) {
		return err
	}
	return nil
}

// finish sends the terminal response; the caller then closes the channel.
func (w *watcher) finish(err error) {
	var ce *kv.CompactedError
	if errors.As(err, &ce) || errors.Is(err, kv.ErrClosed) {
		err = fmt.Errorf("etcdkv: watch %q: %w", w.req.Key, err)
	}
	select {
	case w.out <- kv.WatchResponse{Err: err, Revision: w.next - 1}:
	case <-w.userCtx.Done():
	}
}

// errTerminal reports that serveOnce sent the watch's terminal response.
var errTerminal = errors.New("terminal response sent")

// serveOnce opens one etcd watch from w.next and relays it until it ends.
// It returns errReopen or another error to have the watch reopened, or
// nil when ctx is done or a terminal response has been sent.
func (w *watcher) serveOnce(ctx context.Context) error {
	sctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(ctx, streamMetadataKey, w.id))
	defer cancel()
	opts := []clientv3.OpOption{clientv3.WithRev(w.next), clientv3.WithPrevKV()}
	if w.end != "" {
		opts = append(opts, clientv3.WithRange(w.end))
	}
	if w.req.ProgressNotify {
		opts = append(opts, clientv3.WithProgressNotify())
	}
	wch := w.k.client.Watch(sctx, w.key, opts...)

	var retry clock.Timer
	var retryC <-chan time.Time
	retries := 0
	defer func() {
		if retry != nil {
			retry.Stop()
		}
	}()
	// askEtcd sends a progress request on this watch's stream and arms a
	// timer to send it again: etcd drops the request while the watch is
	// catching up.
	askEtcd := func() {
		if err := w.k.client.RequestProgress(sctx); err != nil && ctx.Err() == nil {
			w.k.log.Debug("etcdkv: progress request failed", "key", w.req.Key, "error", err)
		}
		d := backoff(progressRetryMin, progressRetryMax, retries)
		retries++
		if retry == nil {
			retry = w.k.clock.NewTimer(d)
		} else {
			retry.Reset(d)
		}
		retryC = retry.C()
	}
	// progressDone answers a satisfied progress request.
	progressDone := func(rev int64) bool {
		if !w.clearPending(rev) {
			return true
		}
		retryC, retries = nil, 0
		return w.send(ctx, kv.WatchResponse{Revision: rev, ProgressNotify: true})
	}

	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.progress:
			target := w.pending()
			if target == 0 {
				continue
			}
			if w.next-1 >= target {
				if !progressDone(w.next - 1) {
					return nil
				}
				continue
			}
			retries = 0
			askEtcd()
		case <-retryC:
			if w.pending() > 0 {
				askEtcd()
			} else {
				retryC = nil
			}
		case resp, ok := <-wch:
			if !ok {
				return errReopen
			}
			if resp.CompactRevision != 0 {
				w.finish(&kv.CompactedError{CompactRevision: resp.CompactRevision})
				return errTerminal
			}
			if resp.Canceled || resp.Err() != nil {
				return cancelError(resp)
			}
			if len(resp.Events) > 0 {
				evs, err := w.events(resp.Events)
				if err != nil {
					w.finish(err)
					return errTerminal
				}
				if len(evs) == 0 {
					continue
				}
				last := evs[len(evs)-1].KV.ModRevision
				if !w.send(ctx, kv.WatchResponse{Events: evs, Revision: last}) {
					return nil
				}
				w.next = last + 1
				if !progressDone(last) {
					return nil
				}
				continue
			}
			if resp.IsProgressNotify() {
				rev := max(resp.Header.Revision, w.next-1)
				w.next = rev + 1
				if w.clearPending(rev) {
					retryC, retries = nil, 0
				} else if !w.req.ProgressNotify {
					continue
				}
				if !w.send(ctx, kv.WatchResponse{Revision: rev, ProgressNotify: true}) {
					return nil
				}
			}
		}
	}
}

// send delivers resp unless ctx ends first.
func (w *watcher) send(ctx context.Context, resp kv.WatchResponse) bool {
	select {
	case w.out <- resp:
		return true
	case <-ctx.Done():
		return false
	}
}

// events converts etcd events. A delete whose previous value etcd could
// not read (a compaction raced the delivery) would silently lose data, so
// it ends the watch as compacted instead.
func (w *watcher) events(in []*mvccpb.Event) ([]kv.Event, error) {
	out := make([]kv.Event, 0, len(in))
	for _, e := range in {
		if e.Kv.ModRevision < w.next {
			continue // already delivered before a reopen
		}
		ev := kv.Event{KV: w.k.fromKV(e.Kv)}
		missingPrev := false
		switch e.Type {
		case mvccpb.DELETE:
			ev.Type = kv.EventDelete
			missingPrev = e.PrevKv == nil
		default:
			ev.Type = kv.EventPut
			missingPrev = w.req.PrevKV && e.Kv.Version > 1 && e.PrevKv == nil
		}
		if missingPrev {
			rev := w.k.compactRevision(w.userCtx, e.Kv.ModRevision)
			return nil, &kv.CompactedError{CompactRevision: rev}
		}
		if e.PrevKv != nil && (ev.Type == kv.EventDelete || w.req.PrevKV) {
			p := w.k.fromKV(e.PrevKv)
			ev.PrevKV = &p
		}
		out = append(out, ev)
	}
	return out, nil
}

// backoff returns min doubled n times, capped at limit.
func backoff(minD, limit time.Duration, n int) time.Duration {
	d := minD
	for i := 0; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// sleep waits d on c, or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, c clock.Clock, d time.Duration) bool {
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
		return false
	}
}
