package reconcile

import (
	"fmt"
	"reflect"

	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
)

// sharedCaches holds the informers and clients a [Manager] made for
// [InformerFor] and [ClientFor]: one per object type.
type sharedCaches struct {
	byType map[reflect.Type]*sharedType
}

type sharedType struct {
	key    string // st.Key("ns", "name"), to tell two stores of one type apart
	inf    any    // *informer.Informer[T]
	client any    // *Client[T], made on first use
}

// InformerFor returns mgr's informer of the objects of st, creating it on
// first use and registering it as one of mgr's caches (named after the
// resource), so that mgr starts it and waits for it to sync before starting
// its controllers. Every call for the same type returns the same informer,
// the way controller-runtime's cache shares one informer per kind among
// controllers. The informer runs on mgr's clock and logger, and its metrics
// (reflector_*, informer_*) go to mgr's registry.
//
// It fails with an error matching [ErrAlreadyStarted] after mgr started,
// and with one matching [ErrInvalidOptions] when mgr already has an
// informer of T over a store whose keys differ from st's.
func InformerFor[T meta.Object](mgr *Manager, st *store.Store[T]) (*informer.Informer[T], error) {
	if mgr == nil || st == nil {
		return nil, fmt.Errorf("%w: InformerFor needs a manager and a store", ErrInvalidOptions)
	}
	mgr.mu.Lock()
	defer mgr.mu.Unlock()
	sh, err := sharedLocked(mgr, st)
	if err != nil {
		return nil, err
	}
	return sh.inf.(*informer.Informer[T]), nil
}

// ClientFor returns mgr's [Client] of the objects of st: it reads from the
// informer [InformerFor] shares and records its writes in
// [Manager.Freshness], so that the controllers of mgr read their own
// writes. Every call for the same type returns the same client. It fails
// as InformerFor does.
func ClientFor[T meta.Object](mgr *Manager, st *store.Store[T]) (*Client[T], error) {
	if mgr == nil || st == nil {
		return nil, fmt.Errorf("%w: ClientFor needs a manager and a store", ErrInvalidOptions)
	}
	mgr.mu.Lock()
	defer mgr.mu.Unlock()
	sh, err := sharedLocked(mgr, st)
	if err != nil {
		return nil, err
	}
	if sh.client == nil {
		c, err := NewClient(st, sh.inf.(*informer.Informer[T]), mgr.fresh)
		if err != nil {
			return nil, err
		}
		sh.client = c
	}
	return sh.client.(*Client[T]), nil
}

// sharedLocked returns the shared informer entry of T, making it on first
// use. m.mu is held.
func sharedLocked[T meta.Object](m *Manager, st *store.Store[T]) (*sharedType, error) {
	typ := reflect.TypeFor[T]()
	key := st.Key("ns", "name")
	if sh, ok := m.shared.byType[typ]; ok {
		if sh.key != key {
			return nil, fmt.Errorf("%w: the manager already has an informer of %s over another store (keys like %s, not %s)",
				ErrInvalidOptions, typ, sh.key, key)
		}
		return sh, nil
	}
	if m.started {
		return nil, fmt.Errorf("%w: informer of %s asked for after Start", ErrAlreadyStarted, typ)
	}
	if m.shared.byType == nil {
		m.shared.byType = map[reflect.Type]*sharedType{}
	}
	name := st.Resource().Name
	inf := informer.New[T](st, informer.Options[T]{Name: name, Clock: m.clk, Logger: m.log, Metrics: m.infMet,
		DetectMutations: m.opts.DetectCacheMutations, OnMutation: m.opts.OnCacheMutation})
	m.caches = append(m.caches, namedCache{name, inf})
	sh := &sharedType{key: key, inf: inf}
	m.shared.byType[typ] = sh
	return sh, nil
}

// Watch is one source of a controller made by [NewController]: [For],
// [Owns] or [Watches]. The object type comes from the store it is given.
type Watch interface {
	// check reports a watch that cannot work; owner is the resource that
	// For names, nil when there is none.
	check(name string, owner *ownerKind) error
	// apply adds the source to c, with mgr's shared informer.
	apply(c *Controller[Request], mgr *Manager, owner *ownerKind) error
	// owner returns the kind of the objects the controller reconciles, for
	// a For; nil for other watches.
	owner() *ownerKind
}

// ownerKind is the apiVersion and kind of a controller's own objects.
type ownerKind struct {
	apiVersion, kind, resource string
}

type watch[T meta.Object] struct {
	st    *store.Store[T]
	preds []Predicate[T]
	mode  int // forMode, ownsMode or mapMode
	m     Mapper[T, Request]
}

const (
	forMode = iota
	ownsMode
	mapMode
)

// For makes a controller reconcile the objects of st: every change of one
// enqueues its own [Request]. Its resource's apiVersion and kind are what
// [Owns] looks for in owner references. The predicates filter the events.
func For[T meta.Object](st *store.Store[T], preds ...Predicate[T]) Watch {
	return &watch[T]{st: st, preds: preds, mode: forMode}
}

// Owns makes a controller reconcile the owner of the objects of st that it
// controls: each change of one enqueues the [Request] of the owner named by
// its controller reference (controller=true) when that reference names the
// kind of the controller's [For] resource. The kind and apiVersion come
// from that resource, so they cannot be misspelt. The predicates filter
// the events.
func Owns[T meta.Object](st *store.Store[T], preds ...Predicate[T]) Watch {
	return &watch[T]{st: st, preds: preds, mode: ownsMode}
}

// Watches makes a controller reconcile the requests that m maps each
// changed object of st to, for relations other than ownership (every
// object that references a ConfigMap, say).
func Watches[T meta.Object](st *store.Store[T], m Mapper[T, Request], preds ...Predicate[T]) Watch {
	return &watch[T]{st: st, preds: preds, mode: mapMode, m: m}
}

func (w *watch[T]) owner() *ownerKind {
	if w.mode != forMode || w.st == nil {
		return nil
	}
	res := w.st.Resource()
	return &ownerKind{apiVersion: res.APIVersion, kind: res.Kind, resource: res.Name}
}

// check refuses a watch that would map nothing, before anything is made.
func (w *watch[T]) check(name string, owner *ownerKind) error {
	if w.st == nil {
		return fmt.Errorf("%w: controller %s: watch of %s needs a store", ErrInvalidOptions, name, reflect.TypeFor[T]())
	}
	switch w.mode {
	case forMode:
		if owner.kind == "" {
			// Owned objects' references name a kind: without one, Owns
			// would map nothing.
			return fmt.Errorf("%w: controller %s: For(%s): the resource has no Kind", ErrInvalidOptions, name, owner.resource)
		}
	case ownsMode:
		if owner == nil {
			return fmt.Errorf("%w: controller %s: Owns(%s) needs a For naming the owner", ErrInvalidOptions, name, w.st.Resource().Name)
		}
	case mapMode:
		if w.m == nil {
			return fmt.Errorf("%w: controller %s: Watches(%s) needs a mapper", ErrInvalidOptions, name, w.st.Resource().Name)
		}
	}
	return nil
}

func (w *watch[T]) apply(c *Controller[Request], mgr *Manager, owner *ownerKind) error {
	m := w.m
	switch w.mode {
	case forMode:
		m = OwnKey[T]()
	case ownsMode:
		m = ControllerOwner[T](owner.apiVersion, owner.kind)
	}
	inf, err := InformerFor(mgr, w.st)
	if err != nil {
		return err
	}
	return c.Watch(FromInformer(inf, m, InformerOptions[T]{Name: c.name, Predicates: w.preds, LowPriorityInitialList: true}))
}

// NewController returns a controller named name that calls r with the
// requests of its watches, and adds it to mgr: the builder that replaces
// creating informers, clients and a controller by hand. A ReplicaSet
// controller that owns Pods is
//
//	c, err := reconcile.NewController(mgr, "replicaset", r, reconcile.Options[reconcile.Request]{},
//		reconcile.For(sets), reconcile.Owns(pods))
//
// Each watch's informer is mgr's shared one ([InformerFor]), already
// registered as a cache. Options left zero take mgr's: its clock, logger,
// controller metrics, workqueue metrics ([Manager.QueueMetrics]) and
// [Manager.Freshness], so that reconcilers that write through [ClientFor]
// clients read their own writes. The initial list of each watch is
// enqueued at [PriorityLow]. opts.Name, when set, must equal name.
//
// It fails with an error matching [ErrInvalidOptions] for bad options, an
// [Owns] without a [For], more than one For, or a For whose resource has no
// Kind; and with one matching [ErrAlreadyStarted] after mgr started.
func NewController(mgr *Manager, name string, r Reconciler[Request], opts Options[Request], watches ...Watch) (*Controller[Request], error) {
	if mgr == nil {
		return nil, fmt.Errorf("%w: NewController needs a manager", ErrInvalidOptions)
	}
	if opts.Name != "" && opts.Name != name {
		return nil, fmt.Errorf("%w: controller named %q with Options.Name %q", ErrInvalidOptions, name, opts.Name)
	}
	opts.Name = name
	if opts.Metrics == nil {
		opts.Metrics = mgr.metrics
	}
	if opts.QueueMetrics == nil {
		opts.QueueMetrics = mgr.queueMet
	}
	if opts.Freshness == nil {
		opts.Freshness = mgr.fresh
	}
	if opts.Logger == nil {
		opts.Logger = mgr.log
	}
	var owner *ownerKind
	for _, w := range watches {
		if w == nil {
			return nil, fmt.Errorf("%w: controller %s: nil watch", ErrInvalidOptions, name)
		}
		if o := w.owner(); o != nil {
			if owner != nil {
				return nil, fmt.Errorf("%w: controller %s: two For watches (%s and %s)", ErrInvalidOptions, name, owner.resource, o.resource)
			}
			owner = o
		}
	}
	for _, w := range watches {
		if err := w.check(name, owner); err != nil {
			return nil, err
		}
	}
	c, err := New(r, opts)
	if err != nil {
		return nil, err
	}
	for _, w := range watches {
		if err := w.apply(c, mgr, owner); err != nil {
			return nil, err
		}
	}
	if err := mgr.Add(c); err != nil {
		return nil, err
	}
	return c, nil
}
