package reconcile

import (
	"context"

	"github.com/governor-io/governor/store/meta"
)

// Request names the object a reconcile is about: "namespace/name", or just
// "name" for a cluster-scoped object. It is the request type of most
// controllers; a controller may use any comparable type instead.
type Request = meta.NamespacedName

// Reconciler drives the world toward the desired state of one request. It
// is level-triggered: it reads the current state (from an informer's cache),
// acts, and returns. It is never called twice at once for the same request,
// but it is called concurrently for different requests when the controller
// has more than one worker.
//
// A nil error with [Done] ends the work until the next event. A non-nil error
// retries the request with backoff, unless it is a [TerminalError]. The
// context is cancelled when the per-reconcile timeout passes or the
// controller gives up draining at shutdown.
type Reconciler[Req comparable] interface {
	Reconcile(ctx context.Context, req Req) (Result, error)
}

// Func adapts a function to a [Reconciler].
type Func[Req comparable] func(ctx context.Context, req Req) (Result, error)

// Reconcile calls f(ctx, req).
func (f Func[Req]) Reconcile(ctx context.Context, req Req) (Result, error) { return f(ctx, req) }

// RequestOf returns the [Request] of obj: its namespace and name.
func RequestOf[T meta.Object](obj T) Request { return meta.NameOf(obj) }
