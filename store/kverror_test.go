package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
)

func TestFromKVError(t *testing.T) {
	tests := []struct {
		err  error
		want *meta.StatusError
	}{
		{&kv.CompactedError{CompactRevision: 7}, meta.ErrExpired},
		{fmt.Errorf("range: %w", kv.ErrCompacted), meta.ErrExpired},
		{kv.ErrFutureRevision, meta.ErrTimeout},
		{context.DeadlineExceeded, meta.ErrTimeout},
		{context.Canceled, meta.ErrTimeout},
		{kv.ErrClosed, meta.ErrServiceUnavailable},
		{kv.ErrInvalidRequest, meta.ErrBadRequest},
		{kv.ErrTooManyOps, meta.ErrBadRequest},
		{errors.New("disk on fire"), meta.ErrInternal},
		{meta.NewNotFound("pods", "x"), meta.ErrNotFound},
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
	if st := store.ToStatus(errors.New("x")); st.Code != 500 || st.Reason != meta.ReasonInternalError {
		t.Fatalf("ToStatus of a plain error = %+v", st)
	}
	if st := store.ToStatus(fmt.Errorf("wrapped: %w", meta.NewNotFound("pods", "a"))); st.Code != 404 {
		t.Fatalf("ToStatus of a wrapped NotFound = %+v", st)
	}
}

func TestToStatusMapsKVErrors(t *testing.T) {
	if st := store.ToStatus(fmt.Errorf("watch: %w", &kv.CompactedError{CompactRevision: 7})); st.Code != 410 || st.Reason != meta.ReasonExpired {
		t.Errorf("ToStatus of a compacted revision = %+v, want Expired 410", st)
	}
	if st := store.ToStatus(kv.ErrClosed); st.Code != 503 {
		t.Errorf("ToStatus of a closed engine = %+v, want 503", st)
	}
}
