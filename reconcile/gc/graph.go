package gc

import (
	"slices"
	"sync"

	"github.com/governor-io/governor/store/meta"
)

// graph is the collector's picture of who owns whom, built from the
// informers' events. Nodes are keyed by uid, so a re-created object with
// the same name is another node. A node that is only named by
// ownerReferences, and not (or no longer) seen, is virtual; it lives as
// long as some dependent names it.
//
// The graph only ever says what might need doing: every decision to delete
// something, or to let an owner go, is made by the reconcile on live reads
// (see collector.go). Each event handler updates the graph and returns the
// requests to enqueue.
type graph struct {
	res []Info // by resource index

	mu     sync.Mutex
	nodes  map[string]*node
	absent *absentCache
}

type node struct {
	uid      string
	observed bool // seen in an informer and not deleted since
	res      int
	ns, name string
	// From the last event seen: deletionTimestamp set, and with it the
	// foregroundDeletion or the orphan finalizer.
	deleting, deletingDependents, orphaning bool
	owners                                  []meta.OwnerReference
	dependents                              map[*node]struct{}
}

func newGraph(res []Info) *graph {
	return &graph{res: res, nodes: map[string]*node{}, absent: newAbsentCache(absentCacheSize)}
}

func (g *graph) request(n *node) Request {
	return Request{Resource: g.res[n.res].String(), Namespace: n.ns, Name: n.name, UID: n.uid}
}

// refersTo reports whether ref, on dependent d, names the observed node o:
// the same uid, group, kind and name, and for a namespaced owner the
// dependent's namespace. A reference to a namespaced owner in another
// namespace names nothing, as in Kubernetes.
func (g *graph) refersTo(d *node, ref meta.OwnerReference, o *node) bool {
	info := g.res[o.res]
	return ref.UID == o.uid && refGroupKind(ref) == info.groupKind() && ref.Name == o.name &&
		(!info.Namespaced || o.ns == d.ns)
}

// upsert records an added or updated object of resource res and returns
// the requests it makes due.
func (g *graph) upsert(res int, m *meta.ObjectMeta) []Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.nodes[m.UID]
	if n == nil {
		n = &node{uid: m.UID}
		g.nodes[m.UID] = n
	}
	wasObserved, oldOwners := n.observed, n.owners
	wasDeletingDependents, wasOrphaning := n.deletingDependents, n.orphaning
	n.observed, n.res, n.ns, n.name = true, res, m.Namespace, m.Name
	n.deleting = m.DeletionTimestamp != nil
	n.deletingDependents = n.deleting && slices.Contains(m.Finalizers, meta.FinalizerDeleteDependents)
	n.orphaning = n.deleting && slices.Contains(m.Finalizers, meta.FinalizerOrphanDependents)
	g.absent.forget(absentKey{uid: m.UID, gk: g.res[res].groupKind(), ns: m.Namespace, name: m.Name})

	ownersChanged := !wasObserved || !slices.EqualFunc(oldOwners, m.OwnerReferences, sameRef)
	if ownersChanged {
		n.owners = cloneRefs(m.OwnerReferences)
		g.relink(n, oldOwners)
	}

	var out []Request
	self := false
	if ownersChanged {
		// The object is garbage if an owner is gone, or waits for its
		// dependents to go; an owner in the graph that is neither is
		// solid, and a change to it will bring the object back here.
		for _, ref := range n.owners {
			if o := g.nodes[ref.UID]; o == nil || !o.observed || o.deletingDependents || !g.refersTo(n, ref, o) {
				self = true
			}
		}
	}
	if n.deletingDependents && !wasDeletingDependents {
		// Foreground deletion starts: every dependent is garbage.
		self = true
		for d := range n.dependents {
			out = append(out, g.request(d))
		}
	}
	if n.orphaning && !wasOrphaning {
		self = true
	}
	if ownersChanged && wasObserved {
		// An owner in foreground deletion that this object blocked may be
		// free to go.
		for _, ref := range oldOwners {
			if isTrue(ref.BlockOwnerDeletion) && !blocks(n.owners, ref.UID) {
				if o := g.nodes[ref.UID]; o != nil && o.observed && o.deletingDependents {
					out = append(out, g.request(o))
				}
			}
		}
	}
	if self {
		out = append(out, g.request(n))
	}
	return out
}

// remove records a deleted object and returns the requests it makes due:
// its dependents, which may now be garbage, and its owners in foreground
// deletion, which it may have blocked.
func (g *graph) remove(res int, m *meta.ObjectMeta) []Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.absent.add(absentKey{uid: m.UID, gk: g.res[res].groupKind(), ns: m.Namespace, name: m.Name})
	n := g.nodes[m.UID]
	if n == nil || !n.observed {
		return nil
	}
	var out []Request
	for d := range n.dependents {
		out = append(out, g.request(d))
	}
	old := n.owners
	n.observed, n.owners = false, nil
	n.deleting, n.deletingDependents, n.orphaning = false, false, false
	g.relink(n, old)
	for _, ref := range old {
		if o := g.nodes[ref.UID]; o != nil && o.observed && o.deletingDependents {
			out = append(out, g.request(o))
		}
	}
	g.drop(n)
	return out
}

// relink moves n's edges from the owners in old to those in n.owners.
func (g *graph) relink(n *node, old []meta.OwnerReference) {
	for _, ref := range old {
		if hasUID(n.owners, ref.UID) {
			continue
		}
		if o := g.nodes[ref.UID]; o != nil {
			delete(o.dependents, n)
			g.drop(o)
		}
	}
	for _, ref := range n.owners {
		if ref.UID == n.uid || ref.UID == "" {
			continue // an object never waits on itself
		}
		o := g.nodes[ref.UID]
		if o == nil {
			o = &node{uid: ref.UID}
			g.nodes[ref.UID] = o
		}
		if o.dependents == nil {
			o.dependents = map[*node]struct{}{}
		}
		o.dependents[n] = struct{}{}
	}
}

// drop forgets a node that is neither observed nor named by anything.
func (g *graph) drop(n *node) {
	if !n.observed && len(n.dependents) == 0 && g.nodes[n.uid] == n {
		delete(g.nodes, n.uid)
	}
}

// dependent is what the reconcile of an owner knows of one dependent.
type dependent struct {
	req Request
	res int
	// blocking: a reference to the owner sets blockOwnerDeletion.
	blocking bool
	// deleting: it has a deletionTimestamp (and so needs nothing more
	// from its owner's reconcile: its deletion event brings the owner
	// back).
	deleting bool
}

// observed reports whether the object with uid is in the graph, seen and
// not deleted since.
func (g *graph) observed(uid string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.nodes[uid]
	return n != nil && n.observed
}

// dependentsOf returns the dependents of the observed object uid whose
// references name it (see refersTo), in a stable order.
func (g *graph) dependentsOf(uid string) []dependent {
	g.mu.Lock()
	defer g.mu.Unlock()
	o := g.nodes[uid]
	if o == nil || !o.observed {
		return nil
	}
	var out []dependent
	for d := range o.dependents {
		dep := dependent{req: g.request(d), res: d.res, deleting: d.deleting}
		named := false
		for _, ref := range d.owners {
			if g.refersTo(d, ref, o) {
				named = true
				dep.blocking = dep.blocking || isTrue(ref.BlockOwnerDeletion)
			}
		}
		if named {
			out = append(out, dep)
		}
	}
	slices.SortFunc(out, func(a, b dependent) int { return compareRequests(a.req, b.req) })
	return out
}

// hasDependents reports whether the object uid has dependents, and
// whether any of them is in foreground deletion itself.
func (g *graph) hasDependents(uid string) (any, deleting bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	o := g.nodes[uid]
	if o == nil {
		return false, false
	}
	for d := range o.dependents {
		any = true
		if d.deletingDependents {
			deleting = true
		}
	}
	return any, deleting
}

// cachedOwner is the graph's view of the object a reference names.
type cachedOwner struct {
	known              bool // observed, and the reference names it
	deletingDependents bool
	elsewhere          string // observed in this other namespace, which the reference cannot name
}

// owner returns the graph's view of the owner that ref names, on a
// dependent in namespace depNS.
func (g *graph) owner(depNS string, ref meta.OwnerReference) cachedOwner {
	g.mu.Lock()
	defer g.mu.Unlock()
	o := g.nodes[ref.UID]
	if o == nil || !o.observed {
		return cachedOwner{}
	}
	info := g.res[o.res]
	if refGroupKind(ref) != info.groupKind() || ref.Name != o.name {
		return cachedOwner{}
	}
	if info.Namespaced && o.ns != depNS {
		return cachedOwner{elsewhere: o.ns}
	}
	return cachedOwner{known: true, deletingDependents: o.deletingDependents}
}

// isAbsent reports whether the object a reference resolves to is known to
// be gone.
func (g *graph) isAbsent(k absentKey) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.absent.has(k)
}

// markAbsent records that a live read found no object with k's uid at k's
// coordinates.
func (g *graph) markAbsent(k absentKey) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.absent.add(k)
}

func sameRef(a, b meta.OwnerReference) bool {
	return a.APIVersion == b.APIVersion && a.Kind == b.Kind && a.Name == b.Name && a.UID == b.UID &&
		isTrue(a.Controller) == isTrue(b.Controller) && isTrue(a.BlockOwnerDeletion) == isTrue(b.BlockOwnerDeletion)
}

func cloneRefs(refs []meta.OwnerReference) []meta.OwnerReference {
	out := make([]meta.OwnerReference, len(refs))
	for i, r := range refs {
		out[i] = r
		if r.Controller != nil {
			v := *r.Controller
			out[i].Controller = &v
		}
		if r.BlockOwnerDeletion != nil {
			v := *r.BlockOwnerDeletion
			out[i].BlockOwnerDeletion = &v
		}
	}
	return out
}

func isTrue(b *bool) bool { return b != nil && *b }

func hasUID(refs []meta.OwnerReference, uid string) bool {
	return slices.ContainsFunc(refs, func(r meta.OwnerReference) bool { return r.UID == uid })
}

// blocks reports whether a reference in refs to uid sets blockOwnerDeletion.
func blocks(refs []meta.OwnerReference, uid string) bool {
	return slices.ContainsFunc(refs, func(r meta.OwnerReference) bool { return r.UID == uid && isTrue(r.BlockOwnerDeletion) })
}

// absentKey is an owner reference as resolved from a dependent: the uid
// and where the reference points. An object is absent at those
// coordinates for good once seen absent there (uids are never reused, and
// an object never moves), but the same uid may well exist at other
// coordinates that another dependent's reference resolves to.
type absentKey struct {
	uid      string
	gk       groupKind
	ns, name string
}

// absentCacheSize bounds the owners remembered as gone, as Kubernetes'
// collector does; forgetting one only costs a live read.
const absentCacheSize = 4096

// absentCache remembers the owners found gone, evicting the oldest.
type absentCache struct {
	max   int
	keys  map[absentKey]struct{}
	order []absentKey // a ring, oldest at head once full
	head  int
}

func newAbsentCache(max int) *absentCache {
	return &absentCache{max: max, keys: map[absentKey]struct{}{}}
}

func (c *absentCache) has(k absentKey) bool { _, ok := c.keys[k]; return ok }

func (c *absentCache) add(k absentKey) {
	if c.has(k) {
		return
	}
	if len(c.order) < c.max {
		c.order = append(c.order, k)
	} else {
		delete(c.keys, c.order[c.head])
		c.order[c.head] = k
		c.head = (c.head + 1) % c.max
	}
	c.keys[k] = struct{}{}
}

// forget drops k, for an object seen alive at its own coordinates (a guard:
// uids are never reused). A key left in the ring after this only evicts
// early, which costs a live read.
func (c *absentCache) forget(k absentKey) { delete(c.keys, k) }
