package gc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store/event"
	"github.com/governor-io/governor/store/meta"
)

// DefaultName is the controller name of a collector whose Options name
// none: the "controller" label of its metrics and logs.
const DefaultName = "garbage-collector"

// DefaultWorkers is the number of objects a collector works on at once
// when its Options say nothing, kube-controller-manager's
// --concurrent-gc-syncs default.
const DefaultWorkers = 20

// EventComponent is the source component of the Events the collector
// records, as in Kubernetes.
const EventComponent = "garbage-collector-controller"

// Request names one object the collector looks at: its resource (as
// [Info.String] writes it), namespace, name and uid.
type Request struct {
	Resource  string
	Namespace string
	Name      string
	UID       string
}

// String describes the request for logs: "replicasets.apps default/web
// (uid ...)".
func (r Request) String() string {
	name := r.Name
	if r.Namespace != "" {
		name = r.Namespace + "/" + r.Name
	}
	return r.Resource + " " + name + " (uid " + r.UID + ")"
}

func compareRequests(a, b Request) int {
	return cmp.Or(cmp.Compare(a.Resource, b.Resource), cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.Name, b.Name), cmp.Compare(a.UID, b.UID))
}

// Options configure a collector. The zero value is usable.
type Options struct {
	// Name names the controller in logs and metrics. "" means
	// [DefaultName].
	Name string
	// Workers is the number of objects worked on at once. Zero means
	// [DefaultWorkers].
	Workers int
	// Logger, when set, replaces the manager's logger.
	Logger *slog.Logger
}

// New returns the garbage collector of the objects of resources: a
// [reconcile.Controller] that it adds to mgr, which runs it, on the leader
// only, with the manager's clock, logger and metrics
// (controller_runtime_* and workqueue_* with the controller's name).
//
// Resources made by [ForStore] share mgr's informers of their types; for
// each other Resource, New adds an informer over its ListerWatcher to mgr's
// caches. Every kind that an ownerReference may name must be among
// resources: a reference to a kind the collector does not know never makes
// its object garbage. New fails with an error matching
// [reconcile.ErrInvalidOptions] for a Resource without a name, kind or
// apiVersion, or two Resources of the same name or kind; and with the
// errors of mgr's Add and AddCache.
func New(mgr *reconcile.Manager, opts Options, resources ...Resource) (*reconcile.Controller[Request], error) {
	if mgr == nil {
		return nil, fmt.Errorf("%w: gc.New needs a manager", reconcile.ErrInvalidOptions)
	}
	if opts.Name == "" {
		opts.Name = DefaultName
	}
	if opts.Workers == 0 {
		opts.Workers = DefaultWorkers
	}
	infos := make([]Info, len(resources))
	byName := map[string]int{}
	byKind := map[groupKind]int{}
	for i, r := range resources {
		if r == nil {
			return nil, fmt.Errorf("%w: gc: nil Resource", reconcile.ErrInvalidOptions)
		}
		info := r.Info()
		if info.Resource == "" || info.Kind == "" || info.APIVersion == "" {
			return nil, fmt.Errorf("%w: gc: resource %q needs a name, a kind and an apiVersion (got %+v)",
				reconcile.ErrInvalidOptions, info.String(), info)
		}
		if _, dup := byName[info.String()]; dup {
			return nil, fmt.Errorf("%w: gc: resource %s given twice", reconcile.ErrInvalidOptions, info)
		}
		if j, dup := byKind[info.groupKind()]; dup {
			return nil, fmt.Errorf("%w: gc: resources %s and %s are both of kind %s", reconcile.ErrInvalidOptions, infos[j], info, info.Kind)
		}
		infos[i], byName[info.String()], byKind[info.groupKind()] = info, i, i
	}
	c := &collector{res: resources, info: infos, byName: byName, byKind: byKind, g: newGraph(infos),
		events: mgr.EventRecorder(EventComponent)}
	ctrl, err := reconcile.New[Request](c, reconcile.Options[Request]{
		Name: opts.Name, Workers: opts.Workers, Logger: opts.Logger, QueueMetrics: mgr.QueueMetrics(),
	})
	if err != nil {
		return nil, err
	}
	c.ctrl = ctrl
	for i, r := range resources {
		var src reconcile.Source[Request]
		if sr, ok := r.(interface {
			source(*reconcile.Manager, *graph, int) (reconcile.Source[Request], error)
		}); ok {
			if src, err = sr.source(mgr, c.g, i); err != nil {
				return nil, err
			}
		} else {
			inf := informer.New(r.ListerWatcher(), informer.Options[*meta.PartialObjectMetadata]{
				Name: infos[i].String(), Clock: mgr.Clock(), Logger: mgr.Logger(), Metrics: mgr.InformerMetrics()})
			if err := mgr.AddCache("gc/"+infos[i].String(), inf); err != nil {
				return nil, err
			}
			src = newSource(inf, c.g, i)
		}
		if err := ctrl.Watch(src); err != nil {
			return nil, err
		}
	}
	if err := mgr.Add(ctrl); err != nil {
		return nil, err
	}
	return ctrl, nil
}

// collector is the reconciler: it acts on one object at a time, the graph
// telling it where to look and live reads deciding what to do.
type collector struct {
	res    []Resource
	info   []Info
	byName map[string]int
	byKind map[groupKind]int
	g      *graph
	ctrl   *reconcile.Controller[Request]
	events *event.Recorder
}

// errChanged says that an object changed between the read a decision was
// made on and the delete that carried it out.
var errChanged = errors.New("gc: the object changed since it was read")

// decideAttempts bounds the decisions one reconcile makes again because
// the object changed under them; then it retries with backoff.
const decideAttempts = 4

// Reconcile looks at one object, first as an owner being deleted with a
// propagation finalizer, then as a dependent that may be garbage.
func (c *collector) Reconcile(ctx context.Context, req Request) (reconcile.Result, error) {
	ri, ok := c.byName[req.Resource]
	if !ok || !c.g.observed(req.UID) {
		return reconcile.Done(), nil // gone since it was enqueued
	}
	for attempt := 1; ; attempt++ {
		err := c.decide(ctx, ri, req)
		if errors.Is(err, errChanged) && attempt < decideAttempts {
			continue
		}
		return reconcile.Done(), err
	}
}

// decide reads the object of req and does what it calls for.
func (c *collector) decide(ctx context.Context, ri int, req Request) error {
	live, err := c.res[ri].Get(ctx, req.Namespace, req.Name)
	if errors.Is(err, meta.ErrNotFound) {
		return nil // its deletion event is on its way
	}
	if err != nil {
		return fmt.Errorf("gc: read %s: %w", req, err)
	}
	if live.UID != req.UID {
		return nil // replaced by a namesake
	}
	if live.DeletionTimestamp != nil {
		switch {
		case slices.Contains(live.Finalizers, meta.FinalizerOrphanDependents):
			return c.orphanDependents(ctx, ri, req)
		case slices.Contains(live.Finalizers, meta.FinalizerDeleteDependents):
			return c.deleteDependents(ctx, ri, req)
		}
		return nil // going, on its own finalizers
	}
	return c.collectIfGarbage(ctx, ri, req, live)
}

// orphanDependents carries out an Orphan delete of req: it removes the
// references to req from its dependents, then its orphan finalizer.
func (c *collector) orphanDependents(ctx context.Context, ri int, req Request) error {
	log := reconcile.LoggerFrom(ctx)
	for _, d := range c.g.dependentsOf(req.UID) {
		err := c.res[d.res].UpdateMetadata(ctx, d.req.Namespace, d.req.Name, d.req.UID, func(m *meta.ObjectMeta) bool {
			return removeRefs(m, func(r meta.OwnerReference) bool { return r.UID == req.UID })
		})
		if err != nil && !errors.Is(err, meta.ErrNotFound) {
			return fmt.Errorf("gc: orphan %s: remove its reference to %s: %w", d.req, req, err)
		}
		log.Debug("orphaned dependent", "dependent", d.req)
	}
	return c.removeFinalizer(ctx, ri, req, meta.FinalizerOrphanDependents)
}

// deleteDependents carries out a Foreground delete of req: once no
// dependent that blocks its owner's deletion is left, it removes req's
// foregroundDeletion finalizer. Until then it (re)enqueues the blocking
// dependents that are not being deleted yet, which are garbage as long as
// req waits for them; those being deleted bring req back when they go.
func (c *collector) deleteDependents(ctx context.Context, ri int, req Request) error {
	blocking := 0
	for _, d := range c.g.dependentsOf(req.UID) {
		if !d.blocking {
			continue
		}
		blocking++
		if !d.deleting {
			c.ctrl.Enqueue(d.req)
		}
	}
	if blocking > 0 {
		reconcile.LoggerFrom(ctx).Debug("waiting for blocking dependents to go", "blocking", blocking)
		return nil
	}
	return c.removeFinalizer(ctx, ri, req, meta.FinalizerDeleteDependents)
}

func (c *collector) removeFinalizer(ctx context.Context, ri int, req Request, finalizer string) error {
	err := c.res[ri].UpdateMetadata(ctx, req.Namespace, req.Name, req.UID, func(m *meta.ObjectMeta) bool {
		n := len(m.Finalizers)
		m.Finalizers = slices.DeleteFunc(slices.Clone(m.Finalizers), func(f string) bool { return f == finalizer })
		if len(m.Finalizers) == 0 {
			m.Finalizers = nil
		}
		return len(m.Finalizers) != n
	})
	if err != nil && !errors.Is(err, meta.ErrNotFound) {
		return fmt.Errorf("gc: remove finalizer %s of %s: %w", finalizer, req, err)
	}
	reconcile.LoggerFrom(ctx).Debug("removed finalizer", "finalizer", finalizer)
	return nil
}

// ownerState is what an owner reference of a live object names.
type ownerState uint8

const (
	// solid: the owner exists and is not deleting its dependents, or the
	// reference cannot be resolved (an unknown kind, a namespaced kind
	// named by a cluster-scoped object), which never makes an object
	// garbage.
	solid ownerState = iota
	// dangling: no object with the reference's uid exists where the
	// reference points.
	dangling
	// waiting: the owner is being deleted in the foreground, waiting for
	// its dependents to go.
	waiting
)

// collectIfGarbage deletes the live object of req if it is garbage: none
// of its owners exists any more, or those that do wait for it to go.
// References to owners that are gone, or waiting, are removed from an
// object that keeps another owner.
func (c *collector) collectIfGarbage(ctx context.Context, ri int, req Request, live *meta.PartialObjectMetadata) error {
	if len(live.OwnerReferences) == 0 {
		return nil
	}
	var nSolid int
	var gone, wait []string // uids
	for _, ref := range live.OwnerReferences {
		st, err := c.resolve(ctx, live, ref)
		if err != nil {
			return err
		}
		switch st {
		case solid:
			nSolid++
		case dangling:
			gone = append(gone, ref.UID)
		case waiting:
			wait = append(wait, ref.UID)
		}
	}
	log := reconcile.LoggerFrom(ctx)
	switch {
	case nSolid > 0:
		if len(gone)+len(wait) == 0 {
			return nil
		}
		// Another owner keeps the object: only the references to owners
		// that are gone or going go.
		drop := append(gone, wait...)
		err := c.res[ri].UpdateMetadata(ctx, req.Namespace, req.Name, req.UID, func(m *meta.ObjectMeta) bool {
			return removeRefs(m, func(r meta.OwnerReference) bool { return slices.Contains(drop, r.UID) })
		})
		if err != nil && !errors.Is(err, meta.ErrNotFound) {
			return fmt.Errorf("gc: remove references to deleted owners from %s: %w", req, err)
		}
		log.Debug("removed references to owners that are gone", "owners", drop)
		return nil
	case len(wait) > 0:
		has, deleting := c.g.hasDependents(req.UID)
		if has {
			// The object has dependents of its own: delete it in the
			// foreground too, so that its owner waits for the whole
			// chain. If one of its dependents is itself waiting (a cycle
			// of foreground deletions could wait forever), first stop it
			// blocking its waiting owners.
			if deleting {
				err := c.res[ri].UpdateMetadata(ctx, req.Namespace, req.Name, req.UID, func(m *meta.ObjectMeta) bool {
					changed := false
					m.OwnerReferences = slices.Clone(m.OwnerReferences) // never the old, maybe shared, array
					for i := range m.OwnerReferences {
						if r := &m.OwnerReferences[i]; slices.Contains(wait, r.UID) && isTrue(r.BlockOwnerDeletion) {
							no := false
							r.BlockOwnerDeletion, changed = &no, true
						}
					}
					return changed
				})
				if err != nil && !errors.Is(err, meta.ErrNotFound) {
					return fmt.Errorf("gc: unblock the owners of %s: %w", req, err)
				}
			}
			return c.delete(ctx, ri, req, live.ResourceVersion, meta.DeletePropagationForeground)
		}
		return c.delete(ctx, ri, req, live.ResourceVersion, policyOf(live))
	default:
		return c.delete(ctx, ri, req, live.ResourceVersion, policyOf(live))
	}
}

// policyOf returns the propagation of a garbage object's own deletion: the
// one a finalizer already asks for, else Background.
func policyOf(m *meta.PartialObjectMetadata) meta.DeletionPropagation {
	switch {
	case slices.Contains(m.Finalizers, meta.FinalizerOrphanDependents):
		return meta.DeletePropagationOrphan
	case slices.Contains(m.Finalizers, meta.FinalizerDeleteDependents):
		return meta.DeletePropagationForeground
	}
	return meta.DeletePropagationBackground
}

// delete deletes the object of req as it was read, at resourceVersion rv:
// the uid precondition keeps a namesake created since safe, and the
// resourceVersion one an object that changed since (adopted by a new
// owner, say), for which it returns errChanged.
func (c *collector) delete(ctx context.Context, ri int, req Request, rv string, policy meta.DeletionPropagation) error {
	uid := req.UID
	err := c.res[ri].Delete(ctx, req.Namespace, req.Name, meta.DeleteOptions{
		Preconditions: &meta.Preconditions{UID: &uid, ResourceVersion: &rv}, PropagationPolicy: policy})
	switch {
	case errors.Is(err, meta.ErrNotFound):
		return nil // gone already
	case errors.Is(err, meta.ErrConflict):
		return fmt.Errorf("%w: delete %s: %w", errChanged, req, err)
	case err != nil:
		return fmt.Errorf("gc: delete %s: %w", req, err)
	}
	reconcile.LoggerFrom(ctx).Debug("deleted garbage", "propagation", string(policy))
	return nil
}

// resolve says what ref, an owner reference of the live object dep,
// names. A reference resolves where Kubernetes resolves it: to the kind's
// resource, in dep's namespace for a namespaced kind. The graph answers
// "solid" for an owner it has seen and that is not waiting; every other
// answer comes from a live read.
func (c *collector) resolve(ctx context.Context, dep *meta.PartialObjectMetadata, ref meta.OwnerReference) (ownerState, error) {
	log := reconcile.LoggerFrom(ctx)
	ri, ok := c.byKind[refGroupKind(ref)]
	if !ok {
		log.Warn("owner reference to a kind the collector does not know; the object is kept",
			"ownerAPIVersion", ref.APIVersion, "ownerKind", ref.Kind, "owner", ref.Name)
		return solid, nil
	}
	info := c.info[ri]
	ns := ""
	if info.Namespaced {
		if dep.Namespace == "" {
			c.invalidNamespace(ctx, dep, ref, fmt.Sprintf(
				"ownerRef [%s, %s %s, uid %s] names a namespaced kind, which a cluster-scoped object cannot have as owner",
				ref.APIVersion, ref.Kind, ref.Name, ref.UID))
			return solid, nil
		}
		ns = dep.Namespace
	}
	key := absentKey{uid: ref.UID, gk: refGroupKind(ref), ns: ns, name: ref.Name}
	if c.g.isAbsent(key) {
		return dangling, nil
	}
	cached := c.g.owner(ns, ref)
	if cached.known && !cached.deletingDependents {
		return solid, nil
	}
	owner, err := c.res[ri].Get(ctx, ns, ref.Name)
	switch {
	case errors.Is(err, meta.ErrNotFound):
	case err != nil:
		return solid, fmt.Errorf("gc: read owner %s %s of %s: %w", ref.Kind, ref.Name, dep.Key(), err)
	case owner.UID == ref.UID:
		if owner.DeletionTimestamp != nil && slices.Contains(owner.Finalizers, meta.FinalizerDeleteDependents) {
			return waiting, nil
		}
		return solid, nil
	}
	c.g.markAbsent(key)
	if cached.elsewhere != "" {
		c.invalidNamespace(ctx, dep, ref, fmt.Sprintf(
			"ownerRef [%s, %s %s, uid %s] does not exist in namespace %q (it is in namespace %q)",
			ref.APIVersion, ref.Kind, ref.Name, ref.UID, dep.Namespace, cached.elsewhere))
	}
	return dangling, nil
}

// invalidNamespace reports an owner reference that can never name its
// owner, as Kubernetes' collector does: a Warning event on the dependent.
func (c *collector) invalidNamespace(ctx context.Context, dep *meta.PartialObjectMetadata, ref meta.OwnerReference, msg string) {
	reconcile.LoggerFrom(ctx).Warn("invalid owner reference", "owner", ref.Name, "ownerUID", ref.UID, "reason", msg)
	if _, err := c.events.Event(ctx, dep, event.TypeWarning, "OwnerRefInvalidNamespace", msg); err != nil {
		reconcile.LoggerFrom(ctx).Warn("record event", "err", err)
	}
}

// removeRefs removes the references that match from m, reporting whether
// it removed any. It never writes into m's old array, which may be shared.
func removeRefs(m *meta.ObjectMeta, match func(meta.OwnerReference) bool) bool {
	if !slices.ContainsFunc(m.OwnerReferences, match) {
		return false
	}
	m.OwnerReferences = slices.DeleteFunc(slices.Clone(m.OwnerReferences), match)
	if len(m.OwnerReferences) == 0 {
		m.OwnerReferences = nil
	}
	return true
}
