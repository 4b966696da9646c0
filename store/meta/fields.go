package meta

import (
	"fmt"
	"strings"
)

// FieldSelector selects objects by the values of named fields, such as
// metadata.name or spec.nodeName. Parse one with [ParseFieldSelector]. A
// FieldSelector is immutable and safe for concurrent use.
type FieldSelector interface {
	// Matches reports whether the object whose fields are looked up by
	// fields satisfies every requirement. A field that fields does not
	// know has the value "".
	Matches(fields func(field string) (string, bool)) bool
	// String returns the selector in canonical syntax, escaped so that
	// parsing it gives an equal selector.
	String() string
	// Empty reports whether the selector has no requirements.
	Empty() bool
}

// FieldRequirement is one clause of a field selector, such as
// "spec.nodeName!=".
type FieldRequirement struct {
	Field string
	// Operator is OpEquals, OpDoubleEquals or OpNotEquals.
	Operator SelectionOperator
	Value    string
}

// Matches reports whether the field value v (with ok false when the object
// has no such field, which counts as "") satisfies the requirement.
func (r FieldRequirement) matches(v string) bool {
	if r.Operator == OpNotEquals {
		return v != r.Value
	}
	return v == r.Value
}

// String returns the requirement in selector syntax, with the value
// escaped.
func (r FieldRequirement) String() string {
	return r.Field + string(r.Operator) + escapeFieldValue(r.Value)
}

type fieldSelector []FieldRequirement

func (s fieldSelector) Matches(fields func(string) (string, bool)) bool {
	for _, r := range s {
		v, _ := fields(r.Field)
		if !r.matches(v) {
			return false
		}
	}
	return true
}

func (s fieldSelector) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

func (s fieldSelector) Empty() bool { return len(s) == 0 }

// Requirements returns a copy of the selector's requirements in the order
// they were written.
func (s fieldSelector) Requirements() []FieldRequirement {
	return append([]FieldRequirement(nil), s...)
}

// ParseFieldSelector parses a field selector in Kubernetes' syntax: a
// comma-separated list of "field=value", "field==value" or "field!=value".
// In a value, '\' escapes ',', '=' and '\' itself. A field name is a
// non-empty run of letters, digits, '.', '_', '-' and '/'. The empty string
// selects everything. Whether a field is supported is for the Store to say
// (see [Resource.Fields]); bad syntax gets an Invalid [*StatusError] whose
// Cause names the field "fieldSelector".
func ParseFieldSelector(s string) (FieldSelector, error) {
	if s == "" {
		return fieldSelector(nil), nil
	}
	var sel fieldSelector
	for _, term := range splitUnescaped(s, ',') {
		r, err := parseFieldTerm(s, term)
		if err != nil {
			return nil, err
		}
		sel = append(sel, r)
	}
	return sel, nil
}

// splitUnescaped splits s at each sep that no backslash escapes.
func splitUnescaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func parseFieldTerm(src, term string) (FieldRequirement, error) {
	fail := func(msg string) error { return selectorError("fieldSelector", src, msg) }
	if term == "" {
		return FieldRequirement{}, fail("empty requirement")
	}
	for i := 0; i < len(term); i++ {
		if term[i] == '\\' {
			i++
			continue
		}
		var op SelectionOperator
		switch {
		case strings.HasPrefix(term[i:], "!="):
			op = OpNotEquals
		case strings.HasPrefix(term[i:], "=="):
			op = OpDoubleEquals
		case term[i] == '=':
			op = OpEquals
		default:
			continue
		}
		field := term[:i]
		if msg := checkFieldName(field); msg != "" {
			return FieldRequirement{}, fail(fmt.Sprintf("invalid field name %q: %s", field, msg))
		}
		val, err := unescapeFieldValue(term[i+len(op):])
		if err != "" {
			return FieldRequirement{}, fail(err)
		}
		return FieldRequirement{Field: field, Operator: op, Value: val}, nil
	}
	return FieldRequirement{}, fail(fmt.Sprintf("%q has no operator (=, == or !=)", term))
}

func checkFieldName(f string) string {
	if f == "" {
		return "must be non-empty"
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if !isAlnum(c) && c != '.' && c != '_' && c != '-' && c != '/' {
			return "must consist of alphanumeric characters, '.', '_', '-' or '/'"
		}
	}
	return ""
}

func unescapeFieldValue(v string) (string, string) {
	if !strings.ContainsRune(v, '\\') {
		if strings.ContainsAny(v, ",=") {
			return "", fmt.Sprintf("value %q has an unescaped ',' or '='", v)
		}
		return v, ""
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch c {
		case '\\':
			if i+1 >= len(v) {
				return "", fmt.Sprintf("value %q ends with an unfinished escape", v)
			}
			i++
			switch v[i] {
			case '\\', ',', '=':
				b.WriteByte(v[i])
			default:
				return "", fmt.Sprintf("value %q has an invalid escape \\%c", v, v[i])
			}
		case ',', '=':
			return "", fmt.Sprintf("value %q has an unescaped '%c'", v, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ""
}

func escapeFieldValue(v string) string {
	if !strings.ContainsAny(v, `\,=`) {
		return v
	}
	return strings.NewReplacer(`\`, `\\`, `,`, `\,`, `=`, `\=`).Replace(v)
}
