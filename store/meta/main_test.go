package meta_test

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/governor-io/governor/store/meta"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Widget is the test type: an Object with a spec that holds a slice.
type Widget struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            WidgetSpec `json:"spec"`
}

type WidgetSpec struct {
	Size int      `json:"size"`
	Tags []string `json:"tags,omitempty"`
}

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func widget(ns, name string, size int) *Widget {
	return &Widget{ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: name}, Spec: WidgetSpec{Size: size}}
}
