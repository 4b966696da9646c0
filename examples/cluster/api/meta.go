package api

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/governor-io/governor/store/meta"
)

// LabelSelector is a label query over a set of objects, with the JSON of
// Kubernetes' metav1.LabelSelector: a map of equality matches ANDed with
// set-based requirements. A nil or empty LabelSelector matches everything
// in the API types that say so (and nothing in those that say otherwise,
// such as a Deployment's selector, which is required).
type LabelSelector struct {
	// MatchLabels requires each key to have exactly this value.
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
	// MatchExpressions are set-based requirements.
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// LabelSelectorRequirement is one set-based requirement of a
// [LabelSelector]: Key, an operator (In, NotIn, Exists, DoesNotExist) and
// values.
type LabelSelectorRequirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
}

// The operators of a [LabelSelectorRequirement].
const (
	LabelSelectorOpIn           = "In"
	LabelSelectorOpNotIn        = "NotIn"
	LabelSelectorOpExists       = "Exists"
	LabelSelectorOpDoesNotExist = "DoesNotExist"
)

// String returns s in the selector syntax of a list's labelSelector
// parameter ("app=web,tier in (back,front)"), as a Scale's
// status.selector carries it. A nil s gives "".
func (s *LabelSelector) String() string {
	if s == nil {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s.MatchLabels)) {
		parts = append(parts, k+"="+s.MatchLabels[k])
	}
	for _, r := range s.MatchExpressions {
		vals := slices.Sorted(slices.Values(r.Values))
		switch r.Operator {
		case LabelSelectorOpIn:
			parts = append(parts, r.Key+" in ("+strings.Join(vals, ",")+")")
		case LabelSelectorOpNotIn:
			parts = append(parts, r.Key+" notin ("+strings.Join(vals, ",")+")")
		case LabelSelectorOpExists:
			parts = append(parts, r.Key)
		case LabelSelectorOpDoesNotExist:
			parts = append(parts, "!"+r.Key)
		default:
			parts = append(parts, r.Key+" "+r.Operator+" ("+strings.Join(vals, ",")+")")
		}
	}
	return strings.Join(parts, ",")
}

// Selector converts s to a [meta.LabelSelector]. A nil s selects nothing
// and an empty one everything, as Kubernetes' LabelSelectorAsSelector
// does; an unknown operator, an In or NotIn without values, or a bad key
// or value gives an Invalid error.
func (s *LabelSelector) Selector() (meta.LabelSelector, error) {
	if s == nil {
		return nothing{}, nil
	}
	for i, r := range s.MatchExpressions {
		switch r.Operator {
		case LabelSelectorOpIn, LabelSelectorOpNotIn:
			if len(r.Values) == 0 {
				return nil, meta.NewInvalid("", "", meta.Cause{Type: meta.CauseTypeFieldValueRequired,
					Field:   fmt.Sprintf("matchExpressions[%d].values", i),
					Message: "must be specified when `operator` is 'In' or 'NotIn'"})
			}
		case LabelSelectorOpExists, LabelSelectorOpDoesNotExist:
			if len(r.Values) > 0 {
				return nil, meta.NewInvalid("", "", meta.Cause{Type: meta.CauseTypeFieldValueForbidden,
					Field:   fmt.Sprintf("matchExpressions[%d].values", i),
					Message: "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"})
			}
		default:
			return nil, meta.NewInvalid("", "", meta.Cause{Type: meta.CauseTypeFieldValueNotSupported,
				Field:   fmt.Sprintf("matchExpressions[%d].operator", i),
				Message: fmt.Sprintf("Unsupported value: %q", r.Operator)})
		}
	}
	return meta.ParseLabelSelector(s.String())
}

// nothing is the selector of a nil [LabelSelector]: it matches no labels.
type nothing struct{}

func (nothing) Matches(map[string]string) bool { return false }
func (nothing) String() string                 { return "" }
func (nothing) Empty() bool                    { return false }

// IntOrString holds an int32 or a string, with the JSON of Kubernetes'
// intstr.IntOrString: a bare number or a bare string.
type IntOrString struct {
	// IsString tells which of IntVal and StrVal holds the value.
	IsString bool
	IntVal   int32
	StrVal   string
}

// FromInt returns an IntOrString holding i.
func FromInt(i int32) IntOrString { return IntOrString{IntVal: i} }

// FromString returns an IntOrString holding s.
func FromString(s string) IntOrString { return IntOrString{IsString: true, StrVal: s} }

// String returns the value as a string.
func (v IntOrString) String() string {
	if v.IsString {
		return v.StrVal
	}
	return strconv.Itoa(int(v.IntVal))
}

// MarshalJSON encodes v as a number or a string.
func (v IntOrString) MarshalJSON() ([]byte, error) {
	if v.IsString {
		return json.Marshal(v.StrVal)
	}
	return strconv.AppendInt(nil, int64(v.IntVal), 10), nil
}

// UnmarshalJSON decodes a number or a string; null leaves v as it is.
func (v *IntOrString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		v.IsString, v.IntVal = true, 0
		return json.Unmarshal(b, &v.StrVal)
	}
	v.IsString, v.StrVal = false, ""
	return json.Unmarshal(b, &v.IntVal)
}

// ScaledValue resolves v against total: an int as it is, a percentage
// ("25%") as that share of total, rounded up if roundUp is set and down
// otherwise. It is how a Deployment's maxSurge and maxUnavailable are
// read.
func (v IntOrString) ScaledValue(total int, roundUp bool) (int, error) {
	if !v.IsString {
		return int(v.IntVal), nil
	}
	s, ok := strings.CutSuffix(v.StrVal, "%")
	if !ok {
		return 0, fmt.Errorf("invalid value %q: must be an integer or a percentage", v.StrVal)
	}
	p, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("invalid value %q: must be an integer or a percentage", v.StrVal)
	}
	if roundUp {
		return (p*total + 99) / 100, nil
	}
	return p * total / 100, nil
}

// DeleteOptions is the body of a DELETE, a deletecollection or an
// eviction, with the JSON of Kubernetes' metav1.DeleteOptions.
type DeleteOptions struct {
	meta.TypeMeta
	// GracePeriodSeconds is how long the object may take to go away; 0
	// means now.
	GracePeriodSeconds *int64 `json:"gracePeriodSeconds,omitempty"`
	// Preconditions must hold for the deletion to go ahead.
	Preconditions *meta.Preconditions `json:"preconditions,omitempty"`
	// OrphanDependents is the deprecated form of PropagationPolicy.
	OrphanDependents *bool `json:"orphanDependents,omitempty"`
	// PropagationPolicy is Orphan, Background or Foreground.
	PropagationPolicy *string `json:"propagationPolicy,omitempty"`
	// DryRun set to ["All"] checks the request without storing anything.
	DryRun []string `json:"dryRun,omitempty"`
	// IgnoreStoreReadErrorWithClusterBreakingPotential lets a client
	// delete an object that cannot be decoded.
	IgnoreStoreReadErrorWithClusterBreakingPotential *bool `json:"ignoreStoreReadErrorWithClusterBreakingPotential,omitempty"`
}
