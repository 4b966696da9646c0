package layering_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/governor-io/governor/internal/layering"
)

const mod = "github.com/governor-io/governor"

// matches reports whether p is pattern, or lies under it when pattern ends
// in "/...".
func matches(p, pattern string) bool {
	if sub, ok := strings.CutSuffix(pattern, "/..."); ok {
		return p == sub || strings.HasPrefix(p, sub+"/")
	}
	return p == pattern
}

func matchesAny(p string, patterns []string) bool {
	return slices.ContainsFunc(patterns, func(pat string) bool { return matches(p, pat) })
}

// The dependency rules of this module. Deps lists packages outside the
// module without following them, so a rule that must keep an external
// module out lists, in external, the only external packages it allows.
var rules = []struct {
	pkg string
	// ours, when set, lists every package of this module it may reach.
	ours []string
	// external, when set, lists every package outside it that it may reach.
	external []string
	// never lists what it must not reach.
	never []string
	why   string
}{
	{
		pkg:      mod + "/store/meta",
		ours:     []string{mod + "/clock/..."},
		external: []string{},
		why:      "the object types are a leaf that every reader of objects may import",
	},
	{
		pkg:      mod + "/store/kv",
		ours:     []string{},
		external: []string{},
		why:      "the KV contract is a leaf that every engine and client implements",
	},
	{
		pkg:  mod + "/workqueue",
		ours: []string{mod + "/clock/..."},
		why:  "the README promises that workqueue imports nothing else of ours",
	},
	{
		pkg:      mod + "/raft/client",
		ours:     []string{mod + "/clock/...", mod + "/store/kv", mod + "/raft/rafterr"},
		external: []string{},
		why:      "a client binary must not link etcd raft, protobuf, the WAL or the engine",
	},
	{
		pkg:      mod + "/raft/rafterr",
		ours:     []string{},
		external: []string{},
		why:      "the errors clients share with members are a leaf",
	},
	{
		pkg:   mod + "/raft/snap",
		never: []string{mod + "/raft/wal/..."},
		why:   "the snapshot store shares the WAL's file system (raft/diskfs), not the WAL",
	},
	{
		pkg:      mod + "/raft/diskfs",
		ours:     []string{},
		external: []string{},
		why:      "the file system of the Raft storage is a leaf",
	},
	{
		pkg:   mod + "/informer",
		never: []string{mod + "/store", mod + "/store/mvcc/...", mod + "/raft/..."},
		why:   "an informer needs the object types, not the store that keeps them",
	},
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestDependencyRules(t *testing.T) {
	root := moduleRoot(t)
	for _, r := range rules {
		t.Run(strings.TrimPrefix(r.pkg, mod+"/"), func(t *testing.T) {
			deps, err := layering.Deps(root, r.pkg)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range deps {
				allowed := r.external
				if matches(d, mod+"/...") {
					allowed = r.ours
				}
				if allowed != nil && !matchesAny(d, allowed) {
					t.Errorf("%s reaches %s, outside %q: %s", r.pkg, d, allowed, r.why)
				}
				if matchesAny(d, r.never) {
					t.Errorf("%s reaches %s: %s", r.pkg, d, r.why)
				}
			}
		})
	}
}

// writeModule lays out a module from a map of file path to contents.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDepsFollowsTheModuleOnly(t *testing.T) {
	root := writeModule(t, map[string]string{
		"go.mod":       "module example.com/m\n\ngo 1.26\n",
		"a/a.go":       "package a\n\nimport (\n\t\"fmt\"\n\t_ \"example.com/m/b\"\n)\n\nvar _ = fmt.Sprint\n",
		"a/a_test.go":  "package a\n\nimport _ \"example.com/m/t\"\n",
		"b/b.go":       "package b\n\nimport _ \"example.org/ext/x\"\nimport _ \"example.com/m/c\"\n",
		"b/ignored.go": "//go:build never\n\npackage b\n\nimport _ \"example.com/m/ignored\"\n",
		"c/c.go":       "package c\n\nimport _ \"example.com/m/b\"\n", // a cycle ends
		"t/t.go":       "package t\n",
	})
	got, err := layering.Deps(root, "example.com/m/a")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"example.com/m/b", "example.com/m/c", "example.org/ext/x"}
	if !slices.Equal(got, want) {
		t.Fatalf("Deps = %q, want %q (no std, no test or constrained-out files, externals listed)", got, want)
	}
}

func TestDepsErrors(t *testing.T) {
	if _, err := layering.Deps(t.TempDir(), "example.com/m/a"); err == nil {
		t.Error("no go.mod: no error")
	}
	root := writeModule(t, map[string]string{"go.mod": "go 1.26\n"})
	if _, err := layering.Deps(root, "example.com/m/a"); err == nil {
		t.Error("no module line: no error")
	}
	root = writeModule(t, map[string]string{
		"go.mod": "module example.com/m\n",
		"a/a.go": "package a\n\nimport _ \"example.com/m/missing\"\n",
	})
	if _, err := layering.Deps(root, "example.com/m/a"); err == nil {
		t.Error("missing package: no error")
	}
}

func TestMatches(t *testing.T) {
	for _, tc := range []struct {
		p, pattern string
		want       bool
	}{
		{mod + "/store", mod + "/store", true},
		{mod + "/store/meta", mod + "/store", false},
		{mod + "/store/meta", mod + "/store/...", true},
		{mod + "/store", mod + "/store/...", true},
		{mod + "/storex", mod + "/store/...", false},
	} {
		if got := matches(tc.p, tc.pattern); got != tc.want {
			t.Errorf("matches(%s, %s) = %v", tc.p, tc.pattern, got)
		}
	}
}
