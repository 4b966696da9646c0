package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/governor-io/governor/examples/cluster/api/autoscalingv1"
	"github.com/governor-io/governor/examples/cluster/api/corev1"
	"github.com/governor-io/governor/examples/cluster/api/policyv1"
	"github.com/governor-io/governor/store/meta"
)

// The scale subresource: an autoscaling/v1 Scale view of an object whose
// Type has a ScaleAccess. Writing it changes only the desired replicas.

func (r *resource[T]) scaleOf(obj T) *autoscalingv1.Scale {
	m := obj.GetObjectMeta()
	sc := &autoscalingv1.Scale{
		TypeMeta: meta.TypeMeta{Kind: "Scale", APIVersion: autoscalingv1.APIVersion},
		ObjectMeta: meta.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID,
			ResourceVersion: m.ResourceVersion, CreationTimestamp: m.CreationTimestamp},
	}
	a := r.t.Scale
	sc.Spec.Replicas = a.SpecReplicas(obj)
	sc.Status.Replicas = a.StatusReplicas(obj)
	sc.Status.Selector = a.Selector(obj)
	return sc
}

func (r *resource[T]) serveScale(ctx context.Context, w http.ResponseWriter, req *http.Request, ri *requestInfo) error {
	switch ri.verb {
	case "get":
		obj, err := r.st.Get(ctx, ri.namespace, ri.name)
		if err != nil {
			return r.wire(err, ri.namespace, ri.name)
		}
		writeJSON(w, http.StatusOK, r.scaleOf(obj))
		return nil
	case "update", "patch":
	default:
		return errMethodNotAllowed(req.Method)
	}
	var toScale func(cur *autoscalingv1.Scale) (*autoscalingv1.Scale, error)
	if ri.verb == "update" {
		if err := checkBodyType(req); err != nil {
			return err
		}
		body, err := readBody(w, req, r.s.cfg.MaxRequestBodyBytes)
		if err != nil {
			return err
		}
		var sc autoscalingv1.Scale
		if err := json.Unmarshal(body, &sc); err != nil {
			return meta.NewBadRequest("the body is not a Scale: " + err.Error())
		}
		if sc.Kind != "" && sc.Kind != "Scale" {
			return meta.NewBadRequest(fmt.Sprintf("the body has kind %q, not Scale", sc.Kind))
		}
		if sc.Name != ri.name {
			return meta.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", sc.Name, ri.name))
		}
		toScale = func(*autoscalingv1.Scale) (*autoscalingv1.Scale, error) { return &sc, nil }
	} else {
		apply, err := r.patchFunc(w, req, func(doc []byte, patch map[string]any) ([]byte, error) {
			return strategicMergePatch[*autoscalingv1.Scale](doc, patch)
		})
		if err != nil {
			return err
		}
		toScale = func(cur *autoscalingv1.Scale) (*autoscalingv1.Scale, error) {
			doc, err := json.Marshal(cur)
			if err != nil {
				return nil, meta.NewInternalError(err)
			}
			out, err := apply(doc)
			if err != nil {
				return nil, err
			}
			var sc autoscalingv1.Scale
			if err := json.Unmarshal(out, &sc); err != nil {
				return nil, meta.NewInvalid("Scale", ri.name, meta.Cause{Type: meta.CauseTypeFieldValueInvalid, Message: "the patched Scale does not decode: " + err.Error()})
			}
			return &sc, nil
		}
	}
	out, err := r.st.GuaranteedUpdate(ctx, ri.namespace, ri.name, func(cur T) (T, error) {
		var zero T
		sc, err := toScale(r.scaleOf(cur))
		if err != nil {
			return zero, err
		}
		if sc.ResourceVersion != "" && sc.ResourceVersion != cur.GetObjectMeta().ResourceVersion {
			return zero, meta.NewConflict(r.t.GroupResource(), ri.name,
				"the object has been modified; please apply your changes to the latest version and try again")
		}
		if sc.Spec.Replicas < 0 {
			return zero, meta.NewInvalid("Scale", ri.name, meta.Cause{Field: "spec.replicas",
				Type: meta.CauseTypeFieldValueInvalid, Message: "must be greater than or equal to 0"})
		}
		r.t.Scale.SetSpecReplicas(cur, sc.Spec.Replicas)
		return cur, nil
	})
	if err != nil {
		return r.wire(err, ri.namespace, ri.name)
	}
	writeJSON(w, http.StatusOK, r.scaleOf(out))
	return nil
}

// successStatus is the body of a subresource create that returns no
// object (binding, eviction).
func successStatus(code int) meta.Status {
	return meta.Status{TypeMeta: meta.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status: meta.StatusSuccess, Code: int32(code)}
}

// serveBinding binds a pod to a node, as the scheduler does: it sets
// spec.nodeName (409 if the pod is bound already) and then the
// PodScheduled condition. The two are separate writes, since the store
// writes spec and status apart.
func serveBinding(ctx context.Context, r *resource[*corev1.Pod], w http.ResponseWriter, req *http.Request, ri *requestInfo) error {
	if err := checkBodyType(req); err != nil {
		return err
	}
	body, err := readBody(w, req, r.s.cfg.MaxRequestBodyBytes)
	if err != nil {
		return err
	}
	var b corev1.Binding
	if err := json.Unmarshal(body, &b); err != nil {
		return meta.NewBadRequest("the body is not a Binding: " + err.Error())
	}
	if b.Kind != "" && b.Kind != "Binding" {
		return meta.NewBadRequest(fmt.Sprintf("the body has kind %q, not Binding", b.Kind))
	}
	if b.Name != ri.name {
		return meta.NewBadRequest(fmt.Sprintf("the name of the binding (%s) does not match the pod on the URL (%s)", b.Name, ri.name))
	}
	if b.Namespace != "" && b.Namespace != ri.namespace {
		return meta.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		return meta.NewInvalid("Binding", b.Name, meta.Cause{Field: "target.kind", Type: meta.CauseTypeFieldValueNotSupported, Message: `must be "Node"`})
	}
	if b.Target.Name == "" {
		return meta.NewInvalid("Binding", b.Name, meta.Cause{Field: "target.name", Type: meta.CauseTypeFieldValueRequired, Message: "must name a node"})
	}
	_, err = r.st.GuaranteedUpdate(ctx, ri.namespace, ri.name, func(p *corev1.Pod) (*corev1.Pod, error) {
		if b.UID != "" && b.UID != p.UID {
			return nil, meta.NewConflict(r.t.GroupResource(), ri.name, fmt.Sprintf("precondition failed: uid in binding %s does not match the pod's %s", b.UID, p.UID))
		}
		if p.DeletionTimestamp != nil {
			return nil, meta.NewConflict(r.t.GroupResource(), ri.name, "pod is being deleted, cannot be assigned to a host")
		}
		if p.Spec.NodeName != "" {
			return nil, meta.NewConflict(r.t.GroupResource(), ri.name, fmt.Sprintf("pod %s is already assigned to node %q", ri.name, p.Spec.NodeName))
		}
		p.Spec.NodeName = b.Target.Name
		return p, nil
	})
	if err != nil {
		return r.wire(err, ri.namespace, ri.name)
	}
	now := meta.NewTime(r.s.clock.Now())
	_, err = r.st.GuaranteedUpdateStatus(ctx, ri.namespace, ri.name, func(p *corev1.Pod) (*corev1.Pod, error) {
		for i := range p.Status.Conditions {
			if c := &p.Status.Conditions[i]; c.Type == "PodScheduled" {
				if c.Status != corev1.ConditionTrue {
					c.Status, c.LastTransitionTime, c.Reason, c.Message = corev1.ConditionTrue, now, "", ""
				}
				return p, nil
			}
		}
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: "PodScheduled", Status: corev1.ConditionTrue, LastTransitionTime: now})
		return p, nil
	})
	if err != nil {
		return r.wire(err, ri.namespace, ri.name)
	}
	writeJSON(w, http.StatusCreated, successStatus(http.StatusCreated))
	return nil
}

// serveEviction deletes a pod through the eviction API with the
// Eviction's DeleteOptions. There are no PodDisruptionBudgets to honour
// yet, so every eviction is allowed.
func serveEviction(ctx context.Context, r *resource[*corev1.Pod], w http.ResponseWriter, req *http.Request, ri *requestInfo) error {
	if err := checkBodyType(req); err != nil {
		return err
	}
	body, err := readBody(w, req, r.s.cfg.MaxRequestBodyBytes)
	if err != nil {
		return err
	}
	var ev policyv1.Eviction
	if err := json.Unmarshal(body, &ev); err != nil {
		return meta.NewBadRequest("the body is not an Eviction: " + err.Error())
	}
	if ev.Kind != "" && ev.Kind != "Eviction" {
		return meta.NewBadRequest(fmt.Sprintf("the body has kind %q, not Eviction", ev.Kind))
	}
	if ev.Name != ri.name {
		return meta.NewBadRequest(fmt.Sprintf("name in URL does not match name in Eviction object: %s != %s", ri.name, ev.Name))
	}
	opts := &deleteOptions{}
	if d := ev.DeleteOptions; d != nil {
		opts.GracePeriodSeconds, opts.Preconditions, opts.OrphanDependents = d.GracePeriodSeconds, d.Preconditions, d.OrphanDependents
		opts.PropagationPolicy, opts.DryRun = d.PropagationPolicy, d.DryRun
	}
	if _, err := r.deleteOne(ctx, ri.namespace, ri.name, opts); err != nil {
		return r.wire(err, ri.namespace, ri.name)
	}
	writeJSON(w, http.StatusCreated, successStatus(http.StatusCreated))
	return nil
}
