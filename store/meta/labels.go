package meta

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// LabelSelector selects objects by their labels. Parse one from Kubernetes'
// syntax with [ParseLabelSelector]. A LabelSelector is immutable and safe
// for concurrent use.
type LabelSelector interface {
	// Matches reports whether labels satisfy every requirement.
	Matches(labels map[string]string) bool
	// String returns the selector in canonical syntax: requirements sorted
	// by key, set values sorted. Parsing it gives an equal selector.
	String() string
	// Empty reports whether the selector has no requirements and so
	// matches everything.
	Empty() bool
}

// SelectionOperator is the operator of one label or field requirement.
type SelectionOperator string

// The operators of label and field selectors.
const (
	OpEquals       SelectionOperator = "="
	OpDoubleEquals SelectionOperator = "=="
	OpNotEquals    SelectionOperator = "!="
	OpIn           SelectionOperator = "in"
	OpNotIn        SelectionOperator = "notin"
	OpExists       SelectionOperator = "exists"
	OpDoesNotExist SelectionOperator = "!"
	OpGreaterThan  SelectionOperator = "gt"
	OpLessThan     SelectionOperator = "lt"
)

// LabelRequirement is one clause of a label selector, such as
// "tier in (back,front)".
type LabelRequirement struct {
	Key      string
	Operator SelectionOperator
	// Values is sorted and holds one value for =, == and !=, one or more
	// for in and notin, one integer for gt and lt, none for exists and !.
	Values []string
}

// Matches reports whether labels satisfy the requirement. As in
// Kubernetes, != and notin hold for an object without the label.
func (r LabelRequirement) Matches(labels map[string]string) bool {
	v, ok := labels[r.Key]
	switch r.Operator {
	case OpExists:
		return ok
	case OpDoesNotExist:
		return !ok
	case OpEquals, OpDoubleEquals, OpIn:
		return ok && slices.Contains(r.Values, v)
	case OpNotEquals, OpNotIn:
		return !ok || !slices.Contains(r.Values, v)
	case OpGreaterThan, OpLessThan:
		if !ok {
			return false
		}
		have, err1 := strconv.ParseInt(v, 10, 64)
		want, err2 := strconv.ParseInt(r.Values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if r.Operator == OpGreaterThan {
			return have > want
		}
		return have < want
	}
	return false
}

// String returns the requirement in selector syntax.
func (r LabelRequirement) String() string {
	switch r.Operator {
	case OpExists:
		return r.Key
	case OpDoesNotExist:
		return "!" + r.Key
	case OpIn, OpNotIn:
		return r.Key + " " + string(r.Operator) + " (" + strings.Join(r.Values, ",") + ")"
	case OpGreaterThan:
		return r.Key + ">" + r.Values[0]
	case OpLessThan:
		return r.Key + "<" + r.Values[0]
	default:
		return r.Key + string(r.Operator) + r.Values[0]
	}
}

// labelSelector is the parsed form; requirements are sorted by key.
type labelSelector []LabelRequirement

func (s labelSelector) Matches(labels map[string]string) bool {
	for _, r := range s {
		if !r.Matches(labels) {
			return false
		}
	}
	return true
}

func (s labelSelector) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

func (s labelSelector) Empty() bool { return len(s) == 0 }

// Requirements returns a copy of the selector's requirements, sorted by key.
func (s labelSelector) Requirements() []LabelRequirement {
	out := make([]LabelRequirement, len(s))
	for i, r := range s {
		r.Values = slices.Clone(r.Values)
		out[i] = r
	}
	return out
}

// LabelSelectorFromSet returns the selector that matches objects carrying
// every label in set with the same value ("k1=v1,k2=v2"). It returns an
// Invalid error if a key or value is not a valid label key or value.
func LabelSelectorFromSet(set map[string]string) (LabelSelector, error) {
	sel := make(labelSelector, 0, len(set))
	for _, k := range slices.Sorted(maps.Keys(set)) {
		if msg := CheckLabelKey(k); msg != "" {
			return nil, selectorError("labelSelector", k, msg)
		}
		if msg := CheckLabelValue(set[k]); msg != "" {
			return nil, selectorError("labelSelector", set[k], msg)
		}
		sel = append(sel, LabelRequirement{Key: k, Operator: OpEquals, Values: []string{set[k]}})
	}
	return sel, nil
}

// ParseLabelSelector parses a label selector in Kubernetes' syntax: a
// comma-separated list of requirements, each one of
//
//	key          the label exists
//	!key         the label does not exist
//	key=value    (or key==value) the label has this value
//	key!=value   the label is absent or has another value
//	key in (v1,v2)     the label has one of these values
//	key notin (v1,v2)  the label is absent or has none of these values
//	key>5, key<5       the label is an integer greater or smaller
//
// Keys are qualified names ("app", "example.com/tier"); values are empty
// or at most 63 characters of letters, digits, '-', '_' and '.', starting
// and ending with a letter or digit. The empty string selects everything.
// Bad input gets an Invalid [*StatusError] whose Cause names the field
// "labelSelector".
func ParseLabelSelector(s string) (LabelSelector, error) {
	p := &labelParser{src: s}
	sel, err := p.parse()
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(sel, func(a, b LabelRequirement) int { return strings.Compare(a.Key, b.Key) })
	return sel, nil
}

type labelParser struct {
	src string
	pos int
}

// token kinds of the label selector lexer.
const (
	tokEnd = iota
	tokIdent
	tokComma
	tokOpen
	tokClose
	tokNot   // !
	tokEq    // =
	tokDEq   // ==
	tokNotEq // !=
	tokGT    // >
	tokLT    // <
)

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isSpecial(c byte) bool {
	switch c {
	case ',', '(', ')', '!', '=', '<', '>':
		return true
	}
	return isSpace(c)
}

// next returns the next token and its text, consuming it.
func (p *labelParser) next() (int, string) {
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
	if p.pos >= len(p.src) {
		return tokEnd, ""
	}
	c := p.src[p.pos]
	two := ""
	if p.pos+1 < len(p.src) {
		two = p.src[p.pos : p.pos+2]
	}
	switch {
	case two == "==":
		p.pos += 2
		return tokDEq, two
	case two == "!=":
		p.pos += 2
		return tokNotEq, two
	}
	p.pos++
	switch c {
	case ',':
		return tokComma, ","
	case '(':
		return tokOpen, "("
	case ')':
		return tokClose, ")"
	case '!':
		return tokNot, "!"
	case '=':
		return tokEq, "="
	case '>':
		return tokGT, ">"
	case '<':
		return tokLT, "<"
	}
	start := p.pos - 1
	for p.pos < len(p.src) && !isSpecial(p.src[p.pos]) {
		p.pos++
	}
	return tokIdent, p.src[start:p.pos]
}

func (p *labelParser) peek() (int, string) {
	save := p.pos
	t, s := p.next()
	p.pos = save
	return t, s
}

func (p *labelParser) fail(format string, args ...any) error {
	return selectorError("labelSelector", p.src, fmt.Sprintf(format, args...)+fmt.Sprintf(" at position %d", p.pos))
}

func (p *labelParser) parse() (labelSelector, error) {
	var sel labelSelector
	if t, _ := p.peek(); t == tokEnd {
		return sel, nil
	}
	for {
		r, err := p.requirement()
		if err != nil {
			return nil, err
		}
		sel = append(sel, r)
		switch t, text := p.next(); t {
		case tokEnd:
			return sel, nil
		case tokComma:
		default:
			return nil, p.fail("expected ',' or end of selector, found %q", text)
		}
	}
}

func (p *labelParser) key() (string, error) {
	t, text := p.next()
	if t != tokIdent {
		return "", p.fail("expected a label key, found %q", text)
	}
	if msg := CheckLabelKey(text); msg != "" {
		return "", p.fail("invalid label key %q: %s", text, msg)
	}
	return text, nil
}

func (p *labelParser) value() (string, error) {
	// An empty value is allowed: "a=" and "a in (x,)".
	if t, _ := p.peek(); t != tokIdent {
		return "", nil
	}
	_, text := p.next()
	if msg := CheckLabelValue(text); msg != "" {
		return "", p.fail("invalid label value %q: %s", text, msg)
	}
	return text, nil
}

func (p *labelParser) requirement() (LabelRequirement, error) {
	if t, _ := p.peek(); t == tokNot {
		p.next()
		k, err := p.key()
		if err != nil {
			return LabelRequirement{}, err
		}
		return LabelRequirement{Key: k, Operator: OpDoesNotExist}, nil
	}
	k, err := p.key()
	if err != nil {
		return LabelRequirement{}, err
	}
	t, text := p.peek()
	switch t {
	case tokEnd, tokComma:
		return LabelRequirement{Key: k, Operator: OpExists}, nil
	case tokEq, tokDEq, tokNotEq:
		p.next()
		v, err := p.value()
		if err != nil {
			return LabelRequirement{}, err
		}
		op := map[int]SelectionOperator{tokEq: OpEquals, tokDEq: OpDoubleEquals, tokNotEq: OpNotEquals}[t]
		return LabelRequirement{Key: k, Operator: op, Values: []string{v}}, nil
	case tokGT, tokLT:
		p.next()
		nt, num := p.next()
		if nt != tokIdent {
			return LabelRequirement{}, p.fail("expected an integer after %q, found %q", text, num)
		}
		if _, err := strconv.ParseInt(num, 10, 64); err != nil {
			return LabelRequirement{}, p.fail("%q is not an integer", num)
		}
		op := OpGreaterThan
		if t == tokLT {
			op = OpLessThan
		}
		return LabelRequirement{Key: k, Operator: op, Values: []string{num}}, nil
	case tokIdent:
		if text != "in" && text != "notin" {
			return LabelRequirement{}, p.fail("expected an operator after %q, found %q", k, text)
		}
		p.next()
		vals, err := p.set()
		if err != nil {
			return LabelRequirement{}, err
		}
		return LabelRequirement{Key: k, Operator: SelectionOperator(text), Values: vals}, nil
	default:
		return LabelRequirement{}, p.fail("expected an operator after %q, found %q", k, text)
	}
}

func (p *labelParser) set() ([]string, error) {
	if t, text := p.next(); t != tokOpen {
		return nil, p.fail("expected '(', found %q", text)
	}
	var vals []string
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
		switch t, text := p.next(); t {
		case tokClose:
			slices.Sort(vals)
			return slices.Compact(vals), nil
		case tokComma:
		default:
			return nil, p.fail("expected ',' or ')' in value set, found %q", text)
		}
	}
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// checkLabelName checks the name part of a label key, and label values:
// at most 63 of [A-Za-z0-9_.-], beginning and ending alphanumeric.
func checkLabelName(s string) string {
	if len(s) > 63 {
		return "must be no more than 63 characters"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return "must consist of alphanumeric characters, '-', '_' or '.'"
		}
	}
	if s != "" && (!isAlnum(s[0]) || !isAlnum(s[len(s)-1])) {
		return "must start and end with an alphanumeric character"
	}
	return ""
}

// CheckLabelValue returns why v is not a valid label value, or "" when it
// is: at most 63 of [A-Za-z0-9_.-], beginning and ending alphanumeric, or
// empty.
func CheckLabelValue(v string) string { return checkLabelName(v) }

// CheckLabelKey returns why k is not a valid label key (also the rule for
// annotation keys and finalizer names), or "" when it is: a qualified name,
// [DNS-subdomain "/"] name.
func CheckLabelKey(k string) string {
	name := k
	if i := strings.IndexByte(k, '/'); i >= 0 {
		prefix := k[:i]
		name = k[i+1:]
		if msg := checkDNSSubdomain(prefix); msg != "" {
			return "prefix part " + msg
		}
	}
	if name == "" {
		return "name part must be non-empty"
	}
	if msg := checkLabelName(name); msg != "" {
		return "name part " + msg
	}
	return ""
}

// checkDNSSubdomain checks an RFC 1123 subdomain: lowercase alphanumeric
// labels of '-' joined by '.', at most 253 characters.
func checkDNSSubdomain(s string) string {
	if s == "" {
		return "must be non-empty"
	}
	if len(s) > 253 {
		return "must be no more than 253 characters"
	}
	for _, label := range strings.Split(s, ".") {
		if msg := checkDNSLabel(label, 253); msg != "" {
			return "must be a lowercase RFC 1123 subdomain (" + msg + ")"
		}
	}
	return ""
}

// CheckDNSLabel returns why s is not a valid RFC 1123 label of at most 63
// characters (the rule for namespaces), or "" when it is.
func CheckDNSLabel(s string) string { return checkDNSLabel(s, 63) }

// checkDNSLabel checks an RFC 1123 label: lowercase alphanumerics and '-',
// beginning and ending alphanumeric, at most max characters.
func checkDNSLabel(s string, max int) string {
	if s == "" {
		return "must be non-empty"
	}
	if len(s) > max {
		return fmt.Sprintf("must be no more than %d characters", max)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return "must consist of lowercase alphanumeric characters or '-'"
		}
	}
	if s[0] == '-' || s[len(s)-1] == '-' {
		return "must start and end with an alphanumeric character"
	}
	return ""
}

// selectorError is the Invalid error of a selector that does not parse.
func selectorError(field, value, msg string) *StatusError {
	return &StatusError{
		Reason:  ReasonInvalid,
		Message: fmt.Sprintf("invalid %s %q: %s", field, value, msg),
		Causes:  []Cause{{Field: field, Message: msg, Type: CauseTypeFieldValueInvalid}},
	}
}
