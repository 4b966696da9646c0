package informer

import (
	"context"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/store/meta"
)

// FactoryOptions are the defaults a [Factory] gives its informers.
type FactoryOptions struct {
	Clock        clock.Clock
	Logger       *slog.Logger
	ResyncPeriod time.Duration
	Metrics      MetricsProvider
}

// Factory shares one [Informer] per (type, namespace, label selector,
// field selector) among many controllers, so that each collection is
// listed, watched and cached once per process.
//
// Get informers with [InformerFor], then call [Factory.Start]; an informer
// asked for after Start starts at once.
type Factory struct {
	opts FactoryOptions

	mu        sync.Mutex
	informers map[factoryKey]startable
	started   map[factoryKey]bool
	ctx       context.Context // set by Start
	wg        sync.WaitGroup
}

type factoryKey struct {
	typ                       reflect.Type
	namespace, labels, fields string
}

type startable interface {
	SyncNotifier
	Run(ctx context.Context) error
}

// NewFactory returns an empty Factory.
func NewFactory(opts FactoryOptions) *Factory {
	return &Factory{opts: opts, informers: make(map[factoryKey]startable), started: make(map[factoryKey]bool)}
}

// InformerFor returns the factory's informer of T for the selectors in
// opts.ListOptions, creating it over lw with opts on first use. Later calls
// with the same type and selectors return the same informer and ignore
// their lw and opts, so a factory should get one source per type. Zero
// Clock, Logger, ResyncPeriod and Metrics in opts take the factory's.
func InformerFor[T meta.Object](f *Factory, lw ListerWatcher[T], opts Options[T]) *Informer[T] {
	lo := opts.ListOptions
	key := factoryKey{typ: reflect.TypeFor[T](), namespace: lo.Namespace, labels: lo.LabelSelector, fields: lo.FieldSelector}
	f.mu.Lock()
	defer f.mu.Unlock()
	if inf, ok := f.informers[key]; ok {
		return inf.(*Informer[T])
	}
	if opts.Clock == nil {
		opts.Clock = f.opts.Clock
	}
	if opts.Logger == nil {
		opts.Logger = f.opts.Logger
	}
	if opts.ResyncPeriod == 0 {
		opts.ResyncPeriod = f.opts.ResyncPeriod
	}
	if opts.Metrics == nil {
		opts.Metrics = f.opts.Metrics
	}
	if opts.Name == "" {
		opts.Name = key.typ.String()
	}
	inf := New(lw, opts)
	f.informers[key] = inf
	if f.ctx != nil {
		f.startLocked(key, inf)
	}
	return inf
}

// Start runs every informer not yet running until ctx is done. Informers
// asked for later start at once.
func (f *Factory) Start(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctx = ctx
	for k, inf := range f.informers {
		f.startLocked(k, inf)
	}
}

func (f *Factory) startLocked(k factoryKey, inf startable) {
	if f.started[k] {
		return
	}
	f.started[k] = true
	ctx := f.ctx
	f.wg.Go(func() { _ = inf.Run(ctx) })
}

func (f *Factory) all() []startable {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]startable, 0, len(f.informers))
	for _, inf := range f.informers {
		out = append(out, inf)
	}
	return out
}

// HasSynced reports whether every informer of the factory has synced.
func (f *Factory) HasSynced() bool {
	for _, inf := range f.all() {
		if !inf.HasSynced() {
			return false
		}
	}
	return true
}

// WaitForCacheSync waits until every informer of the factory has synced,
// or ctx is done, and reports which.
func (f *Factory) WaitForCacheSync(ctx context.Context) bool {
	infs := f.all()
	s := make([]Synced, len(infs))
	for i, inf := range infs {
		s[i] = inf
	}
	return WaitForCacheSync(ctx, s...)
}

// Shutdown waits until every informer started by the factory has stopped.
// Cancel the context given to Start first.
func (f *Factory) Shutdown() { f.wg.Wait() }
