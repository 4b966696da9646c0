package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/kv"
)

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

func TestToStatusMapsKVErrors(t *testing.T) {
	if st := store.ToStatus(fmt.Errorf("watch: %w", &kv.CompactedError{CompactRevision: 7})); st.Code != 410 || st.Reason != store.ReasonExpired {
		t.Errorf("ToStatus of a compacted revision = %+v, want Expired 410", st)
	}
	if st := store.ToStatus(kv.ErrClosed); st.Code != 503 {
		t.Errorf("ToStatus of a closed engine = %+v, want 503", st)
	}
}
