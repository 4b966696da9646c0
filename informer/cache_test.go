package informer

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/governor-io/governor/store/meta"
)

func byColor(w *widget) []string {
	if c, ok := w.Labels["color"]; ok {
		return []string{c}
	}
	return nil
}

func keys(ws []*widget) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Key()
	}
	slices.Sort(out)
	return out
}

func TestCacheOperations(t *testing.T) {
	red := map[string]string{"color": "red"}
	blue := map[string]string{"color": "blue"}
	tests := []struct {
		name      string
		ops       func(c *Cache[*widget])
		wantKeys  []string
		wantRed   []string
		wantBlue  []string
		wantNS    map[string][]string
		wantColor []string
	}{
		{
			name:     "add indexes by key, namespace and index",
			ops:      func(c *Cache[*widget]) { c.Add(newWidget("a", "x", "", red)); c.Add(newWidget("b", "y", "", blue)) },
			wantKeys: []string{"a/x", "b/y"}, wantRed: []string{"a/x"}, wantBlue: []string{"b/y"},
			wantNS: map[string][]string{"a": {"a/x"}, "b": {"b/y"}}, wantColor: []string{"blue", "red"},
		},
		{
			name: "update moves the object between index values",
			ops: func(c *Cache[*widget]) {
				c.Add(newWidget("a", "x", "", red))
				c.Update(newWidget("a", "x", "", blue))
			},
			wantKeys: []string{"a/x"}, wantRed: []string{}, wantBlue: []string{"a/x"},
			wantNS: map[string][]string{"a": {"a/x"}}, wantColor: []string{"blue"},
		},
		{
			name: "delete unindexes and frees the slot for reuse",
			ops: func(c *Cache[*widget]) {
				c.Add(newWidget("a", "x", "", red))
				c.Add(newWidget("a", "y", "", red))
				c.Delete(newWidget("a", "x", "", nil))
				c.Add(newWidget("c", "z", "", nil))
			},
			wantKeys: []string{"a/y", "c/z"}, wantRed: []string{"a/y"}, wantBlue: []string{},
			wantNS: map[string][]string{"a": {"a/y"}, "c": {"c/z"}}, wantColor: []string{"red"},
		},
		{
			name: "delete of an unknown key is a no-op",
			ops: func(c *Cache[*widget]) {
				c.Add(newWidget("a", "x", "", nil))
				c.Delete(newWidget("a", "nope", "", nil))
			},
			wantKeys: []string{"a/x"}, wantRed: []string{}, wantBlue: []string{},
			wantNS: map[string][]string{"a": {"a/x"}}, wantColor: []string{},
		},
		{
			name: "replace adds, updates and removes",
			ops: func(c *Cache[*widget]) {
				c.Add(newWidget("a", "x", "", red))
				c.Add(newWidget("a", "y", "", red))
				c.Replace([]*widget{newWidget("a", "y", "", blue), newWidget("b", "z", "", red)}, "9")
			},
			wantKeys: []string{"a/y", "b/z"}, wantRed: []string{"b/z"}, wantBlue: []string{"a/y"},
			wantNS: map[string][]string{"a": {"a/y"}, "b": {"b/z"}}, wantColor: []string{"blue", "red"},
		},
		{
			name:     "cluster-scoped objects are keyed by name",
			ops:      func(c *Cache[*widget]) { c.Add(newWidget("", "node1", "", red)) },
			wantKeys: []string{"node1"}, wantRed: []string{"node1"}, wantBlue: []string{},
			wantNS: map[string][]string{"": {"node1"}}, wantColor: []string{"red"},
		},
		{
			name:     "objects without a name are ignored",
			ops:      func(c *Cache[*widget]) { c.Add(newWidget("a", "", "", red)) },
			wantKeys: []string{}, wantRed: []string{}, wantBlue: []string{},
			wantNS: map[string][]string{"a": {}}, wantColor: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCache(CacheOptions[*widget]{Indexers: map[string]IndexFunc[*widget]{"color": byColor}})
			tt.ops(c)
			got := c.ListKeys()
			slices.Sort(got)
			if diff := cmp.Diff(tt.wantKeys, got); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			if got := keys(c.List()); !slices.Equal(got, tt.wantKeys) {
				t.Errorf("List keys = %v, want %v", got, tt.wantKeys)
			}
			if c.Len() != len(tt.wantKeys) {
				t.Errorf("Len = %d, want %d", c.Len(), len(tt.wantKeys))
			}
			for color, want := range map[string][]string{"red": tt.wantRed, "blue": tt.wantBlue} {
				objs, err := c.ByIndex("color", color)
				if err != nil {
					t.Fatal(err)
				}
				if got := keys(objs); !slices.Equal(got, want) {
					t.Errorf("ByIndex(color, %s) = %v, want %v", color, got, want)
				}
				ks, _ := c.IndexKeys("color", color)
				slices.Sort(ks)
				if !slices.Equal(ks, want) {
					t.Errorf("IndexKeys(color, %s) = %v, want %v", color, ks, want)
				}
			}
			vals, _ := c.IndexValues("color")
			slices.Sort(vals)
			if !slices.Equal(vals, tt.wantColor) {
				t.Errorf("IndexValues = %v, want %v", vals, tt.wantColor)
			}
			for ns, want := range tt.wantNS {
				got := keys(c.listNamespace(ns, func(*widget) bool { return true }))
				if ns == "" {
					got = keys(c.List())
				}
				if !slices.Equal(got, want) {
					t.Errorf("namespace %q = %v, want %v", ns, got, want)
				}
			}
			for _, k := range tt.wantKeys {
				if w, ok := c.Get(k); !ok || w.Key() != k {
					t.Errorf("Get(%q) = %v, %v", k, w, ok)
				}
			}
		})
	}
}

func TestCacheErrors(t *testing.T) {
	c := NewCache(CacheOptions[*widget]{Indexers: map[string]IndexFunc[*widget]{"color": byColor}})
	if _, err := c.ByIndex("nope", "x"); !errors.Is(err, ErrUnknownIndex) {
		t.Errorf("ByIndex(unknown) error = %v, want ErrUnknownIndex", err)
	}
	if _, err := c.IndexKeys("nope", "x"); !errors.Is(err, ErrUnknownIndex) {
		t.Errorf("IndexKeys(unknown) error = %v, want ErrUnknownIndex", err)
	}
	if _, err := c.IndexValues("nope"); !errors.Is(err, ErrUnknownIndex) {
		t.Errorf("IndexValues(unknown) error = %v, want ErrUnknownIndex", err)
	}
	err := c.AddIndexers(map[string]IndexFunc[*widget]{"color": byColor, "spec": func(w *widget) []string { return []string{w.Spec} }})
	if !errors.Is(err, ErrIndexExists) {
		t.Errorf("AddIndexers(taken) error = %v, want ErrIndexExists", err)
	}
	if _, err := c.ByIndex("spec", ""); !errors.Is(err, ErrUnknownIndex) {
		t.Error("a failed AddIndexers added an index")
	}
}

func TestCacheAddIndexersIndexesExistingObjects(t *testing.T) {
	c := NewCache(CacheOptions[*widget]{})
	c.Add(newWidget("a", "x", "big", nil))
	c.Add(newWidget("a", "y", "small", nil))
	if err := c.AddIndexers(map[string]IndexFunc[*widget]{"spec": func(w *widget) []string { return []string{w.Spec} }}); err != nil {
		t.Fatal(err)
	}
	objs, err := c.ByIndex("spec", "big")
	if err != nil || !slices.Equal(keys(objs), []string{"a/x"}) {
		t.Fatalf("ByIndex(spec, big) = %v, %v", keys(objs), err)
	}
	c.Update(newWidget("a", "y", "big", nil))
	objs, _ = c.ByIndex("spec", "big")
	if !slices.Equal(keys(objs), []string{"a/x", "a/y"}) {
		t.Fatalf("after update ByIndex(spec, big) = %v", keys(objs))
	}
}

func TestCacheCustomKeyFunc(t *testing.T) {
	c := NewCache(CacheOptions[*widget]{KeyFunc: func(w *widget) string { return w.Spec }})
	c.Add(newWidget("a", "x", "k1", nil))
	c.Add(newWidget("b", "y", "k1", nil)) // same key: replaces
	c.Add(newWidget("b", "z", "k2", nil))
	if got, _ := c.Get("k1"); got == nil || got.Name != "y" {
		t.Errorf("Get(k1) = %v, want b/y", got)
	}
	c.Delete(newWidget("", "", "k2", nil))
	if got := c.ListKeys(); !slices.Equal(got, []string{"k1"}) {
		t.Errorf("keys = %v, want [k1]", got)
	}
}

func TestListerGetHonoursACustomKeyFunc(t *testing.T) {
	c := NewCache(CacheOptions[*widget]{KeyFunc: func(w *widget) string { return "by-spec:" + w.Spec }})
	l := NewLister(c)
	get := func(ns, name string) string {
		w, ok := l.Get(ns, name)
		if !ok {
			return "missing"
		}
		return w.Key() + "=" + w.Spec
	}
	c.Add(newWidget("a", "x", "k1", nil))
	c.Add(newWidget("b", "z", "k2", nil))
	if got := get("a", "x"); got != "a/x=k1" {
		t.Errorf("Get(a, x) = %s, want a/x=k1", got)
	}
	if got := l.ByNamespace("b"); get("b", "z") != "b/z=k2" {
		t.Errorf("Get(b, z) = %s, want b/z=k2 (%v)", get("b", "z"), got)
	}
	if n, _ := l.ByNamespace("b").Get("z"); n == nil {
		t.Error("ByNamespace(b).Get(z) missing")
	}
	// Another object under k1 replaces a/x: a/x is gone, b/y is there.
	c.Add(newWidget("b", "y", "k1", nil))
	if got := get("a", "x"); got != "missing" {
		t.Errorf("Get(a, x) after its key was taken = %s, want missing", got)
	}
	if got := get("b", "y"); got != "b/y=k1" {
		t.Errorf("Get(b, y) = %s, want b/y=k1", got)
	}
	c.Delete(newWidget("b", "y", "k1", nil))
	if got := get("b", "y"); got != "missing" {
		t.Errorf("Get(b, y) after delete = %s, want missing", got)
	}
	// A replace keeps the name index in step.
	c.Replace([]*widget{newWidget("c", "w", "k3", nil)}, "9")
	if get("b", "z") != "missing" || get("c", "w") != "c/w=k3" {
		t.Errorf("after Replace: b/z %s, c/w %s", get("b", "z"), get("c", "w"))
	}
}

func TestLister(t *testing.T) {
	c := NewCache(CacheOptions[*widget]{Indexers: map[string]IndexFunc[*widget]{"color": byColor}})
	c.Add(newWidget("a", "x", "", map[string]string{"app": "web", "color": "red"}))
	c.Add(newWidget("a", "y", "", map[string]string{"app": "db"}))
	c.Add(newWidget("b", "z", "", map[string]string{"app": "web", "tier": "front"}))
	l := NewLister(c)
	tests := []struct {
		namespace, selector string
		want                []string
	}{
		{"", "", []string{"a/x", "a/y", "b/z"}},
		{"", "app=web", []string{"a/x", "b/z"}},
		{"", "app in (web,db),!tier", []string{"a/x", "a/y"}},
		{"a", "", []string{"a/x", "a/y"}},
		{"a", "app!=db", []string{"a/x"}},
		{"b", "app=db", []string{}},
		{"none", "", []string{}},
	}
	for _, tt := range tests {
		var got []*widget
		var err error
		if tt.namespace == "" {
			got, err = l.List(tt.selector)
		} else {
			got, err = l.ByNamespace(tt.namespace).List(tt.selector)
		}
		if err != nil {
			t.Fatalf("List(%q, %q): %v", tt.namespace, tt.selector, err)
		}
		if !slices.Equal(keys(got), tt.want) {
			t.Errorf("List(%q, %q) = %v, want %v", tt.namespace, tt.selector, keys(got), tt.want)
		}
	}
	if _, err := l.List("app in (web"); err == nil || meta.ReasonOf(err) == meta.ReasonInternalError {
		t.Errorf("bad selector error = %v, want a typed store error", err)
	}
	if w, ok := l.Get("a", "x"); !ok || w.Name != "x" {
		t.Errorf("Get(a, x) = %v, %v", w, ok)
	}
	if w, ok := l.ByNamespace("b").Get("z"); !ok || w.Name != "z" {
		t.Errorf("ByNamespace(b).Get(z) = %v, %v", w, ok)
	}
	if _, ok := l.Get("b", "x"); ok {
		t.Error("Get(b, x) found an object of another namespace")
	}
	if w, ok := l.GetByKey("a/y"); !ok || w.Name != "y" {
		t.Errorf("GetByKey(a/y) = %v, %v", w, ok)
	}
	objs, err := l.ByIndex("color", "red")
	if err != nil || !slices.Equal(keys(objs), []string{"a/x"}) {
		t.Errorf("ByIndex = %v, %v", keys(objs), err)
	}
	ks, err := l.IndexKeys("color", "red")
	if err != nil || !slices.Equal(ks, []string{"a/x"}) {
		t.Errorf("IndexKeys = %v, %v", ks, err)
	}
	if l.Len() != 3 {
		t.Errorf("Len = %d", l.Len())
	}
}

func TestCacheUpdateDoesNotAllocate(t *testing.T) {
	c := NewCache(CacheOptions[*widget]{})
	w1 := newWidget("default", "web", "1", nil)
	w2 := newWidget("default", "web", "2", nil)
	c.Add(w1)
	allocs := testing.AllocsPerRun(100, func() {
		c.Update(w2)
		c.Update(w1)
	})
	if allocs != 0 {
		t.Errorf("Update allocates %.1f times, want 0", allocs)
	}
}
