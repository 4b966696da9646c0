package meta_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/governor-io/governor/store/meta"
)

func TestReasonsMapOneToOne(t *testing.T) {
	tests := []struct {
		err  *meta.StatusError
		code int
	}{
		{meta.NewNotFound("pods", "a"), http.StatusNotFound},
		{meta.NewAlreadyExists("pods", "a"), http.StatusConflict},
		{meta.NewConflict("pods", "a", "x"), http.StatusConflict},
		{meta.NewExpired("old"), http.StatusGone},
		{meta.NewInvalid("pods", "a", meta.Cause{Field: "spec.x", Message: "bad"}), http.StatusUnprocessableEntity},
		{meta.NewForbidden("pods", "a", "no"), http.StatusForbidden},
		{meta.NewUnauthorized(""), http.StatusUnauthorized},
		{meta.NewTimeout("slow", 2), http.StatusGatewayTimeout},
		{meta.NewTooManyRequests("busy", 3), http.StatusTooManyRequests},
		{meta.NewBadRequest("what"), http.StatusBadRequest},
		{meta.NewInternalError(errors.New("boom")), http.StatusInternalServerError},
		{meta.NewServiceUnavailable("down"), http.StatusServiceUnavailable},
	}
	seen := map[meta.Reason]bool{}
	for _, tt := range tests {
		if seen[tt.err.Reason] {
			t.Fatalf("reason %s listed twice", tt.err.Reason)
		}
		seen[tt.err.Reason] = true
		if tt.err.Code() != tt.code {
			t.Errorf("%s: code %d, want %d", tt.err.Reason, tt.err.Code(), tt.code)
		}
		st := tt.err.Status()
		if st.Kind != "Status" || st.APIVersion != "v1" || st.Status != meta.StatusFailure || st.Code != int32(tt.code) || st.Reason != tt.err.Reason {
			t.Errorf("%s: Status() = %+v", tt.err.Reason, st)
		}
		// Through the wire and back.
		data, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var got meta.Status
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatal(err)
		}
		back := meta.FromStatus(got)
		if !errors.Is(back, tt.err) || back.Message != tt.err.Message || back.Name != tt.err.Name ||
			back.Resource != tt.err.Resource || back.RetryAfterSeconds != tt.err.RetryAfterSeconds ||
			!cmp.Equal(back.Causes, tt.err.Causes) {
			t.Errorf("%s: round trip gave %+v, want %+v", tt.err.Reason, back, tt.err)
		}
		// A reason matches only its own sentinel.
		if errors.Is(tt.err, meta.ErrNotFound) != (tt.err.Reason == meta.ReasonNotFound) {
			t.Errorf("%s matches ErrNotFound wrongly", tt.err.Reason)
		}
	}
}

func TestStatusWireFormat(t *testing.T) {
	err := meta.NewInvalid("pods", "web", meta.Cause{Field: "spec.replicas", Message: "must be positive", Type: meta.CauseTypeFieldValueInvalid})
	data, jerr := json.Marshal(err.Status())
	if jerr != nil {
		t.Fatal(jerr)
	}
	want := `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"web\" is invalid: spec.replicas: must be positive","reason":"Invalid","details":{"name":"web","kind":"pods","causes":[{"reason":"FieldValueInvalid","message":"must be positive","field":"spec.replicas"}]},"code":422}`
	if string(data) != want {
		t.Fatalf("wire JSON\n got %s\nwant %s", data, want)
	}
}

func TestFromStatusUsesCodeWhenReasonUnknown(t *testing.T) {
	for code, want := range map[int32]*meta.StatusError{404: meta.ErrNotFound, 409: meta.ErrConflict, 410: meta.ErrExpired, 500: meta.ErrInternal, 418: meta.ErrInternal} {
		got := meta.FromStatus(meta.Status{Status: meta.StatusFailure, Code: code, Reason: "SomethingNew"})
		if !errors.Is(got, want) {
			t.Errorf("code %d: reason %s, want %s", code, got.Reason, want.Reason)
		}
	}
	if meta.FromStatus(meta.Status{Status: meta.StatusSuccess}) != nil {
		t.Fatal("a Success Status is not an error")
	}
}

func TestToStatusOfOtherErrors(t *testing.T) {
	tests := []struct {
		err  error
		code int32
		want meta.Reason
	}{
		{context.DeadlineExceeded, http.StatusGatewayTimeout, meta.ReasonTimeout},
		{fmt.Errorf("list: %w", context.Canceled), http.StatusGatewayTimeout, meta.ReasonTimeout},
		{errors.New("disk on fire"), http.StatusInternalServerError, meta.ReasonInternalError},
		{fmt.Errorf("wrapped: %w", meta.NewNotFound("pods", "a")), http.StatusNotFound, meta.ReasonNotFound},
	}
	for _, tt := range tests {
		st := meta.ToStatus(tt.err)
		if st.Code != tt.code || st.Reason != tt.want || st.Status != meta.StatusFailure {
			t.Errorf("ToStatus(%v) = %+v, want %s %d", tt.err, st, tt.want, tt.code)
		}
	}
}
