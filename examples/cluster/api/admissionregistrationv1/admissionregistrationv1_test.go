package admissionregistrationv1_test

import (
	"fmt"
	"testing"

	"github.com/governor-io/governor/examples/cluster/api/admissionregistrationv1"
	"github.com/governor-io/governor/store/meta"
)

func config() *admissionregistrationv1.ValidatingWebhookConfiguration {
	none := "None"
	return &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: meta.ObjectMeta{Name: "policy"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{Name: "pods.policy.example.com",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Namespace: "p", Name: "hook"}},
			SideEffects:  &none, AdmissionReviewVersions: []string{"v1"}}}}
}

func ExampleValidatingWebhookConfigurations() {
	c := config()
	admissionregistrationv1.ValidatingWebhookConfigurations.Default(c)
	h := c.Webhooks[0]
	fmt.Println(*h.FailurePolicy, *h.MatchPolicy, *h.TimeoutSeconds, len(admissionregistrationv1.ValidatingWebhookConfigurations.Validate(c)))
	// Output: Fail Equivalent 10 0
}

func TestWebhookValidation(t *testing.T) {
	c := config()
	bad := "http://x"
	c.Webhooks[0].ClientConfig.URL = &bad
	c.Webhooks[0].SideEffects = nil
	c.Webhooks = append(c.Webhooks, c.Webhooks[0])
	causes := admissionregistrationv1.ValidatingWebhookConfigurations.Validate(c)
	fields := map[string]bool{}
	for _, cause := range causes {
		fields[cause.Field] = true
	}
	for _, f := range []string{"webhooks[0].clientConfig", "webhooks[0].sideEffects", "webhooks[1].name"} {
		if !fields[f] {
			t.Errorf("no cause for %s in %v", f, causes)
		}
	}
	m := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: meta.ObjectMeta{Name: "m"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{Name: "a.b.c"}}}
	admissionregistrationv1.MutatingWebhookConfigurations.Default(m)
	if *m.Webhooks[0].ReinvocationPolicy != "Never" {
		t.Fatal("reinvocationPolicy not defaulted")
	}
}
