// Package layering reads the import graph of a Go module's packages from
// their source, without the go command or a module cache, so that a test can
// lock in which packages may depend on which (see layering_test.go for the
// rules of this module).
package layering

import (
	"bufio"
	"errors"
	"fmt"
	"go/build"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ErrNoModule is returned when a directory holds no go.mod with a module
// line.
var ErrNoModule = errors.New("layering: no module path in go.mod")

// Deps returns, sorted, every import path that the non-test Go files of
// the package pkg reach, directly or through other packages of the module
// rooted at root (the directory of its go.mod); pkg is a full import path.
// Packages of the module are followed; standard-library packages are left
// out; other packages are listed but not followed, since their source is
// not at hand. Build constraints are those of [build.Default].
func Deps(root, pkg string) ([]string, error) {
	mod, err := modulePath(root)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var walk func(p string) error
	walk = func(p string) error {
		rel, ok := strings.CutPrefix(p, mod)
		if !ok || (rel != "" && rel[0] != '/') {
			return nil // not in the module: listed, not followed
		}
		bp, err := build.Default.ImportDir(filepath.Join(root, filepath.FromSlash(rel)), 0)
		if err != nil {
			return fmt.Errorf("layering: read %s: %w", p, err)
		}
		for _, imp := range bp.Imports {
			if seen[imp] || isStd(imp) {
				continue
			}
			seen[imp] = true
			if err := walk(imp); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(pkg); err != nil {
		return nil, err
	}
	deps := make([]string, 0, len(seen))
	for p := range seen {
		deps = append(deps, p)
	}
	slices.Sort(deps)
	return deps, nil
}

// modulePath reads the module path from root/go.mod.
func modulePath(root string) (string, error) {
	f, err := os.Open(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("layering: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("layering: read go.mod: %w", err)
	}
	return "", fmt.Errorf("%w %s", ErrNoModule, root)
}

// isStd reports whether an import path names a standard-library package:
// its first element has no dot.
func isStd(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	return !strings.Contains(first, ".")
}
