package informer

import (
	"fmt"
	"slices"
	"testing"
)

// FuzzCacheOps runs random Add, Delete and Replace sequences against the
// cache and checks its keys, namespace index and named index against a
// plain map after every step.
func FuzzCacheOps(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7})
	f.Add([]byte{0x10, 0x21, 0x32, 0xc3, 0x10, 0x54})
	f.Add([]byte{0xff, 0x00, 0x80, 0x7f, 0xc0, 0xc1, 0xc2})
	f.Fuzz(func(t *testing.T, ops []byte) {
		c := NewCache(CacheOptions[*widget]{Indexers: map[string]IndexFunc[*widget]{"color": byColor}})
		model := map[string]*widget{}
		mk := func(b byte) *widget {
			colors := []string{"red", "blue", ""}
			var labels map[string]string
			if col := colors[int(b>>5)%3]; col != "" {
				labels = map[string]string{"color": col}
			}
			return newWidget(fmt.Sprintf("ns%d", b&1), fmt.Sprintf("w%d", (b>>1)&7), "", labels)
		}
		for i, op := range ops {
			switch op >> 6 {
			case 0, 1:
				w := mk(op)
				c.Add(w)
				model[w.Key()] = w
			case 2:
				w := mk(op)
				c.Delete(w)
				delete(model, w.Key())
			case 3:
				// Replace with the next few bytes as the new content.
				n := int(op & 7)
				items := []*widget{}
				clear(model)
				for j := 1; j <= n && i+j < len(ops); j++ {
					w := mk(ops[i+j])
					items = append(items, w)
					model[w.Key()] = w
				}
				c.Replace(items, "")
			}
			checkCache(t, c, model)
		}
	})
}

func checkCache(t *testing.T, c *Cache[*widget], model map[string]*widget) {
	t.Helper()
	var want []string
	byCol := map[string][]string{}
	byNS := map[string][]string{}
	for k, w := range model {
		want = append(want, k)
		for _, v := range byColor(w) {
			byCol[v] = append(byCol[v], k)
		}
		byNS[w.Namespace] = append(byNS[w.Namespace], k)
	}
	slices.Sort(want)
	got := c.ListKeys()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("keys = %v, want %v", got, want)
	}
	for k, w := range model {
		if g, ok := c.Get(k); !ok || g != w {
			t.Fatalf("Get(%s) = %v, %v; want %v", k, g, ok, w)
		}
	}
	for _, col := range []string{"red", "blue"} {
		ks, _ := c.IndexKeys("color", col)
		slices.Sort(ks)
		w := byCol[col]
		slices.Sort(w)
		if !slices.Equal(ks, w) && (len(ks) != 0 || len(w) != 0) {
			t.Fatalf("index color=%s = %v, want %v", col, ks, w)
		}
	}
	for _, ns := range []string{"ns0", "ns1"} {
		ks := keys(c.listNamespace(ns, func(*widget) bool { return true }))
		w := byNS[ns]
		slices.Sort(w)
		if !slices.Equal(ks, w) && (len(ks) != 0 || len(w) != 0) {
			t.Fatalf("namespace %s = %v, want %v", ns, ks, w)
		}
	}
}
