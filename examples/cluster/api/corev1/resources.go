package corev1

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/store/meta"
)

// Namespaces describes the namespaces resource (cluster-scoped).
var Namespaces = api.Type[*Namespace]{
	Version: "v1", Kind: "Namespace", Resource: "namespaces", Singular: "namespace",
	ShortNames:   []string{"ns"},
	Subresources: []string{"status", "finalize"},
	Fields:       map[string]func(*Namespace) string{"status.phase": func(n *Namespace) string { return string(n.Status.Phase) }},
	Columns:      api.Columns(api.Column("Status", "The status of the namespace"), api.AgeColumn),
	Cells: func(n *Namespace, now time.Time) []any {
		return []any{n.Name, string(n.Status.Phase), api.Age(n.CreationTimestamp, now)}
	},
	Default: func(n *Namespace) {
		if n.Status.Phase == "" {
			n.Status.Phase = NamespaceActive
		}
	},
	Validate: func(n *Namespace) []meta.Cause {
		return api.ValidateObjectMeta(&n.ObjectMeta, false, api.DNS1123Label)
	},
	New: func() *Namespace { return new(Namespace) },
}

// Nodes describes the nodes resource (cluster-scoped), with its status
// subresource.
var Nodes = api.Type[*Node]{
	Version: "v1", Kind: "Node", Resource: "nodes", Singular: "node",
	ShortNames:   []string{"no"},
	Subresources: []string{"status"},
	Fields: map[string]func(*Node) string{
		"spec.unschedulable": func(n *Node) string { return strconv.FormatBool(n.Spec.Unschedulable) },
	},
	Columns: api.Columns(
		api.Column("Status", "The status of the node"),
		api.Column("Roles", "The roles of the node"),
		api.AgeColumn,
		api.Column("Version", "Kubelet Version reported by the node."),
		api.WideColumn("Internal-IP", "List of addresses reachable to the node. Queried from cloud provider, if available."),
		api.WideColumn("External-IP", "List of addresses reachable to the node. Queried from cloud provider, if available."),
		api.WideColumn("OS-Image", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
		api.WideColumn("Kernel-Version", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
		api.WideColumn("Container-Runtime", "Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2)."),
	),
	Cells: nodeCells,
	Validate: func(n *Node) []meta.Cause {
		causes := api.ValidateObjectMeta(&n.ObjectMeta, false, api.DNS1123Subdomain)
		for i, t := range n.Spec.Taints {
			p := fmt.Sprintf("spec.taints[%d]", i)
			if t.Key == "" {
				causes = append(causes, api.Required(p+".key", ""))
			}
			switch t.Effect {
			case "NoSchedule", "PreferNoSchedule", "NoExecute":
			case "":
				causes = append(causes, api.Required(p+".effect", ""))
			default:
				causes = append(causes, api.NotSupported(p+".effect", t.Effect, "NoExecute", "NoSchedule", "PreferNoSchedule"))
			}
		}
		return causes
	},
	ValidateUpdate: func(o, n *Node) []meta.Cause {
		// A node's pod CIDR is assigned once.
		if o.Spec.PodCIDR != "" && n.Spec.PodCIDR != o.Spec.PodCIDR {
			return []meta.Cause{api.Forbidden("spec.podCIDR", "node updates may not change podCIDR except from \"\" to valid")}
		}
		return nil
	},
	New: func() *Node { return new(Node) },
}

func nodeCells(n *Node, now time.Time) []any {
	status := "Unknown"
	for _, c := range n.Status.Conditions {
		if c.Type == NodeReady {
			if c.Status == ConditionTrue {
				status = "Ready"
			} else {
				status = "NotReady"
			}
		}
	}
	if n.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	var roles []string
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, "node-role.kubernetes.io/"):
			if r := strings.TrimPrefix(k, "node-role.kubernetes.io/"); r != "" {
				roles = append(roles, r)
			}
		case k == "kubernetes.io/role" && v != "":
			roles = append(roles, v)
		}
	}
	slices.Sort(roles)
	roleCell := "<none>"
	if len(roles) > 0 {
		roleCell = strings.Join(slices.Compact(roles), ",")
	}
	addr := func(typ string) string {
		for _, a := range n.Status.Addresses {
			if a.Type == typ {
				return a.Address
			}
		}
		return "<none>"
	}
	osImage, kernel, runtime := n.Status.NodeInfo.OSImage, n.Status.NodeInfo.KernelVersion, n.Status.NodeInfo.ContainerRuntimeVersion
	if osImage == "" {
		osImage = "<unknown>"
	}
	if kernel == "" {
		kernel = "<unknown>"
	}
	if runtime == "" {
		runtime = "<unknown>"
	}
	return []any{n.Name, status, roleCell, api.Age(n.CreationTimestamp, now), n.Status.NodeInfo.KubeletVersion,
		addr("InternalIP"), addr("ExternalIP"), osImage, kernel, runtime}
}

// Services describes the services resource, with its status subresource.
var Services = api.Type[*Service]{
	Version: "v1", Kind: "Service", Resource: "services", Singular: "service", Namespaced: true,
	ShortNames:   []string{"svc"},
	Categories:   []string{"all"},
	Subresources: []string{"status"},
	Fields: map[string]func(*Service) string{
		"spec.clusterIP": func(s *Service) string { return s.Spec.ClusterIP },
		"spec.type":      func(s *Service) string { return s.Spec.Type },
	},
	Columns: api.Columns(
		api.Column("Type", "The type of the service"),
		api.Column("Cluster-IP", "The cluster IP of the service"),
		api.Column("External-IP", "The external IP of the service"),
		api.Column("Port(s)", "The ports of the service"),
		api.AgeColumn,
		api.WideColumn("Selector", "Route service traffic to pods with label keys and values matching this selector."),
	),
	Cells: serviceCells,
	ValidateUpdate: func(o, n *Service) []meta.Cause {
		// Once allocated, a service's cluster IP stays (unless the service
		// becomes an ExternalName, which has none).
		if o.Spec.ClusterIP != "" && n.Spec.Type != ServiceTypeExternalName && n.Spec.ClusterIP != o.Spec.ClusterIP {
			return []meta.Cause{api.Invalid("spec.clusterIP", n.Spec.ClusterIP, "field is immutable")}
		}
		return nil
	},
	Default: func(s *Service) {
		if s.Spec.Type == "" {
			s.Spec.Type = ServiceTypeClusterIP
		}
		if s.Spec.SessionAffinity == "" {
			s.Spec.SessionAffinity = "None"
		}
		if s.Spec.Type != ServiceTypeExternalName && s.Spec.InternalTrafficPolicy == nil {
			p := "Cluster"
			s.Spec.InternalTrafficPolicy = &p
		}
		for i := range s.Spec.Ports {
			p := &s.Spec.Ports[i]
			if p.Protocol == "" {
				p.Protocol = "TCP"
			}
			if !p.TargetPort.IsString && p.TargetPort.IntVal == 0 {
				p.TargetPort = api.FromInt(p.Port)
			}
		}
	},
	Validate: validateService,
	New:      func() *Service { return new(Service) },
}

func serviceCells(s *Service, now time.Time) []any {
	typ := s.Spec.Type
	if typ == "" {
		typ = ServiceTypeClusterIP
	}
	external := "<none>"
	switch typ {
	case ServiceTypeClusterIP, ServiceTypeNodePort:
		if len(s.Spec.ExternalIPs) > 0 {
			external = strings.Join(s.Spec.ExternalIPs, ",")
		}
	case ServiceTypeLoadBalancer:
		var ips []string
		for _, in := range s.Status.LoadBalancer.Ingress {
			if in.IP != "" {
				ips = append(ips, in.IP)
			} else if in.Hostname != "" {
				ips = append(ips, in.Hostname)
			}
		}
		ips = append(ips, s.Spec.ExternalIPs...)
		if len(ips) > 0 {
			external = strings.Join(ips, ",")
		} else {
			external = "<pending>"
		}
	case ServiceTypeExternalName:
		external = s.Spec.ExternalName
	}
	var ports []string
	for _, p := range s.Spec.Ports {
		if p.NodePort > 0 {
			ports = append(ports, fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol))
		} else {
			ports = append(ports, fmt.Sprintf("%d/%s", p.Port, p.Protocol))
		}
	}
	portCell := "<none>"
	if len(ports) > 0 {
		portCell = strings.Join(ports, ",")
	}
	return []any{s.Name, typ, orNone(s.Spec.ClusterIP), external, portCell, api.Age(s.CreationTimestamp, now),
		selectorCell(s.Spec.Selector)}
}

// selectorCell prints a map selector as "k1=v1,k2=v2", or "<none>".
func selectorCell(sel map[string]string) string {
	if len(sel) == 0 {
		return "<none>"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(sel)) {
		parts = append(parts, k+"="+sel[k])
	}
	return strings.Join(parts, ",")
}

func validateService(s *Service) []meta.Cause {
	causes := api.ValidateObjectMeta(&s.ObjectMeta, true, api.DNS1035Label)
	switch s.Spec.Type {
	case "", ServiceTypeClusterIP, ServiceTypeNodePort, ServiceTypeLoadBalancer:
		if len(s.Spec.Ports) == 0 && s.Spec.ClusterIP != "None" {
			causes = append(causes, api.Required("spec.ports", ""))
		}
	case ServiceTypeExternalName:
		if s.Spec.ExternalName == "" {
			causes = append(causes, api.Required("spec.externalName", ""))
		}
	default:
		causes = append(causes, api.NotSupported("spec.type", s.Spec.Type, "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"))
	}
	seen := map[string]bool{}
	for i, p := range s.Spec.Ports {
		f := fmt.Sprintf("spec.ports[%d]", i)
		if len(s.Spec.Ports) > 1 && p.Name == "" {
			causes = append(causes, api.Required(f+".name", ""))
		}
		if p.Port < 1 || p.Port > 65535 {
			causes = append(causes, api.Invalid(f+".port", p.Port, "must be between 1 and 65535, inclusive"))
		}
		switch p.Protocol {
		case "", "TCP", "UDP", "SCTP":
		default:
			causes = append(causes, api.NotSupported(f+".protocol", p.Protocol, "SCTP", "TCP", "UDP"))
		}
		key := strconv.Itoa(int(p.Port)) + "/" + p.Protocol
		if seen[key] {
			causes = append(causes, meta.Cause{Type: "FieldValueDuplicate", Field: f, Message: fmt.Sprintf("Duplicate value: %q", key)})
		}
		seen[key] = true
	}
	return causes
}

// configKey checks a key of a config map or secret: at most 253 of
// [-._a-zA-Z0-9].
func configKey(field, k string) []meta.Cause {
	if k == "" || len(k) > 253 || strings.Trim(k, "-._abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		return []meta.Cause{api.Invalid(field, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "+
			"(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")}
	}
	return nil
}

// ConfigMaps describes the configmaps resource.
var ConfigMaps = api.Type[*ConfigMap]{
	Version: "v1", Kind: "ConfigMap", Resource: "configmaps", Singular: "configmap", Namespaced: true,
	ShortNames: []string{"cm"},
	Columns:    api.Columns(api.TableColumn{Name: "Data", Type: "string", Description: "Data contains the configuration data."}, api.AgeColumn),
	Cells: func(c *ConfigMap, now time.Time) []any {
		return []any{c.Name, int64(len(c.Data) + len(c.BinaryData)), api.Age(c.CreationTimestamp, now)}
	},
	Validate: func(c *ConfigMap) []meta.Cause {
		causes := api.ValidateObjectMeta(&c.ObjectMeta, true, api.DNS1123Subdomain)
		for k := range c.Data {
			causes = append(causes, configKey("data["+k+"]", k)...)
		}
		for k := range c.BinaryData {
			causes = append(causes, configKey("binaryData["+k+"]", k)...)
			if _, dup := c.Data[k]; dup {
				causes = append(causes, api.Invalid("data["+k+"]", k, "duplicate of key present in binaryData"))
			}
		}
		return causes
	},
	ValidateUpdate: func(o, n *ConfigMap) []meta.Cause {
		if o.Immutable != nil && *o.Immutable && !(maps.Equal(o.Data, n.Data) && binaryEqual(o.BinaryData, n.BinaryData) && n.Immutable != nil && *n.Immutable) {
			return []meta.Cause{api.Forbidden("data", "field is immutable when `immutable` is set")}
		}
		return nil
	},
	New: func() *ConfigMap { return new(ConfigMap) },
}

func binaryEqual(a, b map[string][]byte) bool {
	return maps.EqualFunc(a, b, func(x, y []byte) bool { return string(x) == string(y) })
}

// Secrets describes the secrets resource.
var Secrets = api.Type[*Secret]{
	Version: "v1", Kind: "Secret", Resource: "secrets", Singular: "secret", Namespaced: true,
	Fields: map[string]func(*Secret) string{"type": func(s *Secret) string { return s.Type }},
	Default: func(s *Secret) {
		if s.Type == "" {
			s.Type = "Opaque"
		}
		// stringData is write-only: it lands in data, as Kubernetes does
		// it on every create and update.
		if len(s.StringData) > 0 && s.Data == nil {
			s.Data = make(map[string][]byte, len(s.StringData))
		}
		for k, v := range s.StringData {
			s.Data[k] = []byte(v)
		}
		s.StringData = nil
	},
	Columns: api.Columns(
		api.Column("Type", "The type of the secret"),
		api.TableColumn{Name: "Data", Type: "string", Description: "The number of keys in the secret"},
		api.AgeColumn),
	Cells: func(s *Secret, now time.Time) []any {
		return []any{s.Name, s.Type, int64(len(s.Data)), api.Age(s.CreationTimestamp, now)}
	},
	Validate: func(s *Secret) []meta.Cause {
		causes := api.ValidateObjectMeta(&s.ObjectMeta, true, api.DNS1123Subdomain)
		for k := range s.Data {
			causes = append(causes, configKey("data["+k+"]", k)...)
		}
		for k := range s.StringData {
			causes = append(causes, configKey("stringData["+k+"]", k)...)
		}
		size := 0
		for _, v := range s.Data {
			size += len(v)
		}
		if size > 1<<20 {
			causes = append(causes, meta.Cause{Type: meta.CauseTypeFieldValueTooLong, Field: "data",
				Message: "Too long: may not be more than 1048576 bytes"})
		}
		return causes
	},
	ValidateUpdate: func(o, n *Secret) []meta.Cause {
		var causes []meta.Cause
		if o.Type != "" && n.Type != o.Type {
			causes = append(causes, api.Invalid("type", n.Type, "field is immutable"))
		}
		if o.Immutable != nil && *o.Immutable && !binaryEqual(o.Data, n.Data) {
			causes = append(causes, api.Forbidden("data", "field is immutable when `immutable` is set"))
		}
		return causes
	},
	New: func() *Secret { return new(Secret) },
}

// ServiceAccounts describes the serviceaccounts resource.
var ServiceAccounts = api.Type[*ServiceAccount]{
	Version: "v1", Kind: "ServiceAccount", Resource: "serviceaccounts", Singular: "serviceaccount", Namespaced: true,
	ShortNames: []string{"sa"},
	Columns: api.Columns(
		api.TableColumn{Name: "Secrets", Type: "string", Description: "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use."},
		api.AgeColumn),
	Cells: func(s *ServiceAccount, now time.Time) []any {
		return []any{s.Name, int64(len(s.Secrets)), api.Age(s.CreationTimestamp, now)}
	},
	Validate: func(s *ServiceAccount) []meta.Cause {
		return api.ValidateObjectMeta(&s.ObjectMeta, true, api.DNS1123Subdomain)
	},
	New: func() *ServiceAccount { return new(ServiceAccount) },
}

// EventColumns are the columns kubectl prints for events (core/v1 and
// events.k8s.io/v1 alike): no leading NAME, which is a wide column.
var EventColumns = []api.TableColumn{
	api.Column("Last Seen", "The time the event was last seen"),
	api.Column("Type", "The type of event"),
	api.Column("Reason", "The reason for the event"),
	api.Column("Object", "The object this event is about"),
	api.WideColumn("Subobject", "The subobject (field path) this event is about"),
	api.WideColumn("Source", "The component that reported the event"),
	api.Column("Message", "A human-readable description of the event"),
	api.WideColumn("First Seen", "The time the event was first seen"),
	api.WideColumn("Count", "The number of times the event occurred"),
	{Name: "Name", Type: "string", Format: "name", Priority: 1, Description: api.NameColumn.Description},
}

// EventCells returns an event's row for [EventColumns] from the fields
// both event APIs share.
func EventCells(name, typ, reason, message string, regarding ObjectReference, source string,
	first, last time.Time, count int32, now time.Time) []any {
	since := func(t time.Time) string {
		if t.IsZero() {
			return "<unknown>"
		}
		return api.HumanDuration(now.Sub(t))
	}
	if last.IsZero() {
		last = first
	}
	return []any{since(last), typ, reason, strings.ToLower(regarding.Kind) + "/" + regarding.Name, regarding.FieldPath,
		source, strings.TrimSpace(message), since(first), strconv.Itoa(int(count)), name}
}

// Events describes the core/v1 events resource.
var Events = api.Type[*Event]{
	Version: "v1", Kind: "Event", Resource: "events", Singular: "event", Namespaced: true,
	ShortNames: []string{"ev"},
	Fields: map[string]func(*Event) string{
		"involvedObject.kind":            func(e *Event) string { return e.InvolvedObject.Kind },
		"involvedObject.namespace":       func(e *Event) string { return e.InvolvedObject.Namespace },
		"involvedObject.name":            func(e *Event) string { return e.InvolvedObject.Name },
		"involvedObject.uid":             func(e *Event) string { return e.InvolvedObject.UID },
		"involvedObject.apiVersion":      func(e *Event) string { return e.InvolvedObject.APIVersion },
		"involvedObject.resourceVersion": func(e *Event) string { return e.InvolvedObject.ResourceVersion },
		"involvedObject.fieldPath":       func(e *Event) string { return e.InvolvedObject.FieldPath },
		"reason":                         func(e *Event) string { return e.Reason },
		"reportingComponent":             func(e *Event) string { return e.ReportingController },
		"source":                         func(e *Event) string { return e.Source.Component },
		"type":                           func(e *Event) string { return e.Type },
	},
	Columns: EventColumns,
	Cells: func(e *Event, now time.Time) []any {
		first := e.FirstTimestamp.Time
		if first.IsZero() {
			first = e.EventTime.Time
		}
		last, count := e.LastTimestamp.Time, e.Count
		if e.Series != nil {
			last, count = e.Series.LastObservedTime.Time, e.Series.Count
		} else if count == 0 {
			count = 1
		}
		source := e.Source.Component
		if source == "" {
			source = e.ReportingController
		}
		if e.Source.Host != "" {
			source += ", " + e.Source.Host
		}
		return EventCells(e.Name, e.Type, e.Reason, e.Message, e.InvolvedObject, source, first, last, count, now)
	},
	Validate: func(e *Event) []meta.Cause {
		causes := api.ValidateObjectMeta(&e.ObjectMeta, true, api.DNS1123Subdomain)
		if e.InvolvedObject.Namespace != "" && e.InvolvedObject.Namespace != e.Namespace {
			causes = append(causes, api.Invalid("involvedObject.namespace", e.InvolvedObject.Namespace, "does not match event.namespace"))
		}
		if e.Type != "" && e.Type != "Normal" && e.Type != "Warning" {
			causes = append(causes, api.NotSupported("type", e.Type, "Normal", "Warning"))
		}
		return causes
	},
	New: func() *Event { return new(Event) },
}
