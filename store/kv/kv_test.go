package kv

import "testing"

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct{ prefix, want string }{
		{"a", "b"},
		{"/pods/", "/pods0"},
		{"a\xff", "b"},
		{"\xff\xff", "\x00"},
		{"", "\x00"},
	} {
		if got := PrefixEnd(tc.prefix); got != tc.want {
			t.Errorf("PrefixEnd(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
}

func TestInRange(t *testing.T) {
	for _, tc := range []struct {
		key, start, end string
		want            bool
	}{
		{"a", "a", "", true},
		{"ab", "a", "", false},
		{"z", "a", "\x00", true},
		{"0", "a", "\x00", false},
		{"b", "a", "c", true},
		{"c", "a", "c", false},
	} {
		if got := InRange(tc.key, tc.start, tc.end); got != tc.want {
			t.Errorf("InRange(%q, %q, %q) = %v", tc.key, tc.start, tc.end, got)
		}
	}
}
