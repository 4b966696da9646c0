package benchmarks

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"testing"

	"github.com/governor-io/governor/store/meta"
)

// TestBenchPodMatchesKubernetesJSON checks that the benchmark's pod type
// encodes a v1.Pod to exactly the bytes that v1.Pod itself encodes to.
func TestBenchPodMatchesKubernetesJSON(t *testing.T) {
	kp := kubePod("default", "web-7d4b9c8f6d-x2k9p")
	kp.UID = "c0a80a1e-5b7f-4e9b-8f3a-2d6c9e1b7a40"
	kp.ResourceVersion = "123456"
	kp.CreationTimestamp = metav1.NewTime(benchEpoch)
	want, err := json.Marshal(kp)
	if err != nil {
		t.Fatal(err)
	}
	var p pod
	if err := json.Unmarshal(want, &p); err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(&p)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("JSON differs\n ours %s\n k8s  %s", got, want)
	}
	if len(got) < 1200 || len(got) > 1500 {
		t.Fatalf("pod JSON is %d bytes", len(got))
	}
	t.Logf("pod JSON: %d bytes", len(got))
	var _ meta.Object = &p
}
