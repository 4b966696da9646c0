package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/governor-io/governor/store/meta"
	"io"
)

// MergePatch applies a JSON merge patch (RFC 7386) to the JSON document
// target and returns the result. A patch that is an object merges member by
// member: a null member removes the target's member, an object member
// merges recursively, and any other member replaces the target's. A patch
// that is not an object replaces the whole document. An empty target counts
// as null. Numbers keep their exact decimal text. A patch or target that is
// not JSON gets a BadRequest [*meta.StatusError].
func MergePatch(target, patch []byte) ([]byte, error) {
	p, err := decodeJSONValue(patch)
	if err != nil {
		return nil, meta.NewBadRequest(fmt.Sprintf("invalid merge patch: %v", err))
	}
	var t any
	if len(bytes.TrimSpace(target)) > 0 {
		if t, err = decodeJSONValue(target); err != nil {
			return nil, meta.NewBadRequest(fmt.Sprintf("invalid merge patch target: %v", err))
		}
	}
	out, err := json.Marshal(mergeValue(t, p))
	if err != nil {
		return nil, meta.NewInternalError(err)
	}
	return out, nil
}

// mergeValue is RFC 7386's MergePatch(Target, Patch).
func mergeValue(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = make(map[string]any, len(pm))
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
			continue
		}
		tm[k] = mergeValue(tm[k], v)
	}
	return tm
}

// decodeJSONValue decodes exactly one JSON value, keeping numbers exact.
func decodeJSONValue(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after the JSON value")
	}
	return v, nil
}
