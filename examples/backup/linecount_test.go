package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// codeLines counts the lines of Go code in files: lines that are not
// blank, not only a comment, and not the package clause or an import.
func codeLines(t *testing.T, files ...string) int {
	t.Helper()
	n := 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		inImports := false
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			switch {
			case inImports:
				inImports = line != ")"
			case line == "import (":
				inImports = true
			case line == "", strings.HasPrefix(line, "//"), strings.HasPrefix(line, "package "), strings.HasPrefix(line, "import "):
			default:
				n++
			}
		}
		if err := errors.Join(sc.Err(), f.Close()); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// The issue-12 target: the operator takes at most a third of the lines it
// took before the builder and the helpers. Both sides count the code the
// operator's author writes besides the API types (types.go) and the demo
// (main.go): the wiring, the reconciler, and, before, the helpers the
// library lacked (testdata/prebuilder/helpers.go). README.md states the
// counts, and the repository's README the totals; this test keeps them
// true.
func TestOperatorIsAThirdOfThePreBuilderOne(t *testing.T) {
	now := codeLines(t, "operator.go")
	before := codeLines(t, "testdata/prebuilder/operator.go", "testdata/prebuilder/helpers.go")
	wiringNow, wiringBefore := funcLines(t, "operator.go", "Setup"), funcLines(t, "testdata/prebuilder/operator.go", "Setup")
	t.Logf("operator.go: %d lines (Setup %d); prebuilder: %d lines (Setup %d)", now, wiringNow, before, wiringBefore)
	if 3*now > before {
		t.Errorf("operator.go has %d lines, more than a third of the pre-builder operator's %d", now, before)
	}
	for file, wants := range map[string][]string{
		"README.md": {fmt.Sprintf("operator.go: %d lines", now), fmt.Sprintf("prebuilder: %d lines", before),
			fmt.Sprintf("%d lines of wiring", wiringNow), fmt.Sprintf("%d before", wiringBefore)},
		"../../README.md": {fmt.Sprintf("takes %d lines where the same operator took %d", now, before)},
	} {
		readme, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range wants {
			if !strings.Contains(string(readme), want) {
				t.Errorf("%s does not say %q", file, want)
			}
		}
	}
}

// funcLines counts the code lines of the function name in file, its
// signature and closing brace included.
func funcLines(t *testing.T, file, name string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	n, in := 0, false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "func "+name+"(") {
			in = true
		}
		if !in {
			continue
		}
		if trimmed := strings.TrimSpace(line); trimmed != "" && !strings.HasPrefix(trimmed, "//") {
			n++
		}
		if line == "}" {
			break
		}
	}
	return n
}

// README.md shows Setup as operator.go has it.
func TestREADMEShowsSetupAsItIs(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile("operator.go")
	if err != nil {
		t.Fatal(err)
	}
	_, snippet, ok := strings.Cut(string(readme), "```go\n")
	snippet, _, _ = strings.Cut(snippet, "```")
	if !ok || !strings.HasPrefix(snippet, "func Setup(") || !strings.Contains(string(code), snippet) {
		t.Errorf("README.md's Go snippet is not operator.go's Setup:\n%s", snippet)
	}
}
