package meta_test

import (
	"errors"
	"fmt"

	"github.com/governor-io/governor/store/meta"
)

func ExampleParseLabelSelector() {
	sel, err := meta.ParseLabelSelector("app=web, tier in (front,back), !legacy")
	fmt.Println(sel, err)
	fmt.Println(sel.Matches(map[string]string{"app": "web", "tier": "front"}))
	fmt.Println(sel.Matches(map[string]string{"app": "web", "tier": "front", "legacy": "yes"}))
	_, err = meta.ParseLabelSelector("app in web")
	fmt.Println(errors.Is(err, meta.ErrInvalid))
	// Output:
	// app=web,!legacy,tier in (back,front) <nil>
	// true
	// false
	// true
}

func ExampleToStatus() {
	st := meta.ToStatus(meta.NewNotFound("pods", "default/web"))
	fmt.Println(st.Kind, st.Status, st.Reason, st.Code, st.Details.Kind, st.Details.Name)
	fmt.Println(errors.Is(meta.FromStatus(st), meta.ErrNotFound))
	// Output:
	// Status Failure NotFound 404 pods default/web
	// true
}
