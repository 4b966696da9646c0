package corev1

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/store/meta"
)

// Pods describes the pods resource, with its status, binding and eviction
// subresources.
var Pods = api.Type[*Pod]{
	Version: "v1", Kind: "Pod", Resource: "pods", Singular: "pod", Namespaced: true,
	ShortNames:   []string{"po"},
	Categories:   []string{"all"},
	Subresources: []string{"status", "binding", "eviction"},
	Fields: map[string]func(*Pod) string{
		"spec.nodeName":            func(p *Pod) string { return p.Spec.NodeName },
		"spec.restartPolicy":       func(p *Pod) string { return string(p.Spec.RestartPolicy) },
		"spec.schedulerName":       func(p *Pod) string { return p.Spec.SchedulerName },
		"spec.serviceAccountName":  func(p *Pod) string { return p.Spec.ServiceAccountName },
		"spec.hostNetwork":         func(p *Pod) string { return strconv.FormatBool(p.Spec.HostNetwork) },
		"status.phase":             func(p *Pod) string { return string(p.Status.Phase) },
		"status.podIP":             func(p *Pod) string { return p.Status.PodIP },
		"status.nominatedNodeName": func(p *Pod) string { return p.Status.NominatedNodeName },
	},
	Columns: api.Columns(
		api.Column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
		api.Column("Status", "The aggregate status of the containers in this pod."),
		api.Column("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
		api.AgeColumn,
		api.WideColumn("IP", "IP address allocated to the pod. Routable at least within the cluster."),
		api.WideColumn("Node", "NodeName is a request to schedule this pod onto a specific node."),
		api.WideColumn("Nominated Node", "nominatedNodeName is set when this pod preempts other pods on the node."),
		api.WideColumn("Readiness Gates", "If specified, all readiness gates will be evaluated for pod readiness."),
	),
	Cells: podCells,
	Default: func(p *Pod) {
		DefaultPodSpec(&p.Spec)
		if p.Status.Phase == "" {
			p.Status.Phase = PodPending
		}
		if p.Status.QOSClass == "" {
			p.Status.QOSClass = qosClass(&p.Spec)
		}
	},
	Validate:       validatePod,
	ValidateUpdate: validatePodUpdate,
	New:            func() *Pod { return new(Pod) },
}

// podCells computes a pod's row as kubectl shows it.
func podCells(p *Pod, now time.Time) []any {
	total := len(p.Spec.Containers)
	ready := 0
	restarts := 0
	var lastRestart time.Time
	noteRestart := func(cs ContainerStatus) {
		restarts += int(cs.RestartCount)
		if t := cs.LastTerminationState.Terminated; t != nil && t.FinishedAt.After(lastRestart) {
			lastRestart = t.FinishedAt.Time
		}
	}
	reason := string(p.Status.Phase)
	if p.Status.Reason != "" {
		reason = p.Status.Reason
	}
	for _, c := range p.Status.Conditions {
		if c.Type == PodScheduled && c.Reason == "SchedulingGated" {
			reason = "SchedulingGated"
		}
	}
	sidecars := map[string]bool{}
	for _, c := range p.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == "Always" {
			sidecars[c.Name] = true
			total++
		}
	}
	initializing := false
	for i, cs := range p.Status.InitContainerStatuses {
		noteRestart(cs)
		if sidecars[cs.Name] && cs.Started != nil && *cs.Started && cs.Ready {
			ready++
		}
		switch {
		case cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0:
			continue
		case sidecars[cs.Name] && cs.Started != nil && *cs.Started:
			continue
		case cs.State.Terminated != nil:
			t := cs.State.Terminated
			switch {
			case t.Reason != "":
				reason = "Init:" + t.Reason
			case t.Signal != 0:
				reason = fmt.Sprintf("Init:Signal:%d", t.Signal)
			default:
				reason = fmt.Sprintf("Init:ExitCode:%d", t.ExitCode)
			}
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "" && cs.State.Waiting.Reason != "PodInitializing":
			reason = "Init:" + cs.State.Waiting.Reason
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(p.Spec.InitContainers))
		}
		initializing = true
		break
	}
	if !initializing || isPodReady(p) {
		hasRunning := false
		for i := len(p.Status.ContainerStatuses) - 1; i >= 0; i-- {
			cs := p.Status.ContainerStatuses[i]
			noteRestart(cs)
			switch s := cs.State; {
			case s.Waiting != nil && s.Waiting.Reason != "":
				reason = s.Waiting.Reason
			case s.Terminated != nil && s.Terminated.Reason != "":
				reason = s.Terminated.Reason
			case s.Terminated != nil && s.Terminated.Signal != 0:
				reason = fmt.Sprintf("Signal:%d", s.Terminated.Signal)
			case s.Terminated != nil:
				reason = fmt.Sprintf("ExitCode:%d", s.Terminated.ExitCode)
			case s.Running != nil && cs.Ready:
				hasRunning = true
				ready++
			}
		}
		if reason == "Completed" && hasRunning {
			if isPodReady(p) {
				reason = "Running"
			} else {
				reason = "NotReady"
			}
		}
	}
	if p.DeletionTimestamp != nil {
		if p.Status.Reason == "NodeLost" {
			reason = "Unknown"
		} else {
			reason = "Terminating"
		}
	}
	restartCell := strconv.Itoa(restarts)
	if !lastRestart.IsZero() {
		restartCell = fmt.Sprintf("%d (%s ago)", restarts, api.HumanDuration(now.Sub(lastRestart)))
	}
	gates := "<none>"
	if n := len(p.Spec.ReadinessGates); n > 0 {
		met := 0
		for _, g := range p.Spec.ReadinessGates {
			for _, c := range p.Status.Conditions {
				if c.Type == g.ConditionType && c.Status == ConditionTrue {
					met++
				}
			}
		}
		gates = fmt.Sprintf("%d/%d", met, n)
	}
	return []any{p.Name, fmt.Sprintf("%d/%d", ready, total), reason, restartCell, api.Age(p.CreationTimestamp, now),
		orNone(p.Status.PodIP), orNone(p.Spec.NodeName), orNone(p.Status.NominatedNodeName), gates}
}

// isPodReady reports whether the pod's Ready condition is True.
func isPodReady(p *Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == PodReady {
			return c.Status == ConditionTrue
		}
	}
	return false
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// validatePod checks what Kubernetes requires of every pod: valid
// metadata, at least one container, unique DNS-label container names, an
// image per container, known restart and DNS policies and valid ports.
func validatePod(p *Pod) []meta.Cause {
	causes := api.ValidateObjectMeta(&p.ObjectMeta, true, api.DNS1123Subdomain)
	causes = append(causes, ValidatePodSpec(&p.Spec, "spec")...)
	return causes
}

// ValidatePodSpec checks a pod spec (of a pod or of a pod template) and
// names the offending fields under path.
func ValidatePodSpec(s *PodSpec, path string) []meta.Cause {
	var causes []meta.Cause
	if len(s.Containers) == 0 {
		causes = append(causes, api.Required(path+".containers", ""))
	}
	names := map[string]bool{}
	check := func(field string, cs []Container) {
		for i, c := range cs {
			p := fmt.Sprintf("%s.%s[%d]", path, field, i)
			if c.Name == "" {
				causes = append(causes, api.Required(p+".name", ""))
			} else {
				for _, msg := range api.DNS1123Label(c.Name, false) {
					causes = append(causes, api.Invalid(p+".name", c.Name, msg))
				}
				if names[c.Name] {
					causes = append(causes, meta.Cause{Type: "FieldValueDuplicate", Field: p + ".name",
						Message: fmt.Sprintf("Duplicate value: %q", c.Name)})
				}
				names[c.Name] = true
			}
			if c.Image == "" {
				causes = append(causes, api.Required(p+".image", ""))
			}
			for j, port := range c.Ports {
				if port.ContainerPort < 1 || port.ContainerPort > 65535 {
					causes = append(causes, api.Invalid(fmt.Sprintf("%s.ports[%d].containerPort", p, j), port.ContainerPort,
						"must be between 1 and 65535, inclusive"))
				}
				if port.Protocol != "" && port.Protocol != "TCP" && port.Protocol != "UDP" && port.Protocol != "SCTP" {
					causes = append(causes, api.NotSupported(fmt.Sprintf("%s.ports[%d].protocol", p, j), port.Protocol, "SCTP", "TCP", "UDP"))
				}
			}
			for j, e := range c.Env {
				if e.Name == "" {
					causes = append(causes, api.Required(fmt.Sprintf("%s.env[%d].name", p, j), ""))
				}
			}
		}
	}
	volumes := map[string]bool{}
	for i := range s.Volumes {
		v := &s.Volumes[i]
		p := fmt.Sprintf("%s.volumes[%d]", path, i)
		switch {
		case v.Name == "":
			causes = append(causes, api.Required(p+".name", ""))
		case volumes[v.Name]:
			causes = append(causes, meta.Cause{Type: "FieldValueDuplicate", Field: p + ".name", Message: fmt.Sprintf("Duplicate value: %q", v.Name)})
		default:
			for _, msg := range api.DNS1123Label(v.Name, false) {
				causes = append(causes, api.Invalid(p+".name", v.Name, msg))
			}
		}
		volumes[v.Name] = true
		if n := v.VolumeSource.count(); n > 1 {
			causes = append(causes, api.Forbidden(p, "may not specify more than 1 volume type"))
		}
	}
	checkMounts := func(field string, cs []Container) {
		for i, c := range cs {
			for j, m := range c.VolumeMounts {
				p := fmt.Sprintf("%s.%s[%d].volumeMounts[%d]", path, field, i, j)
				if !volumes[m.Name] {
					causes = append(causes, api.NotFound(p+".name", m.Name))
				}
				if m.MountPath == "" {
					causes = append(causes, api.Required(p+".mountPath", ""))
				}
			}
		}
	}
	check("initContainers", s.InitContainers)
	check("containers", s.Containers)
	checkMounts("initContainers", s.InitContainers)
	checkMounts("containers", s.Containers)
	switch s.RestartPolicy {
	case "", RestartPolicyAlways, RestartPolicyOnFailure, RestartPolicyNever:
	default:
		causes = append(causes, api.NotSupported(path+".restartPolicy", string(s.RestartPolicy), "Always", "Never", "OnFailure"))
	}
	switch s.DNSPolicy {
	case "", "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None":
	default:
		causes = append(causes, api.NotSupported(path+".dnsPolicy", s.DNSPolicy, "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"))
	}
	if s.NodeName != "" {
		for _, msg := range api.DNS1123Subdomain(s.NodeName, false) {
			causes = append(causes, api.Invalid(path+".nodeName", s.NodeName, msg))
		}
	}
	if g := s.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		causes = append(causes, api.Invalid(path+".terminationGracePeriodSeconds", *g, "must be greater than or equal to 0"))
	}
	for i, t := range s.Tolerations {
		p := fmt.Sprintf("%s.tolerations[%d]", path, i)
		switch t.Operator {
		case "", "Equal":
		case "Exists":
			if t.Value != "" {
				causes = append(causes, api.Invalid(p+".operator", t.Value, "value must be empty when `operator` is 'Exists'"))
			}
		default:
			causes = append(causes, api.NotSupported(p+".operator", t.Operator, "Equal", "Exists"))
		}
		switch t.Effect {
		case "", "NoSchedule", "PreferNoSchedule", "NoExecute":
		default:
			causes = append(causes, api.NotSupported(p+".effect", t.Effect, "NoExecute", "NoSchedule", "PreferNoSchedule"))
		}
	}
	return causes
}

// DefaultPodSpec fills in the fields Kubernetes defaults in a pod spec:
// restart and DNS policies, the scheduler, the grace period, each
// container's termination message, pull policy and port protocols.
func DefaultPodSpec(s *PodSpec) {
	if s.RestartPolicy == "" {
		s.RestartPolicy = RestartPolicyAlways
	}
	if s.DNSPolicy == "" {
		s.DNSPolicy = "ClusterFirst"
	}
	if s.SchedulerName == "" {
		s.SchedulerName = "default-scheduler"
	}
	if s.TerminationGracePeriodSeconds == nil {
		g := int64(30)
		s.TerminationGracePeriodSeconds = &g
	}
	if s.EnableServiceLinks == nil {
		t := true
		s.EnableServiceLinks = &t
	}
	if s.SecurityContext == nil {
		s.SecurityContext = json.RawMessage("{}")
	}
	if s.DeprecatedServiceAccount == "" && s.ServiceAccountName != "" {
		s.DeprecatedServiceAccount = s.ServiceAccountName
	}
	for i := range s.Volumes {
		if s.Volumes[i].VolumeSource.count() == 0 {
			s.Volumes[i].EmptyDir = &EmptyDirVolumeSource{}
		}
	}
	for _, cs := range [][]Container{s.InitContainers, s.Containers} {
		for i := range cs {
			c := &cs[i]
			if c.TerminationMessagePath == "" {
				c.TerminationMessagePath = "/dev/termination-log"
			}
			if c.TerminationMessagePolicy == "" {
				c.TerminationMessagePolicy = "File"
			}
			if c.ImagePullPolicy == "" {
				c.ImagePullPolicy = defaultPullPolicy(c.Image)
			}
			for j := range c.Ports {
				if c.Ports[j].Protocol == "" {
					c.Ports[j].Protocol = "TCP"
				}
			}
		}
	}
}

// defaultPullPolicy is Always for an image tagged "latest" or not tagged
// at all, and IfNotPresent otherwise.
func defaultPullPolicy(image string) string {
	if strings.Contains(image, "@") {
		return "IfNotPresent"
	}
	name := image[strings.LastIndexByte(image, '/')+1:]
	tag := ""
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		tag = name[i+1:]
	}
	if tag == "" || tag == "latest" {
		return "Always"
	}
	return "IfNotPresent"
}

// qosClass is Guaranteed when every container sets equal cpu and memory
// requests and limits, BestEffort when none sets any, and Burstable
// otherwise.
func qosClass(s *PodSpec) string {
	set, guaranteed := false, true
	for _, c := range append(append([]Container(nil), s.InitContainers...), s.Containers...) {
		if len(c.Resources.Requests) > 0 || len(c.Resources.Limits) > 0 {
			set = true
		}
		for _, r := range []string{"cpu", "memory"} {
			l, ok := c.Resources.Limits[r]
			if !ok {
				guaranteed = false
				continue
			}
			if q, ok := c.Resources.Requests[r]; ok && !sameQuantity(q, l) {
				guaranteed = false
			}
		}
	}
	switch {
	case !set:
		return "BestEffort"
	case guaranteed:
		return "Guaranteed"
	}
	return "Burstable"
}

func sameQuantity(a, b Quantity) bool {
	x, errA := a.MilliValue()
	y, errB := b.MilliValue()
	return errA == nil && errB == nil && x == y
}

// podUpdateForbidden is Kubernetes' account of what a pod update may
// change.
const podUpdateForbidden = "pod updates may not change fields other than `spec.containers[*].image`," +
	"`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing " +
	"tolerations),`spec.schedulingGates` (only removals) or `spec.nodeName` (only to bind an unbound pod)"

// validatePodUpdate allows a pod's spec to change only where Kubernetes
// allows it: container images, the active deadline, added tolerations,
// removed scheduling gates, and the node of a pod not yet bound (which is
// how a binding lands).
func validatePodUpdate(o, n *Pod) []meta.Cause {
	if o.Spec.NodeName != "" && n.Spec.NodeName != o.Spec.NodeName {
		return []meta.Cause{api.Forbidden("spec.nodeName", "pod updates may not change the node a pod is bound to")}
	}
	old, cur := o.Spec.DeepCopy(), n.Spec.DeepCopy()
	DefaultPodSpec(old)
	DefaultPodSpec(cur)
	for _, pair := range [][2][]Container{{old.Containers, cur.Containers}, {old.InitContainers, cur.InitContainers}} {
		for i := range pair[0] {
			if i < len(pair[1]) {
				pair[0][i].Image = pair[1][i].Image
			}
		}
	}
	old.ActiveDeadlineSeconds = cur.ActiveDeadlineSeconds
	if containsAll(cur.Tolerations, old.Tolerations) {
		old.Tolerations = cur.Tolerations
	}
	if containsAll(old.SchedulingGates, cur.SchedulingGates) {
		old.SchedulingGates = cur.SchedulingGates
	}
	if old.NodeName == "" {
		old.NodeName = cur.NodeName
	}
	a, errA := json.Marshal(old)
	b, errB := json.Marshal(cur)
	if errA != nil || errB != nil || string(a) != string(b) {
		return []meta.Cause{api.Forbidden("spec", podUpdateForbidden)}
	}
	return nil
}

// containsAll reports whether every element of sub is in set, comparing
// values (pointers by what they point at).
func containsAll[E any](set, sub []E) bool {
	for _, e := range sub {
		if !slices.ContainsFunc(set, func(s E) bool { return reflect.DeepEqual(s, e) }) {
			return false
		}
	}
	return true
}
