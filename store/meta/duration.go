package meta

import (
	"encoding/json"
	"fmt"
	"time"
)

// Duration is a time.Duration for spec and status fields that encodes as
// Kubernetes' metav1.Duration does: a string in time.Duration's format,
// such as "1m30s". Decoding accepts anything [time.ParseDuration] does.
type Duration struct {
	time.Duration
}

// MarshalJSON encodes d as a string such as "1m30s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.Duration.String()) }

// UnmarshalJSON decodes a duration string such as "1m30s" or "250ms".
// null leaves d as it is.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s, err := jsonString(b)
	if err != nil {
		return fmt.Errorf("store: duration must be a string such as \"1m30s\": %w", err)
	}
	pd, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	d.Duration = pd
	return nil
}
