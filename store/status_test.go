package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/kv"
)

func TestReasonsMapOneToOne(t *testing.T) {
	tests := []struct {
		err  *store.StatusError
		code int
	}{
		{store.NewNotFound("pods", "a"), http.StatusNotFound},
		{store.NewAlreadyExists("pods", "a"), http.StatusConflict},
		{store.NewConflict("pods", "a", "x"), http.StatusConflict},
		{store.NewExpired("old"), http.StatusGone},
		{store.NewInvalid("pods", "a", store.Cause{Field: "spec.x", Message: "bad"}), http.StatusUnprocessableEntity},
		{store.NewForbidden("pods", "a", "no"), http.StatusForbidden},
		{store.NewUnauthorized(""), http.StatusUnauthorized},
		{store.NewTimeout("slow", 2), http.StatusGatewayTimeout},
		{store.NewTooManyRequests("busy", 3), http.StatusTooManyRequests},
		{store.NewBadRequest("what"), http.StatusBadRequest},
		{store.NewInternalError(errors.New("boom")), http.StatusInternalServerError},
		{store.NewServiceUnavailable("down"), http.StatusServiceUnavailable},
	}
	seen := map[store.Reason]bool{}
	for _, tt := range tests {
		if seen[tt.err.Reason] {
			t.Fatalf("reason %s listed twice", tt.err.Reason)
		}
		seen[tt.err.Reason] = true
		if tt.err.Code() != tt.code {
			t.Errorf("%s: code %d, want %d", tt.err.Reason, tt.err.Code(), tt.code)
		}
		st := tt.err.Status()
		if st.Kind != "Status" || st.APIVersion != "v1" || st.Status != store.StatusFailure || st.Code != int32(tt.code) || st.Reason != tt.err.Reason {
			t.Errorf("%s: Status() = %+v", tt.err.Reason, st)
		}
		// Through the wire and back.
		data, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var got store.Status
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatal(err)
		}
		back := store.FromStatus(got)
		if !errors.Is(back, tt.err) || back.Message != tt.err.Message || back.Name != tt.err.Name ||
			back.Resource != tt.err.Resource || back.RetryAfterSeconds != tt.err.RetryAfterSeconds ||
			!cmp.Equal(back.Causes, tt.err.Causes) {
			t.Errorf("%s: round trip gave %+v, want %+v", tt.err.Reason, back, tt.err)
		}
		// A reason matches only its own sentinel.
		if errors.Is(tt.err, store.ErrNotFound) != (tt.err.Reason == store.ReasonNotFound) {
			t.Errorf("%s matches ErrNotFound wrongly", tt.err.Reason)
		}
	}
}

func TestStatusWireFormat(t *testing.T) {
	err := store.NewInvalid("pods", "web", store.Cause{Field: "spec.replicas", Message: "must be positive", Type: store.CauseTypeFieldValueInvalid})
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
	for code, want := range map[int32]*store.StatusError{404: store.ErrNotFound, 409: store.ErrConflict, 410: store.ErrExpired, 500: store.ErrInternal, 418: store.ErrInternal} {
		got := store.FromStatus(store.Status{Status: store.StatusFailure, Code: code, Reason: "SomethingNew"})
		if !errors.Is(got, want) {
			t.Errorf("code %d: reason %s, want %s", code, got.Reason, want.Reason)
		}
	}
	if store.FromStatus(store.Status{Status: store.StatusSuccess}) != nil {
		t.Fatal("a Success Status is not an error")
	}
}

func TestFromKVError(t *testing.T) {
	tests := []struct {
		err  error
		want *store.StatusError
	}{
		{&kv.CompactedError{CompactRevision: 7}, store.ErrExpired},
		{fmt.Errorf("range: %w", kv.ErrCompacted), store.ErrExpired},
		{kv.ErrFutureRevision, store.ErrTimeout},
		{context.DeadlineExceeded, store.ErrTimeout},
		{context.Canceled, store.ErrTimeout},
		{kv.ErrClosed, store.ErrServiceUnavailable},
		{kv.ErrInvalidRequest, store.ErrBadRequest},
		{kv.ErrTooManyOps, store.ErrBadRequest},
		{errors.New("disk on fire"), store.ErrInternal},
		{store.NewNotFound("pods", "x"), store.ErrNotFound},
	}
	for _, tt := range tests {
		got := store.FromKVError(tt.err, "pods", "ns/x")
		if !errors.Is(got, tt.want) {
			t.Errorf("FromKVError(%v) = %v, want reason %s", tt.err, got, tt.want.Reason)
		}
		if !errors.Is(got, tt.err) {
			t.Errorf("FromKVError(%v) lost the original error", tt.err)
		}
	}
	if store.FromKVError(nil, "", "") != nil {
		t.Fatal("FromKVError(nil) != nil")
	}
	if st := store.ToStatus(errors.New("x")); st.Code != 500 || st.Reason != store.ReasonInternalError {
		t.Fatalf("ToStatus of a plain error = %+v", st)
	}
	if st := store.ToStatus(fmt.Errorf("wrapped: %w", store.NewNotFound("pods", "a"))); st.Code != 404 {
		t.Fatalf("ToStatus of a wrapped NotFound = %+v", st)
	}
}
