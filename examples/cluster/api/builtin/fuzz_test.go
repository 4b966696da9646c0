package builtin_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/api/builtin"
	"github.com/governor-io/governor/store/meta"
)

// FuzzBuiltins decodes arbitrary JSON into every built-in type and runs
// what an API server runs on a request body (defaults, validation of a
// create and of an update, table cells, field selectors, the scale view
// and a deep copy): none of it may panic, whatever the client sent.
func FuzzBuiltins(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"metadata":{"name":"a","namespace":"b","labels":{"x":"y"},"deletionTimestamp":"2026-01-01T00:00:00Z"}}`,
		`{"spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":80}]}],"initContainers":[{"name":"i","restartPolicy":"Always"}]},
		  "status":{"initContainerStatuses":[{"name":"i","started":true,"state":{"terminated":{"exitCode":1}}}],
		  "containerStatuses":[{"name":"c","lastState":{"terminated":{"finishedAt":"2026-01-01T00:00:00Z"}},"state":{"waiting":{"reason":"X"}}}]}}`,
		`{"spec":{"replicas":-1,"selector":{"matchExpressions":[{"key":"a","operator":"In"}]},"strategy":{"rollingUpdate":{"maxSurge":"x%","maxUnavailable":0}}}}`,
		`{"spec":{"group":"a.b","names":{"plural":"xs","kind":"X"},"versions":[{"name":"v1","storage":true,"schema":{"openAPIV3Schema":{"type":"array","items":[{}],"properties":{"a":{"additionalProperties":{"type":"object"}}}}},"subresources":{"scale":{}}}]}}`,
		`{"webhooks":[{"name":"x","clientConfig":{"url":"::"},"timeoutSeconds":99}],"rules":[{"nonResourceURLs":["/x"]}],"roleRef":{},"subjects":[{"kind":"ServiceAccount"}]}`,
		`{"spec":{"type":"LoadBalancer","ports":[{"port":0,"targetPort":"http"}]},"status":{"loadBalancer":{"ingress":[{"hostname":"h"}]}}}`,
		`{"involvedObject":{"kind":"Pod"},"series":{"count":2},"regarding":{"name":"x"},"endpoints":[{"addresses":[]}],"ports":[{}]}`,
	} {
		f.Add([]byte(seed))
	}
	types := builtin.All()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range types {
			obj, old := typ.New(), typ.New()
			if json.Unmarshal(data, obj) != nil || json.Unmarshal(data, old) != nil {
				continue
			}
			if typ.Default != nil {
				typ.Default(obj)
			}
			typ.Validate(obj)
			if typ.ValidateUpdate != nil {
				typ.ValidateUpdate(old, obj)
			}
			typ.Cells(obj, now)
			for _, get := range typ.Fields {
				get(obj)
			}
			if s := typ.Scale; s != nil {
				s.Selector(obj)
				s.SetSpecReplicas(obj, s.SpecReplicas(obj)+s.StatusReplicas(obj))
			}
			meta.DeepCopy(obj)
		}
	})
}
