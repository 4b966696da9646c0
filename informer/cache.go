package informer

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/governor-io/governor/store/meta"
)

// KeyFunc returns the cache key of an object. The default key is
// "namespace/name", or "name" for a cluster-scoped object, as
// [meta.ObjectMeta.Key] returns it.
type KeyFunc[T any] func(obj T) string

// IndexFunc returns the values under which an object is found in one named
// index. An object may have any number of values, including none.
type IndexFunc[T any] func(obj T) []string

// ErrUnknownIndex is returned (wrapped, with the index name) when a lookup
// names an index that was never added.
var ErrUnknownIndex = errors.New("informer: unknown index")

// ErrIndexExists is returned (wrapped, with the index name) by
// [Cache.AddIndexers] for a name that is already taken.
var ErrIndexExists = errors.New("informer: index already exists")

// Cache is a thread-safe, indexed map of objects keyed by namespace/name
// (or by a [KeyFunc]). An [Informer] keeps one in step with its source;
// a Cache can also be fed directly, or by a [Reflector] as its [Sink].
//
// Objects in a Cache are SHARED AND READ-ONLY. Get, List and the index
// lookups return the very values the cache holds, which every other reader
// and every event handler sees too. Never modify one: a change would corrupt
// the cache and race with other goroutines. To change an object, take a
// private copy with [meta.DeepCopy] and modify that.
type Cache[T meta.Object] struct {
	mu      sync.RWMutex
	keyFunc KeyFunc[T] // nil: namespace/name, built without allocating
	keys    map[string]int32
	slots   []slot[T]
	free    []int32
	// byNS is the built-in namespace index: namespace → slots. Index sets
	// hold slot numbers, not keys: 4 bytes an entry, and a lookup goes
	// straight to the object. A slot keeps its number while it is in use.
	byNS map[string]slotSet
	// names maps namespace/name to its slot when keyFunc is set, so that
	// a lookup by name works whatever the key.
	names    map[string]int32
	indexers map[string]IndexFunc[T]
	indices  map[string]map[string]slotSet // index → value → slots
}

// slotSet is a set of slot numbers.
type slotSet = map[int32]struct{}

// slot holds one cached object. A free slot has an empty key.
type slot[T any] struct {
	key string
	obj T
}

// CacheOptions configure a [Cache]. The zero value is ready to use.
type CacheOptions[T meta.Object] struct {
	// KeyFunc replaces the default namespace/name key. The cache then
	// also keeps a namespace/name index, so that [Lister.Get] still finds
	// objects by name.
	KeyFunc KeyFunc[T]
	// Indexers are the named indexes to maintain.
	Indexers map[string]IndexFunc[T]
}

// NewCache returns an empty Cache.
func NewCache[T meta.Object](opts CacheOptions[T]) *Cache[T] {
	c := &Cache[T]{
		keyFunc:  opts.KeyFunc,
		keys:     make(map[string]int32),
		names:    make(map[string]int32),
		byNS:     make(map[string]slotSet),
		indexers: make(map[string]IndexFunc[T]),
		indices:  make(map[string]map[string]slotSet),
	}
	for name, f := range opts.Indexers {
		c.indexers[name] = f
		c.indices[name] = make(map[string]slotSet)
	}
	return c
}

// appendKey appends the default key of obj to dst.
func appendKey(dst []byte, namespace, name string) []byte {
	if namespace != "" {
		dst = append(dst, namespace...)
		dst = append(dst, '/')
	}
	return append(dst, name...)
}

// lookup returns the slot index of obj's key and, when keyFunc is set, the
// key it computed. With the default key no string is allocated.
func (c *Cache[T]) lookup(obj T) (idx int32, ok bool, key string) {
	if c.keyFunc != nil {
		key = c.keyFunc(obj)
		idx, ok = c.keys[key]
		return idx, ok, key
	}
	m := obj.GetObjectMeta()
	var buf [128]byte
	b := appendKey(buf[:0], m.Namespace, m.Name)
	idx, ok = c.keys[string(b)] // no allocation: the compiler reuses b for the lookup
	return idx, ok, ""
}

func (c *Cache[T]) newKey(obj T, computed string) string {
	if computed != "" || c.keyFunc != nil {
		return computed
	}
	if obj.GetObjectMeta().Name == "" {
		return ""
	}
	return obj.GetObjectMeta().Key()
}

// set stores obj and returns its key and the object it replaced.
// It returns an empty key, and stores nothing, for an object with an empty
// key.
func (c *Cache[T]) set(obj T) (key string, old T, existed bool) {
	idx, ok, computed := c.lookup(obj)
	if ok {
		s := &c.slots[idx]
		old = s.obj
		s.obj = obj
		c.reindex(idx, old, obj, true)
		return s.key, old, true
	}
	key = c.newKey(obj, computed)
	if key == "" {
		return "", old, false
	}
	if n := len(c.free); n > 0 {
		idx = c.free[n-1]
		c.free = c.free[:n-1]
		c.slots[idx] = slot[T]{key: key, obj: obj}
	} else {
		idx = int32(len(c.slots))
		c.slots = append(c.slots, slot[T]{key: key, obj: obj})
	}
	c.keys[key] = idx
	c.reindex(idx, old, obj, false)
	return key, old, false
}

// remove deletes the object with obj's key and returns what was cached.
func (c *Cache[T]) remove(obj T) (key string, old T, existed bool) {
	idx, ok, _ := c.lookup(obj)
	if !ok {
		return "", old, false
	}
	return c.removeAt(idx)
}

func (c *Cache[T]) removeAt(idx int32) (key string, old T, existed bool) {
	s := c.slots[idx]
	delete(c.keys, s.key)
	c.slots[idx] = slot[T]{}
	c.free = append(c.free, idx)
	c.unindex(idx, s.obj)
	return s.key, s.obj, true
}

// reindex moves slot key in the indexes from old's values to obj's.
func (c *Cache[T]) reindex(key int32, old, obj T, hadOld bool) {
	ns := obj.GetObjectMeta().Namespace
	if hadOld {
		if oldNS := old.GetObjectMeta().Namespace; oldNS != ns {
			removeFromSet(c.byNS, oldNS, key)
			addToSet(c.byNS, ns, key)
		}
	} else {
		addToSet(c.byNS, ns, key)
	}
	if c.keyFunc != nil {
		name := obj.GetObjectMeta().Key()
		if hadOld {
			if oldName := old.GetObjectMeta().Key(); oldName != name && c.names[oldName] == key {
				delete(c.names, oldName)
			}
		}
		c.names[name] = key
	}
	for name, f := range c.indexers {
		idx := c.indices[name]
		vals := f(obj)
		if hadOld {
			oldVals := f(old)
			if slices.Equal(oldVals, vals) {
				continue
			}
			for _, v := range oldVals {
				removeFromSet(idx, v, key)
			}
		}
		for _, v := range vals {
			addToSet(idx, v, key)
		}
	}
}

func (c *Cache[T]) unindex(key int32, old T) {
	removeFromSet(c.byNS, old.GetObjectMeta().Namespace, key)
	if c.keyFunc != nil {
		if name := old.GetObjectMeta().Key(); c.names[name] == key {
			delete(c.names, name)
		}
	}
	for name, f := range c.indexers {
		idx := c.indices[name]
		for _, v := range f(old) {
			removeFromSet(idx, v, key)
		}
	}
}

func addToSet(m map[string]slotSet, v string, key int32) {
	set := m[v]
	if set == nil {
		set = make(slotSet, 1)
		m[v] = set
	}
	set[key] = struct{}{}
}

func removeFromSet(m map[string]slotSet, v string, key int32) {
	set := m[v]
	if set == nil {
		return
	}
	delete(set, key)
	if len(set) == 0 {
		delete(m, v)
	}
}

// replace makes items the whole content of the cache. For each item that
// is new or has a new resourceVersion it calls upsert with the replaced
// object, if any; for each cached object that items lack it calls gone.
// Either callback may be nil.
func (c *Cache[T]) replace(items []T, upsert func(key string, old T, existed bool, obj T), gone func(key string, old T)) {
	if len(c.keys) == 0 && len(c.slots) == 0 {
		// First fill: size the map once instead of growing it.
		c.keys = make(map[string]int32, len(items))
		c.slots = make([]slot[T], 0, len(items))
	}
	seen := make([]bool, len(c.slots))
	for _, obj := range items {
		if idx, ok, _ := c.lookup(obj); ok && unchanged(c.slots[idx].obj, obj) {
			// The same version: keep the object handlers already have, so
			// that the next update's old object is the one they saw.
			seen[idx] = true
			continue
		}
		key, old, existed := c.set(obj)
		if key == "" {
			continue
		}
		if idx := c.keys[key]; int(idx) < len(seen) {
			seen[idx] = true
		}
		if upsert != nil {
			upsert(key, old, existed, obj)
		}
	}
	for i, was := range seen {
		if was || c.slots[i].key == "" {
			continue
		}
		key, old, _ := c.removeAt(int32(i))
		if gone != nil {
			gone(key, old)
		}
	}
}

// Add stores obj, replacing any object with the same key. Objects with an
// empty key are ignored.
func (c *Cache[T]) Add(obj T) {
	c.mu.Lock()
	c.set(obj)
	c.mu.Unlock()
}

// Update stores obj; it is the same as [Cache.Add].
func (c *Cache[T]) Update(obj T) { c.Add(obj) }

// Delete removes the object with obj's key, if cached.
func (c *Cache[T]) Delete(obj T) {
	c.mu.Lock()
	c.remove(obj)
	c.mu.Unlock()
}

// Replace makes items the whole content of the cache. The resourceVersion
// is accepted so that a Cache is a [Sink]; the Cache does not keep it.
func (c *Cache[T]) Replace(items []T, resourceVersion string) {
	c.mu.Lock()
	c.replace(items, nil, nil)
	c.mu.Unlock()
}

// Get returns the object stored under key.
func (c *Cache[T]) Get(key string) (T, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	idx, ok := c.keys[key]
	if !ok {
		var zero T
		return zero, false
	}
	return c.slots[idx].obj, true
}

// getByName returns the object namespace/name, whatever the cache's key.
func (c *Cache[T]) getByName(namespace, name string) (T, bool) {
	var buf [128]byte
	b := appendKey(buf[:0], namespace, name)
	c.mu.RLock()
	defer c.mu.RUnlock()
	byName := c.keys
	if c.keyFunc != nil {
		byName = c.names
	}
	idx, ok := byName[string(b)]
	if !ok {
		var zero T
		return zero, false
	}
	return c.slots[idx].obj, true
}

// Len returns the number of cached objects.
func (c *Cache[T]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.keys)
}

// List returns every cached object, in no particular order.
func (c *Cache[T]) List() []T {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]T, 0, len(c.keys))
	for i := range c.slots {
		if c.slots[i].key != "" {
			out = append(out, c.slots[i].obj)
		}
	}
	return out
}

// ListKeys returns every key, in no particular order.
func (c *Cache[T]) ListKeys() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]string, 0, len(c.keys))
	for k := range c.keys {
		out = append(out, k)
	}
	return out
}

// ByIndex returns the objects whose index function put them under value
// in the named index.
func (c *Cache[T]) ByIndex(index, value string) ([]T, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	idx, ok := c.indices[index]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownIndex, index)
	}
	set := idx[value]
	out := make([]T, 0, len(set))
	for i := range set {
		out = append(out, c.slots[i].obj)
	}
	return out, nil
}

// IndexKeys returns the keys of the objects under value in the named index.
func (c *Cache[T]) IndexKeys(index, value string) ([]string, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	idx, ok := c.indices[index]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownIndex, index)
	}
	out := make([]string, 0, len(idx[value]))
	for i := range idx[value] {
		out = append(out, c.slots[i].key)
	}
	return out, nil
}

// IndexValues returns the values present in the named index.
func (c *Cache[T]) IndexValues(index string) ([]string, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	idx, ok := c.indices[index]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownIndex, index)
	}
	out := make([]string, 0, len(idx))
	for v := range idx {
		out = append(out, v)
	}
	return out, nil
}

// AddIndexers adds named indexes and indexes the objects already cached.
// A name that is already taken gives an error wrapping [ErrIndexExists],
// and then no index is added.
func (c *Cache[T]) AddIndexers(indexers map[string]IndexFunc[T]) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name := range indexers {
		if _, ok := c.indexers[name]; ok {
			return fmt.Errorf("%w: %q", ErrIndexExists, name)
		}
	}
	for name, f := range indexers {
		idx := make(map[string]slotSet)
		for i := range c.slots {
			if s := &c.slots[i]; s.key != "" {
				for _, v := range f(s.obj) {
					addToSet(idx, v, int32(i))
				}
			}
		}
		c.indexers[name] = f
		c.indices[name] = idx
	}
	return nil
}

// listNamespace returns the objects in namespace that keep returns true
// for; namespace "" means all.
func (c *Cache[T]) listNamespace(namespace string, keep func(T) bool) []T {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []T
	if namespace == "" {
		for i := range c.slots {
			if s := &c.slots[i]; s.key != "" && keep(s.obj) {
				out = append(out, s.obj)
			}
		}
		return out
	}
	for i := range c.byNS[namespace] {
		if obj := c.slots[i].obj; keep(obj) {
			out = append(out, obj)
		}
	}
	return out
}

// each calls f for every cached object; the caller holds the lock.
func (c *Cache[T]) eachLocked(f func(key string, obj T)) {
	for i := range c.slots {
		if s := &c.slots[i]; s.key != "" {
			f(s.key, s.obj)
		}
	}
}

// unchanged reports whether obj is the same version as the cached old.
func unchanged[T meta.Object](old, obj T) bool {
	rv := obj.GetObjectMeta().ResourceVersion
	return rv != "" && rv == old.GetObjectMeta().ResourceVersion
}
