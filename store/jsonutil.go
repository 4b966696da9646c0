package store

import (
	"encoding/json"
	"errors"

	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
)

func jsonMarshal(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, meta.NewInternalError(err)
	}
	return data, nil
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

func isCompacted(err error) bool { return errors.Is(err, kv.ErrCompacted) }
