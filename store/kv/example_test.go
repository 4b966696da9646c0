package kv_test

import (
	"errors"
	"fmt"

	"github.com/governor-io/governor/store/kv"
)

func ExamplePrefixEnd() {
	end := kv.PrefixEnd("/registry/pods/")
	fmt.Println(kv.InRange("/registry/pods/default/web", "/registry/pods/", end))
	fmt.Println(kv.InRange("/registry/services/default/web", "/registry/pods/", end))
	// Output:
	// true
	// false
}

func ExampleCompactedError() {
	var err error = &kv.CompactedError{CompactRevision: 42}
	var ce *kv.CompactedError
	fmt.Println(errors.Is(err, kv.ErrCompacted), errors.As(err, &ce), ce.CompactRevision)
	// Output: true true 42
}
