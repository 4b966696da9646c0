package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
)

// continueToken is the decoded form of [meta.List.Continue]: the revision the
// first page read at, so that every page reads the same snapshot, and the
// key to start from, relative to the list's prefix.
type continueToken struct {
	Version  string `json:"v"`
	Revision int64  `json:"rv"`
	Start    string `json:"start"`
}

const continueVersion = "governor/v1"

func encodeContinue(rev int64, start string) string {
	data, _ := json.Marshal(continueToken{Version: continueVersion, Revision: rev, Start: start})
	return base64.RawURLEncoding.EncodeToString(data)
}

func decodeContinue(s string) (continueToken, error) {
	bad := func(why string) error {
		return &meta.StatusError{Reason: meta.ReasonBadRequest, Message: "invalid continue token: " + why,
			Causes: []meta.Cause{{Field: "continue", Type: meta.CauseTypeFieldValueInvalid, Message: why}}}
	}
	data, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return continueToken{}, bad("not base64")
	}
	var t continueToken
	if err := json.Unmarshal(data, &t); err != nil {
		return continueToken{}, bad("not JSON")
	}
	if t.Version != continueVersion {
		return continueToken{}, bad(fmt.Sprintf("unknown version %q", t.Version))
	}
	if t.Revision <= 0 {
		return continueToken{}, bad("no revision")
	}
	if t.Start == "" || strings.Contains(t.Start, "/../") || strings.HasPrefix(t.Start, "../") {
		return continueToken{}, bad("bad start key")
	}
	return t, nil
}

// selection is a parsed label and field selector pair.
type selection[T meta.Object] struct {
	labels meta.LabelSelector
	fields meta.FieldSelector
	res    *Resource[T]
}

func (sel *selection[T]) empty() bool { return sel.labels.Empty() && sel.fields.Empty() }

func (sel *selection[T]) matches(obj T) bool {
	m := obj.GetObjectMeta()
	if !sel.labels.Matches(m.Labels) {
		return false
	}
	if sel.fields.Empty() {
		return true
	}
	return sel.fields.Matches(func(field string) (string, bool) {
		switch field {
		case "metadata.name":
			return m.Name, true
		case "metadata.namespace":
			return m.Namespace, true
		}
		if f, ok := sel.res.Fields[field]; ok {
			return f(obj), true
		}
		return "", false
	})
}

// selection parses the selectors of opts and checks that the fields named
// are supported by the Resource.
func (s *Store[T]) selection(opts meta.ListOptions) (*selection[T], error) {
	ls, err := meta.ParseLabelSelector(opts.LabelSelector)
	if err != nil {
		return nil, err
	}
	fs, err := meta.ParseFieldSelector(opts.FieldSelector)
	if err != nil {
		return nil, err
	}
	// ParseFieldSelector's selectors list their requirements.
	reqs := fs.(interface {
		Requirements() []meta.FieldRequirement
	}).Requirements()
	for _, r := range reqs {
		if r.Field == "metadata.name" || r.Field == "metadata.namespace" {
			continue
		}
		if _, ok := s.res.Fields[r.Field]; !ok {
			msg := fmt.Sprintf("field label not supported for %s: %s", s.res.Name, r.Field)
			return nil, &meta.StatusError{Reason: meta.ReasonInvalid, Resource: s.res.Name, Message: msg,
				Causes: []meta.Cause{{Field: "fieldSelector", Type: meta.CauseTypeFieldValueNotSupported, Message: msg}}}
		}
	}
	return &selection[T]{labels: ls, fields: fs, res: &s.res}, nil
}

// listPrefix returns the key prefix of a List or Watch in namespace.
func (s *Store[T]) listPrefix(namespace string) (string, error) {
	if namespace == "" {
		return s.prefix, nil
	}
	if !s.res.Namespaced {
		return "", meta.NewBadRequest(fmt.Sprintf("%s is cluster-scoped: namespace must be empty, not %q", s.res.Name, namespace))
	}
	if msg := meta.CheckDNSLabel(namespace); msg != "" {
		return "", meta.NewBadRequest(fmt.Sprintf("invalid namespace %q: %s", namespace, msg))
	}
	return s.prefix + namespace + "/", nil
}

// List returns the objects that opts select, at one revision: the current
// one when opts.ResourceVersion is "" (or "0"), revision N when it is "N".
// The List's ResourceVersion is the revision read. With a Limit, List
// returns at most that many items and a Continue token when there may be
// more; a List given the token resumes after the last item, reading the
// same revision as the first page. A revision that has been compacted
// gives Expired (including a continue token that outlived it); one not yet
// reached gives Timeout.
func (s *Store[T]) List(ctx context.Context, opts meta.ListOptions) (*meta.List[T], error) {
	sel, err := s.selection(opts)
	if err != nil {
		return nil, err
	}
	prefix, err := s.listPrefix(opts.Namespace)
	if err != nil {
		return nil, err
	}
	if opts.Limit < 0 {
		return nil, meta.NewBadRequest(fmt.Sprintf("invalid limit %d", opts.Limit))
	}
	start := prefix
	var rev int64
	if opts.Continue != "" {
		if opts.ResourceVersion != "" && opts.ResourceVersion != "0" {
			return nil, meta.NewBadRequest("specifying resourceVersion is not allowed when using continue")
		}
		tok, err := decodeContinue(opts.Continue)
		if err != nil {
			return nil, err
		}
		rev, start = tok.Revision, prefix+tok.Start
	} else if rev, err = meta.ParseResourceVersion(opts.ResourceVersion); err != nil {
		return nil, err
	}
	end := kv.PrefixEnd(prefix)
	list := &meta.List[T]{}
	chunk := opts.Limit
	if chunk > 0 && !sel.empty() && chunk < 256 {
		chunk = 256 // read ahead: selectors may reject many keys
	}
	for {
		resp, err := s.kv.Range(ctx, kv.RangeRequest{Key: start, End: end, Revision: rev, Limit: chunk})
		if err != nil {
			if opts.Continue != "" && isCompacted(err) {
				return nil, &meta.StatusError{Reason: meta.ReasonExpired, Resource: s.res.Name, Err: err,
					Message: "the continue token is too old: the revision it reads has been compacted; list again without it"}
			}
			return nil, s.kvErr(err, opts.Namespace, "")
		}
		if rev == 0 {
			rev = resp.Revision // later chunks read the same snapshot
		}
		for i := range resp.KVs {
			item := &resp.KVs[i]
			obj, err := s.decode(item)
			if err != nil {
				return nil, err
			}
			if !sel.matches(obj) {
				continue
			}
			list.Items = append(list.Items, obj)
			if opts.Limit > 0 && int64(len(list.Items)) == opts.Limit {
				if i < len(resp.KVs)-1 || resp.More {
					list.Continue = encodeContinue(rev, item.Key[len(prefix):]+"\x00")
				}
				list.ResourceVersion = meta.FormatResourceVersion(rev)
				return list, nil
			}
		}
		if !resp.More || len(resp.KVs) == 0 {
			break
		}
		start = resp.KVs[len(resp.KVs)-1].Key + "\x00"
	}
	list.ResourceVersion = meta.FormatResourceVersion(rev)
	return list, nil
}
