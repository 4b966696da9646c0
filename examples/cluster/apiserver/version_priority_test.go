package apiserver

import (
	"slices"
	"testing"
)

func TestCompareVersionPriority(t *testing.T) {
	got := []string{"v1alpha1", "foo", "v1", "v1beta1", "v2beta1", "v1beta2", "v2", "v10", "bar", "v0", "v1alpha"}
	slices.SortStableFunc(got, compareVersionPriority)
	want := []string{"v10", "v2", "v1", "v2beta1", "v1beta2", "v1beta1", "v1alpha1", "bar", "foo", "v0", "v1alpha"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
