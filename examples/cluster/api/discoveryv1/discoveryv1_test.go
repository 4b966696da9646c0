package discoveryv1_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/api/discoveryv1"
	"github.com/governor-io/governor/store/meta"
)

func port(p int32) discoveryv1.EndpointPort { return discoveryv1.EndpointPort{Port: &p} }

func ExampleEndpointSlices() {
	s := &discoveryv1.EndpointSlice{ObjectMeta: meta.ObjectMeta{Name: "web-abc"}, AddressType: "IPv4",
		Ports: []discoveryv1.EndpointPort{port(80), port(443)},
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}}, {Addresses: []string{"10.0.0.2"}},
			{Addresses: []string{"10.0.0.3"}}, {Addresses: []string{"10.0.0.4"}}}}
	fmt.Println(discoveryv1.EndpointSlices.Cells(s, time.Now())[1:4])
	// Output: [IPv4 80,443 10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...]
}

func TestEndpointSliceValidation(t *testing.T) {
	s := &discoveryv1.EndpointSlice{ObjectMeta: meta.ObjectMeta{Name: "web-abc", Namespace: "default"}, AddressType: "IPv4",
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}}}, Ports: []discoveryv1.EndpointPort{port(80)}}
	if c := discoveryv1.EndpointSlices.Validate(s); len(c) != 0 {
		t.Fatalf("valid slice: %v", c)
	}
	s.AddressType = "IPv5"
	s.Endpoints[0].Addresses = nil
	c := discoveryv1.EndpointSlices.Validate(s)
	if len(c) != 2 || c[0].Field != "addressType" || c[1].Field != "endpoints[0].addresses" {
		t.Fatalf("causes %v", c)
	}
	if got := discoveryv1.EndpointSlices.Cells(&discoveryv1.EndpointSlice{}, time.Now()); got[2] != "<unset>" || got[3] != "<unset>" {
		t.Fatalf("empty slice cells %v", got)
	}
}
