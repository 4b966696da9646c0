package policyv1_test

import (
	"encoding/json"
	"fmt"

	"github.com/governor-io/governor/examples/cluster/api/policyv1"
)

// Decoding the body kubectl drain posts to pods/NAME/eviction.
func ExampleEviction() {
	var ev policyv1.Eviction
	body := `{"kind":"Eviction","apiVersion":"policy/v1","metadata":{"name":"web","namespace":"default"},
		"deleteOptions":{"gracePeriodSeconds":10,"preconditions":{"uid":"1234"}}}`
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ev.Name, *ev.DeleteOptions.GracePeriodSeconds, *ev.DeleteOptions.Preconditions.UID)
	// Output: web 10 1234
}
