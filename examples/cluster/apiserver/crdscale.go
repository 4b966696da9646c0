package apiserver

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/examples/cluster/api/apiextensionsv1"
	"github.com/governor-io/governor/examples/cluster/api/unstructured"
)

// serve serves a custom resource as any resource, except strategic merge
// patch, which custom resources do not take (they have no patch merge
// keys), as in Kubernetes.
func (e *crdEndpoint) serve(w http.ResponseWriter, req *http.Request, ri *requestInfo, neg negotiation) error {
	if ri.verb == "patch" && ri.subresource != "scale" && contentType(req) == mediaStrategicPatch {
		return errUnsupportedMedia(mediaStrategicPatch, mediaJSONPatch, mediaMergePatch)
	}
	return e.resource.serve(w, req, ri, neg)
}

// customScale gives the scale subresource its view of custom objects
// through the CRD's replica and selector paths. A missing or non-integer
// replica count reads as 0.
func customScale(sc *apiextensionsv1.CustomResourceSubresourceScale) *api.ScaleAccess[*unstructured.Object] {
	spec, status := jsonPathSegments(sc.SpecReplicasPath), jsonPathSegments(sc.StatusReplicasPath)
	var selector []string
	if sc.LabelSelectorPath != nil {
		selector = jsonPathSegments(*sc.LabelSelectorPath)
	}
	replicas := func(o *unstructured.Object, path []string) int32 {
		n, ok := lookupPath(o.Fields(), path).(json.Number)
		if !ok {
			return 0
		}
		i, err := strconv.ParseInt(string(n), 10, 32)
		if err != nil {
			return 0
		}
		return int32(i)
	}
	return &api.ScaleAccess[*unstructured.Object]{
		SpecReplicas:   func(o *unstructured.Object) int32 { return replicas(o, spec) },
		StatusReplicas: func(o *unstructured.Object) int32 { return replicas(o, status) },
		SetSpecReplicas: func(o *unstructured.Object, n int32) {
			f := o.Fields()
			if unstructured.Set(f, json.Number(strconv.Itoa(int(n))), spec...) == nil {
				o.SetFields(f)
			}
		},
		Selector: func(o *unstructured.Object) string {
			if selector == nil {
				return ""
			}
			s, _ := lookupPath(o.Fields(), selector).(string)
			return s
		},
	}
}
