package corev1_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/api/corev1"
	"github.com/governor-io/governor/store/meta"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func boolPtr(b bool) *bool { return &b }

func TestPodStatusColumnFollowsKubectl(t *testing.T) {
	term := func(code, signal int32, reason string) corev1.ContainerState {
		return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Signal: signal, Reason: reason}}
	}
	wait := func(reason string) corev1.ContainerState {
		return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}
	}
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	one := []corev1.Container{{Name: "a"}}
	for _, tc := range []struct {
		name   string
		pod    corev1.Pod
		ready  string
		status string
	}{
		{"pending", corev1.Pod{Spec: corev1.PodSpec{Containers: one}, Status: corev1.PodStatus{Phase: "Pending"}}, "0/1", "Pending"},
		{"image pull", corev1.Pod{Spec: corev1.PodSpec{Containers: one}, Status: corev1.PodStatus{Phase: "Pending",
			ContainerStatuses: []corev1.ContainerStatus{{Name: "a", State: wait("ErrImagePull")}}}}, "0/1", "ErrImagePull"},
		{"crash", corev1.Pod{Spec: corev1.PodSpec{Containers: one}, Status: corev1.PodStatus{Phase: "Running",
			ContainerStatuses: []corev1.ContainerStatus{{Name: "a", State: wait("CrashLoopBackOff"), RestartCount: 4}}}}, "0/1", "CrashLoopBackOff"},
		{"completed", corev1.Pod{Spec: corev1.PodSpec{Containers: one}, Status: corev1.PodStatus{Phase: "Succeeded",
			ContainerStatuses: []corev1.ContainerStatus{{Name: "a", State: term(0, 0, "Completed")}}}}, "0/1", "Completed"},
		{"signal", corev1.Pod{Spec: corev1.PodSpec{Containers: one}, Status: corev1.PodStatus{Phase: "Failed",
			ContainerStatuses: []corev1.ContainerStatus{{Name: "a", State: term(137, 9, "")}}}}, "0/1", "Signal:9"},
		{"exit code", corev1.Pod{Spec: corev1.PodSpec{Containers: one}, Status: corev1.PodStatus{Phase: "Failed",
			ContainerStatuses: []corev1.ContainerStatus{{Name: "a", State: term(2, 0, "")}}}}, "0/1", "ExitCode:2"},
		{"init waiting", corev1.Pod{Spec: corev1.PodSpec{Containers: one, InitContainers: []corev1.Container{{Name: "i"}, {Name: "j"}}},
			Status: corev1.PodStatus{Phase: "Pending", InitContainerStatuses: []corev1.ContainerStatus{
				{Name: "i", State: term(0, 0, "Completed")}, {Name: "j", State: wait("PodInitializing")}}}}, "0/1", "Init:1/2"},
		{"init failed", corev1.Pod{Spec: corev1.PodSpec{Containers: one, InitContainers: []corev1.Container{{Name: "i"}}},
			Status: corev1.PodStatus{Phase: "Pending", InitContainerStatuses: []corev1.ContainerStatus{
				{Name: "i", State: term(1, 0, "Error")}}}}, "0/1", "Init:Error"},
		{"sidecar counted", corev1.Pod{Spec: corev1.PodSpec{Containers: one,
			InitContainers: []corev1.Container{{Name: "s", RestartPolicy: strPtr("Always")}}},
			Status: corev1.PodStatus{Phase: "Running",
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "s", Started: boolPtr(true), Ready: true, State: running}},
				ContainerStatuses:     []corev1.ContainerStatus{{Name: "a", Ready: true, State: running}}}}, "2/2", "Running"},
		{"scheduling gated", corev1.Pod{Spec: corev1.PodSpec{Containers: one}, Status: corev1.PodStatus{Phase: "Pending",
			Conditions: []corev1.PodCondition{{Type: "PodScheduled", Status: "False", Reason: "SchedulingGated"}}}}, "0/1", "SchedulingGated"},
		{"terminating", corev1.Pod{ObjectMeta: meta.ObjectMeta{DeletionTimestamp: &meta.Time{Time: now}},
			Spec: corev1.PodSpec{Containers: one}, Status: corev1.PodStatus{Phase: "Running",
				ContainerStatuses: []corev1.ContainerStatus{{Name: "a", Ready: true, State: running}}}}, "1/1", "Terminating"},
		{"node lost", corev1.Pod{ObjectMeta: meta.ObjectMeta{DeletionTimestamp: &meta.Time{Time: now}},
			Spec: corev1.PodSpec{Containers: one}, Status: corev1.PodStatus{Phase: "Running", Reason: "NodeLost"}}, "0/1", "Unknown"},
		{"evicted", corev1.Pod{Spec: corev1.PodSpec{Containers: one}, Status: corev1.PodStatus{Phase: "Failed", Reason: "Evicted"}}, "0/1", "Evicted"},
	} {
		cells := corev1.Pods.Cells(&tc.pod, now)
		if cells[1] != tc.ready || cells[2] != tc.status {
			t.Errorf("%s: READY %v STATUS %v, want %s %s", tc.name, cells[1], cells[2], tc.ready, tc.status)
		}
		if len(cells) != len(corev1.Pods.Columns) {
			t.Errorf("%s: %d cells for %d columns", tc.name, len(cells), len(corev1.Pods.Columns))
		}
	}
}

func strPtr(s string) *string { return &s }

func TestPodRestartsShowsLastRestart(t *testing.T) {
	p := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "a", RestartCount: 3,
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				FinishedAt: meta.NewTime(now.Add(-90 * time.Second))}}}}}}
	if got := corev1.Pods.Cells(p, now)[3]; got != "3 (90s ago)" {
		t.Fatalf("RESTARTS = %v", got)
	}
}

func TestPodDefaultsAndValidation(t *testing.T) {
	p := &corev1.Pod{ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx", Ports: []corev1.ContainerPort{{ContainerPort: 80}}},
			{Name: "d", Image: "busybox:1.36", Resources: corev1.ResourceRequirements{
				Limits: corev1.ResourceList{"cpu": "1", "memory": "1Gi"}, Requests: corev1.ResourceList{"cpu": "1000m", "memory": "1Gi"}}}}}}
	corev1.Pods.Default(p)
	c := p.Spec.Containers[0]
	if p.Spec.RestartPolicy != "Always" || p.Spec.DNSPolicy != "ClusterFirst" || p.Spec.SchedulerName != "default-scheduler" ||
		*p.Spec.TerminationGracePeriodSeconds != 30 || c.ImagePullPolicy != "Always" || c.Ports[0].Protocol != "TCP" ||
		p.Spec.Containers[1].ImagePullPolicy != "IfNotPresent" || c.TerminationMessagePath != "/dev/termination-log" ||
		p.Status.Phase != corev1.PodPending || p.Status.QOSClass != "Burstable" {
		t.Fatalf("defaults: %+v %+v", p.Spec, p.Status)
	}
	if causes := corev1.Pods.Validate(p); len(causes) != 0 {
		t.Fatalf("valid pod rejected: %v", causes)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*corev1.Pod)
		field string
	}{
		{"no containers", func(p *corev1.Pod) { p.Spec.Containers = nil }, "spec.containers"},
		{"no image", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" }, "spec.containers[0].image"},
		{"bad container name", func(p *corev1.Pod) { p.Spec.Containers[0].Name = "C_1" }, "spec.containers[0].name"},
		{"duplicate name", func(p *corev1.Pod) { p.Spec.Containers[1].Name = "c" }, "spec.containers[1].name"},
		{"bad port", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 70000 }, "spec.containers[0].ports[0].containerPort"},
		{"bad restart policy", func(p *corev1.Pod) { p.Spec.RestartPolicy = "Sometimes" }, "spec.restartPolicy"},
		{"bad name", func(p *corev1.Pod) { p.Name = "Web" }, "metadata.name"},
		{"bad toleration", func(p *corev1.Pod) { p.Spec.Tolerations = []corev1.Toleration{{Operator: "Maybe"}} }, "spec.tolerations[0].operator"},
	} {
		q := meta.DeepCopy(p)
		tc.edit(q)
		causes := corev1.Pods.Validate(q)
		if len(causes) == 0 || causes[0].Field != tc.field {
			t.Errorf("%s: causes %v, want field %s", tc.name, causes, tc.field)
		}
	}
	bound := meta.DeepCopy(p)
	bound.Spec.NodeName = "n1"
	moved := meta.DeepCopy(bound)
	moved.Spec.NodeName = "n2"
	if causes := corev1.Pods.ValidateUpdate(bound, moved); len(causes) != 1 || causes[0].Field != "spec.nodeName" {
		t.Fatalf("moving a bound pod: %v", causes)
	}
	if causes := corev1.Pods.ValidateUpdate(p, bound); len(causes) != 0 {
		t.Fatalf("binding a pod: %v", causes)
	}
}

func TestQOSClass(t *testing.T) {
	for _, tc := range []struct {
		res  corev1.ResourceRequirements
		want string
	}{
		{corev1.ResourceRequirements{}, "BestEffort"},
		{corev1.ResourceRequirements{Limits: corev1.ResourceList{"cpu": "1", "memory": "1Gi"}}, "Guaranteed"},
		{corev1.ResourceRequirements{Limits: corev1.ResourceList{"cpu": "1", "memory": "1Gi"},
			Requests: corev1.ResourceList{"cpu": "500m"}}, "Burstable"},
	} {
		p := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Image: "x", Resources: tc.res}}}}
		corev1.Pods.Default(p)
		if p.Status.QOSClass != tc.want {
			t.Errorf("%+v: %s, want %s", tc.res, p.Status.QOSClass, tc.want)
		}
	}
}

func TestQuantity(t *testing.T) {
	for _, tc := range []struct {
		q           corev1.Quantity
		milli, val  int64
		shouldError bool
	}{
		{"100m", 100, 1, false},
		{"2", 2000, 2, false},
		{"1.5", 1500, 2, false},
		{"1Ki", 1024000, 1024, false},
		{"1M", 1e9, 1e6, false},
		{"1e3", 1e6, 1000, false},
		{"1x", 0, 0, true},
		{"", 0, 0, true},
	} {
		m, err := tc.q.MilliValue()
		v, _ := tc.q.Value()
		if (err != nil) != tc.shouldError || (err == nil && (m != tc.milli || v != tc.val)) {
			t.Errorf("%q: milli %d value %d err %v", tc.q, m, v, err)
		}
	}
	var rl corev1.ResourceList
	if err := json.Unmarshal([]byte(`{"cpu":2,"memory":"1Gi"}`), &rl); err != nil || rl["cpu"] != "2" || rl["memory"] != "1Gi" {
		t.Fatalf("decoded %v, %v", rl, err)
	}
}

func TestNodeServiceAndEventCells(t *testing.T) {
	n := &corev1.Node{ObjectMeta: meta.ObjectMeta{Name: "n1", Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}},
		Spec: corev1.NodeSpec{Unschedulable: true},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: "Ready", Status: "True"}},
			Addresses: []corev1.NodeAddress{{Type: "InternalIP", Address: "10.0.0.1"}},
			NodeInfo:  corev1.NodeSystemInfo{KubeletVersion: "v1.37.2"}}}
	cells := corev1.Nodes.Cells(n, now)
	if cells[1] != "Ready,SchedulingDisabled" || cells[2] != "control-plane" || cells[4] != "v1.37.2" || cells[5] != "10.0.0.1" || cells[6] != "<none>" {
		t.Fatalf("node cells %v", cells)
	}
	s := &corev1.Service{ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{Type: "NodePort", ClusterIP: "10.96.0.10", Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080, Protocol: "TCP"}}}}
	cells = corev1.Services.Cells(s, now)
	if cells[1] != "NodePort" || cells[2] != "10.96.0.10" || cells[3] != "<none>" || cells[4] != "80:30080/TCP" || cells[6] != "app=web" {
		t.Fatalf("service cells %v", cells)
	}
	s.Spec.Type = "LoadBalancer"
	if cells = corev1.Services.Cells(s, now); cells[3] != "<pending>" {
		t.Fatalf("pending load balancer: %v", cells[3])
	}
	e := &corev1.Event{ObjectMeta: meta.ObjectMeta{Name: "web.1"}, Type: "Normal", Reason: "Scheduled", Message: "assigned",
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web"}, FirstTimestamp: meta.NewTime(now.Add(-time.Minute)),
		Source: corev1.EventSource{Component: "default-scheduler"}}
	cells = corev1.Events.Cells(e, now)
	if cells[0] != "60s" || cells[3] != "pod/web" || cells[5] != "default-scheduler" || cells[8] != "1" || cells[9] != "web.1" {
		t.Fatalf("event cells %v", cells)
	}
}

func TestServiceDefaultsAndValidation(t *testing.T) {
	s := &corev1.Service{ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
	corev1.Services.Default(s)
	if s.Spec.Type != "ClusterIP" || s.Spec.Ports[0].Protocol != "TCP" || s.Spec.Ports[0].TargetPort.IntVal != 80 || s.Spec.SessionAffinity != "None" {
		t.Fatalf("defaults %+v", s.Spec)
	}
	if causes := corev1.Services.Validate(s); len(causes) != 0 {
		t.Fatalf("valid service rejected: %v", causes)
	}
	s.Name = "1web"
	if causes := corev1.Services.Validate(s); len(causes) != 1 || causes[0].Field != "metadata.name" {
		t.Fatalf("service name must be a DNS-1035 label: %v", causes)
	}
}

func TestConfigMapAndSecretValidation(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "c", Namespace: "d"}, Data: map[string]string{"a b": "x"}}
	if causes := corev1.ConfigMaps.Validate(cm); len(causes) != 1 || causes[0].Field != "data[a b]" {
		t.Fatalf("bad key: %v", causes)
	}
	imm := true
	old := &corev1.ConfigMap{ObjectMeta: cm.ObjectMeta, Immutable: &imm, Data: map[string]string{"a": "1"}}
	upd := &corev1.ConfigMap{ObjectMeta: cm.ObjectMeta, Immutable: &imm, Data: map[string]string{"a": "2"}}
	if causes := corev1.ConfigMaps.ValidateUpdate(old, upd); len(causes) != 1 {
		t.Fatalf("immutable config map changed: %v", causes)
	}
	sec := &corev1.Secret{ObjectMeta: meta.ObjectMeta{Name: "s", Namespace: "d"},
		Data: map[string][]byte{"a": []byte("1"), "b": []byte("2")}, StringData: map[string]string{"b": "two", "c": "3"}}
	corev1.Secrets.Default(sec)
	if sec.Type != "Opaque" || sec.StringData != nil || string(sec.Data["a"]) != "1" || string(sec.Data["b"]) != "two" || string(sec.Data["c"]) != "3" {
		t.Fatalf("secret defaults: type %q data %q stringData %v", sec.Type, sec.Data, sec.StringData)
	}
	changed := meta.DeepCopy(sec)
	changed.Type = "kubernetes.io/tls"
	if causes := corev1.Secrets.ValidateUpdate(sec, changed); len(causes) != 1 || causes[0].Field != "type" {
		t.Fatalf("secret type change: %v", causes)
	}
}

func TestPodUpdateMayChangeOnlyWhatKubernetesAllows(t *testing.T) {
	secs := int64(300)
	base := &corev1.Pod{ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1"}},
			Tolerations:     []corev1.Toleration{{Key: "a", Operator: "Exists", TolerationSeconds: &secs}},
			SchedulingGates: []corev1.PodSchedulingGate{{Name: "g1"}, {Name: "g2"}}}}
	for _, tc := range []struct {
		name    string
		edit    func(*corev1.Pod)
		allowed bool
	}{
		{"labels only", func(p *corev1.Pod) { p.Labels = map[string]string{"x": "y"} }, true},
		{"image", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:2" }, true},
		{"active deadline", func(p *corev1.Pod) { d := int64(5); p.Spec.ActiveDeadlineSeconds = &d }, true},
		{"add toleration", func(p *corev1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "b", Operator: "Exists"})
		}, true},
		{"remove toleration", func(p *corev1.Pod) { p.Spec.Tolerations = nil }, false},
		{"remove gate", func(p *corev1.Pod) { p.Spec.SchedulingGates = p.Spec.SchedulingGates[1:] }, true},
		{"add gate", func(p *corev1.Pod) {
			p.Spec.SchedulingGates = append(p.Spec.SchedulingGates, corev1.PodSchedulingGate{Name: "g3"})
		}, false},
		{"bind", func(p *corev1.Pod) { p.Spec.NodeName = "node-1" }, true},
		{"restart policy", func(p *corev1.Pod) { p.Spec.RestartPolicy = "Never" }, false},
		{"add container", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "d", Image: "x"})
		}, false},
		{"command", func(p *corev1.Pod) { p.Spec.Containers[0].Command = []string{"sh"} }, false},
		{"defaults filled in", func(p *corev1.Pod) { corev1.DefaultPodSpec(&p.Spec) }, true},
	} {
		n := meta.DeepCopy(base)
		tc.edit(n)
		causes := corev1.Pods.ValidateUpdate(base, n)
		if (len(causes) == 0) != tc.allowed {
			t.Errorf("%s: causes %v, allowed %v", tc.name, causes, tc.allowed)
		}
	}
	bound := meta.DeepCopy(base)
	bound.Spec.NodeName = "n1"
	moved := meta.DeepCopy(bound)
	moved.Spec.NodeName = "n2"
	if causes := corev1.Pods.ValidateUpdate(bound, moved); len(causes) != 1 || causes[0].Field != "spec.nodeName" {
		t.Fatalf("moving a bound pod: %v", causes)
	}
}

func TestPodVolumes(t *testing.T) {
	p := &corev1.Pod{ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.PodSpec{
			Volumes: []corev1.Volume{{Name: "data"}, {Name: "conf", VolumeSource: corev1.VolumeSource{
				ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}}}},
			Containers: []corev1.Container{{Name: "c", Image: "x",
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}, {Name: "conf", MountPath: "/etc/c"}}}}}}
	corev1.Pods.Default(p)
	if p.Spec.Volumes[0].EmptyDir == nil || p.Spec.Volumes[1].EmptyDir != nil {
		t.Fatalf("a volume without a source defaults to emptyDir: %+v", p.Spec.Volumes)
	}
	if causes := corev1.Pods.Validate(p); len(causes) != 0 {
		t.Fatalf("valid volumes: %v", causes)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*corev1.Pod)
		field string
	}{
		{"mount of no volume", func(p *corev1.Pod) { p.Spec.Containers[0].VolumeMounts[0].Name = "nope" }, "spec.containers[0].volumeMounts[0].name"},
		{"no mount path", func(p *corev1.Pod) { p.Spec.Containers[0].VolumeMounts[1].MountPath = "" }, "spec.containers[0].volumeMounts[1].mountPath"},
		{"duplicate volume", func(p *corev1.Pod) { p.Spec.Volumes[1].Name = "data" }, "spec.volumes[1].name"},
		{"two sources", func(p *corev1.Pod) { p.Spec.Volumes[0].HostPath = &corev1.HostPathVolumeSource{Path: "/x"} }, "spec.volumes[0]"},
		{"opaque second source", func(p *corev1.Pod) { p.Spec.Volumes[1].NFS = []byte(`{"server":"s","path":"/"}`) }, "spec.volumes[1]"},
	} {
		q := meta.DeepCopy(p)
		tc.edit(q)
		causes := corev1.Pods.Validate(q)
		if len(causes) == 0 || causes[0].Field != tc.field {
			t.Errorf("%s: causes %v, want field %s", tc.name, causes, tc.field)
		}
	}
}

func TestImmutableAllocations(t *testing.T) {
	s := &corev1.Service{Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.10", Type: "ClusterIP"}}
	moved := meta.DeepCopy(s)
	moved.Spec.ClusterIP = "10.96.0.11"
	if c := corev1.Services.ValidateUpdate(s, moved); len(c) != 1 || c[0].Field != "spec.clusterIP" {
		t.Fatalf("cluster IP change: %v", c)
	}
	fresh := &corev1.Service{}
	if c := corev1.Services.ValidateUpdate(fresh, s); len(c) != 0 {
		t.Fatalf("allocating a cluster IP: %v", c)
	}
	n := &corev1.Node{Spec: corev1.NodeSpec{PodCIDR: "10.244.1.0/24"}}
	m := meta.DeepCopy(n)
	m.Spec.PodCIDR = "10.244.2.0/24"
	if c := corev1.Nodes.ValidateUpdate(n, m); len(c) != 1 || c[0].Field != "spec.podCIDR" {
		t.Fatalf("pod CIDR change: %v", c)
	}
	if c := corev1.Nodes.ValidateUpdate(&corev1.Node{}, n); len(c) != 0 {
		t.Fatalf("assigning a pod CIDR: %v", c)
	}
}
