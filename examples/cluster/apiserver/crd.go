package apiserver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/examples/cluster/api/apiextensionsv1"
	"github.com/governor-io/governor/examples/cluster/api/unstructured"
	"github.com/governor-io/governor/examples/cluster/apiserver/schema"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
)

// CRDCleanupFinalizer is the finalizer every CustomResourceDefinition
// gets on create: when the CRD is deleted, the server stops serving its
// resource, deletes its objects, then removes the finalizer.
const CRDCleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io"

// The conditions a CRD's status carries.
const (
	CRDEstablished   = "Established"
	CRDNamesAccepted = "NamesAccepted"
)

// InstallCustomResources registers the customresourcedefinitions
// resource (apiextensions.k8s.io/v1) and starts serving custom
// resources: each CRD's resource appears in discovery and is served, in
// every served version, as soon as the server sees the CRD (and again
// after a restart), with no restart. A CRD whose names conflict with a
// resource the server already serves is refused on create (422); one
// that comes to conflict later gets NamesAccepted=False and is not
// served. Deleting a CRD stops serving its resource and deletes its
// objects (directly in the KV: their finalizers are not waited for).
//
// The objects are [unstructured.Object]s, pruned, defaulted and
// validated against the version's structural schema (package schema).
// Versions differ only in apiVersion (conversion strategy None): every
// version reads and writes the same stored objects.
func InstallCustomResources(s *Server) error {
	c := &crdController{s: s, served: map[string]*servedCRD{}, changed: make(chan struct{}), synced: make(chan struct{})}
	t := apiextensionsv1.CustomResourceDefinitions
	validate, def := t.Validate, t.Default
	t.Default = func(crd *apiextensionsv1.CustomResourceDefinition) {
		if def != nil {
			def(crd)
		}
		if crd.ResourceVersion == "" && !slices.Contains(crd.Finalizers, CRDCleanupFinalizer) {
			crd.Finalizers = append(crd.Finalizers, CRDCleanupFinalizer)
		}
	}
	t.Validate = func(crd *apiextensionsv1.CustomResourceDefinition) []meta.Cause {
		var causes []meta.Cause
		if validate != nil {
			causes = validate(crd)
		}
		if crd.ResourceVersion == "" { // a create
			causes = append(causes, c.nameConflicts(crd)...)
		}
		for i, v := range crd.Spec.Versions {
			if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				continue
			}
			if _, err := schema.New(v.Schema.OpenAPIV3Schema); err != nil {
				causes = append(causes, api.Invalid(fmt.Sprintf("spec.versions[%d].schema.openAPIV3Schema", i), "", err.Error()))
			}
		}
		return causes
	}
	c.st = store.NewWithOptions(s.cfg.KV, t.StoreResource(), store.Options{Clock: s.clock, Logger: s.log, BookmarkInterval: -1})
	if err := Register(s, t); err != nil {
		return err
	}
	s.mu.Lock()
	s.crds = c
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		c.run(s.ctx)
	}()
	return nil
}

// WaitCustomResource waits until the CustomResourceDefinition name is
// served at generation (its metadata.generation), or, with generation 0,
// until it is not served at all, or until ctx ends. It fails at once if
// [InstallCustomResources] was not called. Clients that cannot call it
// wait for the CRD's Established condition instead, which the server sets
// once the resource is served.
func (s *Server) WaitCustomResource(ctx context.Context, name string, generation int64) error {
	s.mu.RLock()
	c := s.crds
	s.mu.RUnlock()
	if c == nil {
		return errors.New("apiserver: custom resources are not installed")
	}
	for {
		g, ok, changed := c.servedGeneration(name)
		if ok && g == generation || !ok && generation == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("apiserver: waiting for custom resource %s: %w", name, ctx.Err())
		}
	}
}

// crdController serves the resources of the CRDs in the store.
type crdController struct {
	s  *Server
	st *store.Store[*apiextensionsv1.CustomResourceDefinition]

	mu     sync.Mutex
	served map[string]*servedCRD // by CRD name
	// changed is closed and replaced whenever what is served changes.
	changed chan struct{}
	// synced is closed once the CRDs of the first list are reconciled.
	synced     chan struct{}
	syncedOnce sync.Once
}

// notifyLocked wakes those waiting for a change of what is served.
func (c *crdController) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// servedGeneration returns the generation of the CRD name that is
// served, and a channel closed at the next change.
func (c *crdController) servedGeneration(name string) (int64, bool, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sc := c.served[name]
	if sc == nil {
		return 0, false, c.changed
	}
	return sc.generation, true, c.changed
}

// servedCRD is what one CRD has registered.
type servedCRD struct {
	uid        string
	generation int64
	resources  []*resource[*unstructured.Object]
}

// crdEndpoint serves a custom resource.
type crdEndpoint struct {
	*resource[*unstructured.Object]
	owner string // the CRD's name
}

// run follows the CRDs in the store until ctx ends: a list, then a
// watch, again after any failure.
func (c *crdController) run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := c.sync(ctx)
		if ctx.Err() != nil {
			break
		}
		c.s.log.Warn("apiserver: the CRD controller restarts", "err", err)
		t := c.s.clock.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C():
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for name := range c.served {
		c.unserveLocked(name)
	}
}

func (c *crdController) sync(ctx context.Context) error {
	l, err := c.st.List(ctx, meta.ListOptions{})
	if err != nil {
		return fmt.Errorf("list CRDs: %w", err)
	}
	ch, err := c.st.Watch(ctx, meta.ListOptions{ResourceVersion: l.ResourceVersion})
	if err != nil {
		return fmt.Errorf("watch CRDs: %w", err)
	}
	names := map[string]bool{}
	for _, crd := range l.Items {
		names[crd.Name] = true
	}
	c.mu.Lock()
	for name := range c.served {
		names[name] = true // gone while we were not watching: unserve
	}
	c.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(names)) {
		c.reconcile(ctx, name)
	}
	c.syncedOnce.Do(func() { close(c.synced) })
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-ch:
			if !ok {
				return errors.New("the CRD watch ended")
			}
			switch ev.Type {
			case meta.Error:
				return ev.Err
			case meta.Added, meta.Modified, meta.Deleted:
				c.reconcile(ctx, ev.Object.Name)
			}
		}
	}
}

// reconcile brings what the server serves for the CRD name in line with
// the stored CRD, and the CRD's status in line with what is served.
func (c *crdController) reconcile(ctx context.Context, name string) {
	crd, err := c.st.Get(ctx, "", name)
	if errors.Is(err, meta.ErrNotFound) {
		c.mu.Lock()
		c.unserveLocked(name)
		c.mu.Unlock()
		return
	}
	if err != nil {
		c.s.log.Warn("apiserver: reading a CRD", "crd", name, "err", err)
		return
	}
	if crd.DeletionTimestamp != nil {
		c.cleanup(ctx, crd)
		return
	}
	c.mu.Lock()
	conflicts := c.nameConflictsLocked(crd)
	var serveErr error
	if len(conflicts) > 0 {
		c.unserveLocked(name)
	} else {
		serveErr = c.serveLocked(crd)
	}
	c.mu.Unlock()
	c.updateStatus(ctx, crd, conflicts, serveErr)
}

// cleanup stops serving a deleted CRD's resource, deletes its objects and
// removes the finalizer.
func (c *crdController) cleanup(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition) {
	c.mu.Lock()
	c.unserveLocked(crd.Name)
	c.mu.Unlock()
	if !slices.Contains(crd.Finalizers, CRDCleanupFinalizer) {
		return
	}
	prefix := store.DefaultPrefix + "/" + crd.Spec.Names.Plural + "." + crd.Spec.Group + "/"
	if _, err := c.s.cfg.KV.Txn(ctx, kv.TxnRequest{Success: []kv.Op{kv.OpDeleteRange(prefix, kv.PrefixEnd(prefix))}}); err != nil {
		c.s.log.Warn("apiserver: deleting a CRD's objects", "crd", crd.Name, "err", err)
		return
	}
	_, err := c.st.GuaranteedUpdate(ctx, "", crd.Name, func(cur *apiextensionsv1.CustomResourceDefinition) (*apiextensionsv1.CustomResourceDefinition, error) {
		cur.Finalizers = slices.DeleteFunc(cur.Finalizers, func(f string) bool { return f == CRDCleanupFinalizer })
		return cur, nil
	})
	if err != nil && !errors.Is(err, meta.ErrNotFound) {
		c.s.log.Warn("apiserver: removing a CRD's finalizer", "crd", crd.Name, "err", err)
	}
}

// unserveLocked takes the CRD's resources off the server and stops their
// watch caches (ending their watches).
func (c *crdController) unserveLocked(name string) {
	sc := c.served[name]
	if sc == nil {
		return
	}
	delete(c.served, name)
	c.unregisterAll(sc)
	c.notifyLocked()
	c.s.log.Info("apiserver: custom resource no longer served", "crd", name)
}

// serveLocked registers the CRD's served versions, unless they are
// already registered for this generation.
func (c *crdController) serveLocked(crd *apiextensionsv1.CustomResourceDefinition) error {
	if sc := c.served[crd.Name]; sc != nil && sc.uid == crd.UID && sc.generation == crd.Generation {
		return nil
	}
	c.unserveLocked(crd.Name)
	sc := &servedCRD{uid: crd.UID, generation: crd.Generation}
	for _, v := range crd.Spec.Versions {
		if !v.Served {
			continue
		}
		t, err := customType(crd, v)
		if err != nil {
			c.unregisterAll(sc)
			return err
		}
		r, err := register(c.s, t, func(r *resource[*unstructured.Object]) endpoint {
			return &crdEndpoint{resource: r, owner: crd.Name}
		})
		if err != nil {
			c.unregisterAll(sc)
			return err
		}
		sc.resources = append(sc.resources, r)
	}
	c.served[crd.Name] = sc
	c.notifyLocked()
	c.s.log.Info("apiserver: serving custom resource", "crd", crd.Name, "versions", len(sc.resources))
	return nil
}

// unregisterAll removes and stops the resources, and drops their
// apiserver_storage_objects series (caches registered again set it anew).
func (c *crdController) unregisterAll(sc *servedCRD) {
	for _, r := range sc.resources {
		c.s.remove(groupVersionResource{r.t.Group, r.t.Version, r.t.Resource})
		r.stop()
		<-r.done
		c.s.metrics.storageObjects.DeleteLabelValues(r.t.GroupResource())
	}
}

// nameConflicts returns the causes that refuse a new CRD whose names are
// taken.
func (c *crdController) nameConflicts(crd *apiextensionsv1.CustomResourceDefinition) []meta.Cause {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nameConflictsLocked(crd)
}

// nameConflictsLocked returns a cause for each of the CRD's names (plural,
// singular, short names, kind) that a resource of the same group, other
// than the CRD's own, already has.
func (c *crdController) nameConflictsLocked(crd *apiextensionsv1.CustomResourceDefinition) []meta.Cause {
	n := crd.Spec.Names
	var causes []meta.Cause
	for _, d := range c.s.descsExcept(crd.Name) {
		if d.group != crd.Spec.Group {
			continue
		}
		taken := append([]string{d.resource, d.singular}, d.shortNames...)
		conflict := func(field, v string) {
			msg := fmt.Sprintf("%q is already in use by the resource %s.%s", v, d.resource, d.group)
			for _, c := range causes {
				if c.Field == field && strings.Contains(c.Message, msg) {
					return
				}
			}
			causes = append(causes, api.Invalid(field, v, msg))
		}
		if slices.Contains(taken, n.Plural) {
			conflict("spec.names.plural", n.Plural)
		}
		if n.Singular != "" && slices.Contains(taken, n.Singular) {
			conflict("spec.names.singular", n.Singular)
		}
		for i, sn := range n.ShortNames {
			if slices.Contains(taken, sn) {
				conflict(fmt.Sprintf("spec.names.shortNames[%d]", i), sn)
			}
		}
		if n.Kind != "" && n.Kind == d.kind && d.resource != n.Plural {
			conflict("spec.names.kind", n.Kind)
		}
	}
	return causes
}

// descsExcept is descs without the resources the CRD crd serves.
func (s *Server) descsExcept(crd string) []resourceDesc {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []resourceDesc
	seen := map[string]bool{}
	for _, e := range s.endpoints {
		if ce, ok := e.(*crdEndpoint); ok && ce.owner == crd {
			continue
		}
		d := e.desc()
		if k := d.group + "/" + d.resource; !seen[k] {
			seen[k] = true
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b resourceDesc) int { return strings.Compare(a.group+"/"+a.resource, b.group+"/"+b.resource) })
	return out
}

// updateStatus writes the CRD's conditions, acceptedNames and
// storedVersions, changing lastTransitionTime only on transitions. It
// writes nothing when nothing changed.
func (c *crdController) updateStatus(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition, conflicts []meta.Cause, serveErr error) {
	now := meta.Time{Time: c.s.clock.Now().UTC().Truncate(time.Second)}
	_, err := c.st.GuaranteedUpdateStatus(ctx, "", crd.Name, func(cur *apiextensionsv1.CustomResourceDefinition) (*apiextensionsv1.CustomResourceDefinition, error) {
		if cur.UID != crd.UID {
			return nil, meta.NewConflict("customresourcedefinitions.apiextensions.k8s.io", crd.Name, "the CRD was replaced")
		}
		st := &cur.Status
		names := apiextensionsv1.CustomResourceDefinitionCondition{Type: CRDNamesAccepted, Status: meta.ConditionTrue,
			Reason: "NoConflicts", Message: "no conflicts found"}
		established := apiextensionsv1.CustomResourceDefinitionCondition{Type: CRDEstablished, Status: meta.ConditionTrue,
			Reason: "InitialNamesAccepted", Message: "the initial names have been accepted"}
		switch {
		case len(conflicts) > 0:
			msgs := make([]string, len(conflicts))
			for i, cs := range conflicts {
				msgs[i] = cs.Field + ": " + cs.Message
			}
			names.Status, names.Reason, names.Message = meta.ConditionFalse, "NameConflict", strings.Join(msgs, "; ")
			established.Status, established.Reason, established.Message = meta.ConditionFalse, "NotAccepted", "not all names are accepted"
		case serveErr != nil:
			established.Status, established.Reason, established.Message = meta.ConditionFalse, "Installing", serveErr.Error()
		default:
			st.AcceptedNames = cur.Spec.Names
			if sv := cur.StorageVersion(); sv != "" && !slices.Contains(st.StoredVersions, sv) {
				st.StoredVersions = append(st.StoredVersions, sv)
			}
		}
		setCRDCondition(st, names, now)
		setCRDCondition(st, established, now)
		if st.StoredVersions == nil {
			st.StoredVersions = []string{}
		}
		if st.Conditions == nil {
			st.Conditions = []apiextensionsv1.CustomResourceDefinitionCondition{}
		}
		return cur, nil
	})
	if err != nil && !errors.Is(err, meta.ErrNotFound) && meta.ReasonOf(err) != meta.ReasonConflict {
		c.s.log.Warn("apiserver: updating a CRD's status", "crd", crd.Name, "err", err)
	}
}

func setCRDCondition(st *apiextensionsv1.CustomResourceDefinitionStatus, cond apiextensionsv1.CustomResourceDefinitionCondition, now meta.Time) {
	for i := range st.Conditions {
		old := &st.Conditions[i]
		if old.Type != cond.Type {
			continue
		}
		cond.LastTransitionTime = old.LastTransitionTime
		if old.Status != cond.Status {
			cond.LastTransitionTime = now
		}
		*old = cond
		return
	}
	cond.LastTransitionTime = now
	st.Conditions = append(st.Conditions, cond)
}
