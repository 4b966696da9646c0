package corev1

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
)

// ResourceList maps resource names ("cpu", "memory", "pods", ...) to
// quantities.
type ResourceList map[string]Quantity

// Quantity is an amount of a resource in Kubernetes' notation: a decimal
// number with an optional SI suffix (m, k, M, G, T, P, E), binary suffix
// (Ki, Mi, Gi, Ti, Pi, Ei) or exponent (e3), such as "100m", "1.5Gi" or
// "2". It is kept as the string it was given; [Quantity.MilliValue] and
// [Quantity.Value] read it.
type Quantity string

// UnmarshalJSON accepts a string or, as Kubernetes does, a bare number.
func (q *Quantity) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*q = Quantity(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("quantity must be a string or a number: %w", err)
	}
	*q = Quantity(n.String())
	return nil
}

var suffixes = map[string]*big.Rat{
	"n": big.NewRat(1, 1_000_000_000), "u": big.NewRat(1, 1_000_000), "m": big.NewRat(1, 1000), "": big.NewRat(1, 1),
	"k": big.NewRat(1e3, 1), "M": big.NewRat(1e6, 1), "G": big.NewRat(1e9, 1), "T": big.NewRat(1e12, 1),
	"P": big.NewRat(1e15, 1), "E": big.NewRat(1e18, 1),
	"Ki": big.NewRat(1<<10, 1), "Mi": big.NewRat(1<<20, 1), "Gi": big.NewRat(1<<30, 1), "Ti": big.NewRat(1<<40, 1),
	"Pi": big.NewRat(1<<50, 1), "Ei": big.NewRat(1<<60, 1),
}

// rat parses q into an exact rational number.
func (q Quantity) rat() (*big.Rat, error) {
	s := strings.TrimSpace(string(q))
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || s[end] == '+' || s[end] == '-') {
		end++
	}
	num, suffix := s[:end], s[end:]
	if num == "" {
		return nil, fmt.Errorf("quantity %q: no number", string(q))
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return nil, fmt.Errorf("quantity %q: bad number", string(q))
	}
	if mult, ok := suffixes[suffix]; ok {
		return r.Mul(r, mult), nil
	}
	if len(suffix) > 1 && (suffix[0] == 'e' || suffix[0] == 'E') {
		exp, ok := new(big.Rat).SetString("1" + suffix)
		if ok {
			return r.Mul(r, exp), nil
		}
	}
	return nil, fmt.Errorf("quantity %q: unknown suffix %q", string(q), suffix)
}

// MilliValue returns q in thousandths, rounded up ("100m" is 100, "2" is
// 2000): the unit CPU is counted in.
func (q Quantity) MilliValue() (int64, error) {
	r, err := q.rat()
	if err != nil {
		return 0, err
	}
	return ceil(r.Mul(r, big.NewRat(1000, 1))), nil
}

// Value returns q rounded up to a whole number ("1Ki" is 1024): the unit
// memory and pod counts are counted in.
func (q Quantity) Value() (int64, error) {
	r, err := q.rat()
	if err != nil {
		return 0, err
	}
	return ceil(r), nil
}

func ceil(r *big.Rat) int64 {
	n, d := r.Num(), r.Denom()
	quo, rem := new(big.Int).QuoRem(n, d, new(big.Int))
	if rem.Sign() > 0 {
		quo.Add(quo, big.NewInt(1))
	}
	return quo.Int64()
}
