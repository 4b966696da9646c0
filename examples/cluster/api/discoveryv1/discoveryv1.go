// Package discoveryv1 holds the discovery.k8s.io/v1 EndpointSlice, the
// addresses of a service's pods that the endpoint controller writes and
// the proxy reads, and its [api.Type], [EndpointSlices].
package discoveryv1

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/examples/cluster/api/corev1"
	"github.com/governor-io/governor/store/meta"
)

// EndpointSlice is a set of endpoints of a service: discovery.k8s.io/v1
// EndpointSlice. The label "kubernetes.io/service-name" names the
// service.
type EndpointSlice struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	// AddressType is IPv4, IPv6 or FQDN.
	AddressType string         `json:"addressType"`
	Endpoints   []Endpoint     `json:"endpoints"`
	Ports       []EndpointPort `json:"ports"`
}

// LabelServiceName is the label naming an EndpointSlice's service.
const LabelServiceName = "kubernetes.io/service-name"

// Endpoint is one backend: its addresses and readiness.
type Endpoint struct {
	Addresses          []string                `json:"addresses"`
	Conditions         EndpointConditions      `json:"conditions,omitempty"`
	Hostname           *string                 `json:"hostname,omitempty"`
	TargetRef          *corev1.ObjectReference `json:"targetRef,omitempty"`
	DeprecatedTopology map[string]string       `json:"deprecatedTopology,omitempty"`
	NodeName           *string                 `json:"nodeName,omitempty"`
	Zone               *string                 `json:"zone,omitempty"`
	Hints              *EndpointHints          `json:"hints,omitempty"`
}

// EndpointConditions say whether an endpoint takes traffic.
type EndpointConditions struct {
	Ready       *bool `json:"ready,omitempty"`
	Serving     *bool `json:"serving,omitempty"`
	Terminating *bool `json:"terminating,omitempty"`
}

// EndpointHints steer topology-aware routing.
type EndpointHints struct {
	ForZones []ForZone `json:"forZones,omitempty"`
	ForNodes []ForNode `json:"forNodes,omitempty"`
}

// ForZone names a zone that should use an endpoint.
type ForZone struct {
	Name string `json:"name"`
}

// ForNode names a node that should use an endpoint.
type ForNode struct {
	Name string `json:"name"`
}

// EndpointPort is one port of every endpoint in the slice.
type EndpointPort struct {
	Name        *string `json:"name,omitempty"`
	Protocol    *string `json:"protocol,omitempty"`
	Port        *int32  `json:"port,omitempty"`
	AppProtocol *string `json:"appProtocol,omitempty"`
}

// EndpointSlices describes the endpointslices resource.
var EndpointSlices = api.Type[*EndpointSlice]{
	Group: "discovery.k8s.io", Version: "v1", Kind: "EndpointSlice", Resource: "endpointslices", Singular: "endpointslice",
	Namespaced: true,
	Columns: api.Columns(
		api.Column("AddressType", "Type of address carried by this EndpointSlice."),
		api.Column("Ports", "Port numbers available on the related service."),
		api.Column("Endpoints", "List of unique endpoints in this slice."),
		api.AgeColumn),
	Cells: func(s *EndpointSlice, now time.Time) []any {
		var ports []string
		for _, p := range s.Ports {
			if p.Port == nil {
				ports = append(ports, "<unset>")
			} else {
				ports = append(ports, strconv.Itoa(int(*p.Port)))
			}
		}
		var addrs []string
		for _, e := range s.Endpoints {
			addrs = append(addrs, e.Addresses...)
		}
		return []any{s.Name, s.AddressType, firstThree(ports), firstThree(addrs), api.Age(s.CreationTimestamp, now)}
	},
	Validate: func(s *EndpointSlice) []meta.Cause {
		causes := api.ValidateObjectMeta(&s.ObjectMeta, true, api.DNS1123Subdomain)
		switch s.AddressType {
		case "IPv4", "IPv6", "FQDN":
		case "":
			causes = append(causes, api.Required("addressType", ""))
		default:
			causes = append(causes, api.NotSupported("addressType", s.AddressType, "FQDN", "IPv4", "IPv6"))
		}
		for i, e := range s.Endpoints {
			if n := len(e.Addresses); n < 1 || n > 100 {
				causes = append(causes, api.Invalid(fmt.Sprintf("endpoints[%d].addresses", i), n, "must contain between 1 and 100 addresses"))
			}
		}
		if len(s.Endpoints) > 1000 {
			causes = append(causes, meta.Cause{Type: "FieldValueTooMany", Field: "endpoints", Message: "Too many: must have at most 1000 items"})
		}
		for i, p := range s.Ports {
			if p.Port != nil && (*p.Port < 0 || *p.Port > 65535) {
				causes = append(causes, api.Invalid(fmt.Sprintf("ports[%d].port", i), *p.Port, "must be between 0 and 65535, inclusive"))
			}
		}
		return causes
	},
	New: func() *EndpointSlice { return new(EndpointSlice) },
}

// firstThree prints up to three items and how many more there are, as
// kubectl does ("a,b,c + 2 more..."), or "<unset>".
func firstThree(items []string) string {
	switch {
	case len(items) == 0:
		return "<unset>"
	case len(items) > 3:
		return fmt.Sprintf("%s + %d more...", strings.Join(items[:3], ","), len(items)-3)
	}
	return strings.Join(items, ",")
}
