package layering_test

import (
	"fmt"

	"github.com/governor-io/governor/internal/layering"
)

// The packages of this module that the object types reach: only the clock,
// if anything.
func ExampleDeps() {
	deps, err := layering.Deps("../..", "github.com/governor-io/governor/store/meta")
	fmt.Println(deps, err)
	// Output: [] <nil>
}
