package apiserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/governor-io/governor/examples/cluster/api/autoscalingv1"
	"github.com/governor-io/governor/examples/cluster/api/unstructured"
	"github.com/governor-io/governor/store"
)

// serve serves a custom resource: scale here, the rest as any resource,
// except strategic merge patch, which custom resources do not take (they
// have no patch merge keys), as in Kubernetes.
func (e *crdEndpoint) serve(w http.ResponseWriter, req *http.Request, ri *requestInfo, neg negotiation) error {
	if ri.verb == "patch" && contentType(req) == mediaStrategicPatch {
		return errUnsupportedMedia(mediaStrategicPatch, mediaJSONPatch, mediaMergePatch)
	}
	if ri.subresource != "scale" {
		return e.resource.serve(w, req, ri, neg)
	}
	if e.scale == nil || ri.name == "" || ri.namespaced != e.t.Namespaced {
		return errNotFoundPath()
	}
	ctx := req.Context()
	switch ri.verb {
	case "get":
		obj, err := e.st.Get(ctx, ri.namespace, ri.name)
		if err != nil {
			return e.wire(err, ri.namespace, ri.name)
		}
		sc, err := e.scaleOf(obj)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, sc)
		return nil
	case "update", "patch":
		return e.updateScale(w, req, ri)
	}
	return errMethodNotAllowed(req.Method)
}

// scaleOf reads the autoscaling/v1 Scale of a custom object through the
// CRD's replica and selector paths.
func (e *crdEndpoint) scaleOf(obj *unstructured.Object) (*autoscalingv1.Scale, error) {
	f := obj.Fields()
	sc := &autoscalingv1.Scale{}
	sc.Kind, sc.APIVersion = "Scale", autoscalingv1.APIVersion
	sc.Name, sc.Namespace, sc.UID = obj.Name, obj.Namespace, obj.UID
	sc.ResourceVersion, sc.CreationTimestamp = obj.ResourceVersion, obj.CreationTimestamp
	var err error
	if sc.Spec.Replicas, err = replicasAt(f, e.scale.SpecReplicasPath); err != nil {
		return nil, err
	}
	if sc.Status.Replicas, err = replicasAt(f, e.scale.StatusReplicasPath); err != nil {
		return nil, err
	}
	if p := e.scale.LabelSelectorPath; p != nil {
		if s, ok := lookupPath(f, jsonPathSegments(*p)).(string); ok {
			sc.Status.Selector = s
		}
	}
	return sc, nil
}

// replicasAt reads a replica count; a missing one is 0.
func replicasAt(f map[string]any, path string) (int32, error) {
	v := lookupPath(f, jsonPathSegments(path))
	if v == nil {
		return 0, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, store.NewInternalError(fmt.Errorf("the value at %s is not a number", path))
	}
	i, err := strconv.ParseInt(string(n), 10, 32)
	if err != nil {
		return 0, store.NewInternalError(fmt.Errorf("the value at %s is not an int32: %w", path, err))
	}
	return int32(i), nil
}

// updateScale writes spec replicas from a Scale (PUT) or a patch of the
// Scale (merge or JSON patch).
func (e *crdEndpoint) updateScale(w http.ResponseWriter, req *http.Request, ri *requestInfo) error {
	ct := contentType(req)
	var apply func([]byte) ([]byte, error)
	body, err := readBody(w, req, e.s.cfg.MaxRequestBodyBytes)
	if err != nil {
		return err
	}
	if ri.verb == "update" {
		if err := checkBodyType(req); err != nil {
			return err
		}
		apply = func([]byte) ([]byte, error) { return body, nil }
	} else {
		switch ct {
		case mediaMergePatch:
			if _, err := decodeValue(body); err != nil {
				return store.NewBadRequest("the merge patch is not JSON: " + err.Error())
			}
			apply = func(doc []byte) ([]byte, error) { return store.MergePatch(doc, body) }
		case mediaJSONPatch:
			ops, err := parseJSONPatch(body)
			if err != nil {
				return err
			}
			apply = func(doc []byte) ([]byte, error) { return applyJSONPatch(doc, ops) }
		default:
			return errUnsupportedMedia(ct, mediaJSONPatch, mediaMergePatch)
		}
	}
	specPath := jsonPathSegments(e.scale.SpecReplicasPath)
	out, err := e.st.GuaranteedUpdate(req.Context(), ri.namespace, ri.name, func(cur *unstructured.Object) (*unstructured.Object, error) {
		sc, err := e.scaleOf(cur)
		if err != nil {
			return nil, err
		}
		doc, err := json.Marshal(sc)
		if err != nil {
			return nil, store.NewInternalError(err)
		}
		patched, err := apply(doc)
		if err != nil {
			return nil, err
		}
		var next autoscalingv1.Scale
		if err := json.Unmarshal(patched, &next); err != nil {
			return nil, store.NewBadRequest("the body is not a Scale: " + err.Error())
		}
		if next.Kind != "" && next.Kind != "Scale" {
			return nil, store.NewBadRequest(fmt.Sprintf("the body has kind %q, not Scale", next.Kind))
		}
		if next.ResourceVersion != "" && next.ResourceVersion != cur.ResourceVersion {
			return nil, store.NewConflict(e.t.GroupResource(), cur.Name,
				"the object has been modified; please apply your changes to the latest version and try again")
		}
		if next.Spec.Replicas < 0 {
			return nil, store.NewInvalid("Scale.autoscaling", cur.Name, store.Cause{Field: "spec.replicas",
				Type: store.CauseTypeFieldValueInvalid, Message: fmt.Sprintf("Invalid value: %d: must be greater than or equal to 0", next.Spec.Replicas)})
		}
		f := cur.Fields()
		if err := unstructured.Set(f, json.Number(strconv.Itoa(int(next.Spec.Replicas))), specPath...); err != nil {
			return nil, store.NewBadRequest(err.Error())
		}
		cur.SetFields(f)
		return cur, nil
	})
	if err != nil {
		return e.wire(err, ri.namespace, ri.name)
	}
	sc, err := e.scaleOf(out)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sc)
	return nil
}
