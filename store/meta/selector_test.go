package meta_test

import (
	"errors"
	"testing"

	"github.com/governor-io/governor/store/meta"
)

func TestLabelSelectorMatches(t *testing.T) {
	labels := map[string]string{"app": "web", "tier": "front", "n": "7", "example.com/team": "a"}
	tests := []struct {
		sel  string
		want bool
	}{
		{"", true},
		{"app", true},
		{"missing", false},
		{"!missing", true},
		{"!app", false},
		{"app=web", true},
		{"app==web", true},
		{"app=db", false},
		{"app!=db", true},
		{"app!=web", false},
		{"missing!=x", true},
		{"tier in (front,back)", true},
		{"tier in (back)", false},
		{"missing in (x)", false},
		{"tier notin (back)", true},
		{"tier notin (front, back)", false},
		{"missing notin (x)", true},
		{"n>5", true},
		{"n<5", false},
		{"app>5", false},
		{"example.com/team=a", true},
		{" app = web , tier in ( front ) ", true},
		{"app=web,tier=back", false},
		{"app in (web),!legacy,tier", true},
		{"app=", false},
		{"app in (web,)", true},
	}
	for _, tt := range tests {
		sel, err := meta.ParseLabelSelector(tt.sel)
		if err != nil {
			t.Fatalf("ParseLabelSelector(%q): %v", tt.sel, err)
		}
		if got := sel.Matches(labels); got != tt.want {
			t.Errorf("%q.Matches = %v, want %v", tt.sel, got, tt.want)
		}
		again, err := meta.ParseLabelSelector(sel.String())
		if err != nil || again.String() != sel.String() {
			t.Errorf("String %q of %q does not round-trip: %v %q", sel.String(), tt.sel, err, again)
		}
		if sel.Empty() != (tt.sel == "") {
			t.Errorf("%q.Empty() = %v", tt.sel, sel.Empty())
		}
	}
}

func TestLabelSelectorCanonicalString(t *testing.T) {
	sel, err := meta.ParseLabelSelector("tier notin (b,a,a),app==web,!x,y,n>3")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sel.String(), "app==web,n>3,tier notin (a,b),!x,y"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

func TestLabelSelectorRejectsBadInput(t *testing.T) {
	for _, s := range []string{
		",", "app=web,", "=web", "app=web=x", "app in web", "app in (a", "app in (a b)",
		"app notin", "!", "!app=web", "-app=web", "app=-web", "app=a b", "a/b/c=x",
		"Example.com/x=y", "app>x", "app<", "app)", "app in ()x", "x=" + string(make([]byte, 64)),
		"app=" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	} {
		_, err := meta.ParseLabelSelector(s)
		if !errors.Is(err, meta.ErrInvalid) {
			t.Errorf("ParseLabelSelector(%q) = %v, want an Invalid error", s, err)
			continue
		}
		var se *meta.StatusError
		if !errors.As(err, &se) || len(se.Causes) != 1 || se.Causes[0].Field != "labelSelector" {
			t.Errorf("ParseLabelSelector(%q): causes %+v, want one naming labelSelector", s, se.Causes)
		}
	}
}

func TestLabelSelectorFromSet(t *testing.T) {
	sel, err := meta.LabelSelectorFromSet(map[string]string{"b": "2", "a": "1"})
	if err != nil {
		t.Fatal(err)
	}
	if sel.String() != "a=1,b=2" || !sel.Matches(map[string]string{"a": "1", "b": "2", "c": "3"}) || sel.Matches(map[string]string{"a": "1"}) {
		t.Fatalf("LabelSelectorFromSet gave %q with wrong matches", sel)
	}
	if _, err := meta.LabelSelectorFromSet(map[string]string{"a": "bad value"}); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("bad value: err = %v, want Invalid", err)
	}
}

func TestFieldSelector(t *testing.T) {
	fields := map[string]string{"metadata.name": "web", "spec.nodeName": "", "spec.x": "a,b=c\\"}
	get := func(f string) (string, bool) { v, ok := fields[f]; return v, ok }
	tests := []struct {
		sel  string
		want bool
	}{
		{"", true},
		{"metadata.name=web", true},
		{"metadata.name==web", true},
		{"metadata.name!=web", false},
		{"metadata.name=db", false},
		{"spec.nodeName=", true},
		{"spec.nodeName!=", false},
		{"spec.unknown=", true},
		{`spec.x=a\,b\=c\\`, true},
		{"metadata.name=web,spec.nodeName!=", false},
	}
	for _, tt := range tests {
		sel, err := meta.ParseFieldSelector(tt.sel)
		if err != nil {
			t.Fatalf("ParseFieldSelector(%q): %v", tt.sel, err)
		}
		if got := sel.Matches(get); got != tt.want {
			t.Errorf("%q.Matches = %v, want %v", tt.sel, got, tt.want)
		}
		again, err := meta.ParseFieldSelector(sel.String())
		if err != nil || again.String() != sel.String() || again.Matches(get) != tt.want {
			t.Errorf("String %q of %q does not round-trip: %v", sel.String(), tt.sel, err)
		}
	}
	for _, bad := range []string{",", "a=b,", "noop", "=x", "a=b=c", `a=b\`, `a=\x`, "a b=c", "a=b,,c=d"} {
		if _, err := meta.ParseFieldSelector(bad); !errors.Is(err, meta.ErrInvalid) {
			t.Errorf("ParseFieldSelector(%q) = %v, want Invalid", bad, err)
		}
	}
}

func FuzzParseLabelSelector(f *testing.F) {
	for _, s := range []string{"", "app=web", "a in (x,y),!b,c!=d", "example.com/x notin (a)", "n>3", "a in (", "!!a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := meta.ParseLabelSelector(s)
		if err != nil {
			if !errors.Is(err, meta.ErrInvalid) {
				t.Fatalf("error %v is not Invalid", err)
			}
			return
		}
		again, err := meta.ParseLabelSelector(sel.String())
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", sel.String(), s, err)
		}
		if again.String() != sel.String() {
			t.Fatalf("canonical form not stable: %q then %q", sel.String(), again.String())
		}
		sel.Matches(map[string]string{"app": "web", "a": "x"})
	})
}

func FuzzParseFieldSelector(f *testing.F) {
	for _, s := range []string{"", "metadata.name=web", `spec.x!=a\,b`, "a==b,c=d", `a=\`, "a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := meta.ParseFieldSelector(s)
		if err != nil {
			if !errors.Is(err, meta.ErrInvalid) {
				t.Fatalf("error %v is not Invalid", err)
			}
			return
		}
		again, err := meta.ParseFieldSelector(sel.String())
		if err != nil || again.String() != sel.String() {
			t.Fatalf("canonical form %q of %q does not round-trip: %v", sel.String(), s, err)
		}
		get := func(string) (string, bool) { return "v", true }
		if sel.Matches(get) != again.Matches(get) {
			t.Fatalf("canonical form matches differently")
		}
	})
}
