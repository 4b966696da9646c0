// Package admissionregistrationv1 holds the
// admissionregistration.k8s.io/v1 webhook configurations, which tell the
// API server which admission webhooks to call, and their [api.Type]
// descriptors.
package admissionregistrationv1

import (
	"fmt"
	"net/url"
	"time"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/store/meta"
)

// MutatingWebhookConfiguration lists webhooks that may change objects
// on their way into storage.
type MutatingWebhookConfiguration struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	Webhooks        []MutatingWebhook `json:"webhooks,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
}

// ValidatingWebhookConfiguration lists webhooks that may reject objects.
type ValidatingWebhookConfiguration struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	Webhooks        []ValidatingWebhook `json:"webhooks,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
}

// ValidatingWebhook is one validating webhook and what it applies to.
type ValidatingWebhook struct {
	Name                    string               `json:"name"`
	ClientConfig            WebhookClientConfig  `json:"clientConfig"`
	Rules                   []RuleWithOperations `json:"rules,omitempty"`
	FailurePolicy           *string              `json:"failurePolicy,omitempty"`
	MatchPolicy             *string              `json:"matchPolicy,omitempty"`
	NamespaceSelector       *api.LabelSelector   `json:"namespaceSelector,omitempty"`
	ObjectSelector          *api.LabelSelector   `json:"objectSelector,omitempty"`
	SideEffects             *string              `json:"sideEffects"`
	TimeoutSeconds          *int32               `json:"timeoutSeconds,omitempty"`
	AdmissionReviewVersions []string             `json:"admissionReviewVersions"`
	MatchConditions         []MatchCondition     `json:"matchConditions,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
}

// MutatingWebhook is one mutating webhook and what it applies to.
type MutatingWebhook struct {
	Name                    string               `json:"name"`
	ClientConfig            WebhookClientConfig  `json:"clientConfig"`
	Rules                   []RuleWithOperations `json:"rules,omitempty"`
	FailurePolicy           *string              `json:"failurePolicy,omitempty"`
	MatchPolicy             *string              `json:"matchPolicy,omitempty"`
	NamespaceSelector       *api.LabelSelector   `json:"namespaceSelector,omitempty"`
	ObjectSelector          *api.LabelSelector   `json:"objectSelector,omitempty"`
	SideEffects             *string              `json:"sideEffects"`
	TimeoutSeconds          *int32               `json:"timeoutSeconds,omitempty"`
	AdmissionReviewVersions []string             `json:"admissionReviewVersions"`
	ReinvocationPolicy      *string              `json:"reinvocationPolicy,omitempty"`
	MatchConditions         []MatchCondition     `json:"matchConditions,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
}

// RuleWithOperations is a [Rule] plus the operations (CREATE, UPDATE,
// DELETE, CONNECT, *) it matches.
type RuleWithOperations struct {
	Operations []string `json:"operations,omitempty"`
	Rule
}

// Rule matches resources by group, version and name ("pods/status").
type Rule struct {
	APIGroups   []string `json:"apiGroups,omitempty"`
	APIVersions []string `json:"apiVersions,omitempty"`
	Resources   []string `json:"resources,omitempty"`
	// Scope is Cluster, Namespaced or * (the default).
	Scope *string `json:"scope,omitempty"`
}

// WebhookClientConfig says how to reach a webhook: a URL or a service.
type WebhookClientConfig struct {
	URL      *string           `json:"url,omitempty"`
	Service  *ServiceReference `json:"service,omitempty"`
	CABundle []byte            `json:"caBundle,omitempty"`
}

// ServiceReference names a webhook's service.
type ServiceReference struct {
	Namespace string  `json:"namespace"`
	Name      string  `json:"name"`
	Path      *string `json:"path,omitempty"`
	Port      *int32  `json:"port,omitempty"`
}

// MatchCondition is a CEL expression that must hold for the webhook to
// be called.
type MatchCondition struct {
	Name       string `json:"name"`
	Expression string `json:"expression"`
}

// webhook is what validation reads from either kind of webhook.
type webhook struct {
	name          string
	client        WebhookClientConfig
	failurePolicy *string
	sideEffects   *string
	timeout       *int32
	versions      []string
}

func validateWebhooks(hooks []webhook) []meta.Cause {
	var causes []meta.Cause
	names := map[string]bool{}
	for i, h := range hooks {
		p := fmt.Sprintf("webhooks[%d]", i)
		if h.name == "" {
			causes = append(causes, api.Required(p+".name", ""))
		} else if msgs := api.DNS1123Subdomain(h.name, false); len(msgs) > 0 {
			causes = append(causes, api.Invalid(p+".name", h.name, "should be a domain with at least three segments separated by dots"))
		} else if names[h.name] {
			causes = append(causes, meta.Cause{Type: "FieldValueDuplicate", Field: p + ".name", Message: fmt.Sprintf("Duplicate value: %q", h.name)})
		}
		names[h.name] = true
		switch c := h.client; {
		case c.URL == nil && c.Service == nil:
			causes = append(causes, api.Required(p+".clientConfig", "exactly one of url or service is required"))
		case c.URL != nil && c.Service != nil:
			causes = append(causes, api.Required(p+".clientConfig", "exactly one of url or service is required"))
		case c.URL != nil:
			if u, err := url.Parse(*c.URL); err != nil || u.Scheme != "https" || u.Host == "" {
				causes = append(causes, api.Invalid(p+".clientConfig.url", *c.URL, "must be an https URL with a host"))
			}
		case c.Service != nil:
			if c.Service.Name == "" {
				causes = append(causes, api.Required(p+".clientConfig.service.name", "service name is required"))
			}
			if c.Service.Namespace == "" {
				causes = append(causes, api.Required(p+".clientConfig.service.namespace", "service namespace is required"))
			}
		}
		if fp := h.failurePolicy; fp != nil && *fp != "Ignore" && *fp != "Fail" {
			causes = append(causes, api.NotSupported(p+".failurePolicy", *fp, "Fail", "Ignore"))
		}
		if se := h.sideEffects; se == nil {
			causes = append(causes, api.Required(p+".sideEffects", "must specify one of None, NoneOnDryRun"))
		} else if *se != "None" && *se != "NoneOnDryRun" {
			causes = append(causes, api.NotSupported(p+".sideEffects", *se, "None", "NoneOnDryRun"))
		}
		if t := h.timeout; t != nil && (*t < 1 || *t > 30) {
			causes = append(causes, api.Invalid(p+".timeoutSeconds", *t, "the timeout value must be between 1 and 30 seconds"))
		}
		if len(h.versions) == 0 {
			causes = append(causes, api.Required(p+".admissionReviewVersions", "must specify one of v1, v1beta1"))
		}
	}
	return causes
}

var webhookColumns = api.Columns(
	api.TableColumn{Name: "Webhooks", Type: "integer", Description: "Webhooks indicates the number of webhooks in the configuration."},
	api.AgeColumn,
)

// MutatingWebhookConfigurations describes the
// mutatingwebhookconfigurations resource (cluster-scoped).
var MutatingWebhookConfigurations = api.Type[*MutatingWebhookConfiguration]{
	Group: "admissionregistration.k8s.io", Version: "v1", Kind: "MutatingWebhookConfiguration",
	Resource: "mutatingwebhookconfigurations", Singular: "mutatingwebhookconfiguration",
	Categories: []string{"api-extensions"},
	Columns:    webhookColumns,
	Cells: func(c *MutatingWebhookConfiguration, now time.Time) []any {
		return []any{c.Name, int64(len(c.Webhooks)), api.Age(c.CreationTimestamp, now)}
	},
	Default: func(c *MutatingWebhookConfiguration) {
		for i := range c.Webhooks {
			h := &c.Webhooks[i]
			defaultWebhook(&h.FailurePolicy, &h.MatchPolicy, &h.TimeoutSeconds, &h.NamespaceSelector, &h.ObjectSelector)
			if h.ReinvocationPolicy == nil {
				never := "Never"
				h.ReinvocationPolicy = &never
			}
		}
	},
	Validate: func(c *MutatingWebhookConfiguration) []meta.Cause {
		causes := api.ValidateObjectMeta(&c.ObjectMeta, false, api.DNS1123Subdomain)
		hooks := make([]webhook, len(c.Webhooks))
		for i, h := range c.Webhooks {
			hooks[i] = webhook{h.Name, h.ClientConfig, h.FailurePolicy, h.SideEffects, h.TimeoutSeconds, h.AdmissionReviewVersions}
		}
		return append(causes, validateWebhooks(hooks)...)
	},
	New: func() *MutatingWebhookConfiguration { return new(MutatingWebhookConfiguration) },
}

// ValidatingWebhookConfigurations describes the
// validatingwebhookconfigurations resource (cluster-scoped).
var ValidatingWebhookConfigurations = api.Type[*ValidatingWebhookConfiguration]{
	Group: "admissionregistration.k8s.io", Version: "v1", Kind: "ValidatingWebhookConfiguration",
	Resource: "validatingwebhookconfigurations", Singular: "validatingwebhookconfiguration",
	Categories: []string{"api-extensions"},
	Columns:    webhookColumns,
	Cells: func(c *ValidatingWebhookConfiguration, now time.Time) []any {
		return []any{c.Name, int64(len(c.Webhooks)), api.Age(c.CreationTimestamp, now)}
	},
	Default: func(c *ValidatingWebhookConfiguration) {
		for i := range c.Webhooks {
			h := &c.Webhooks[i]
			defaultWebhook(&h.FailurePolicy, &h.MatchPolicy, &h.TimeoutSeconds, &h.NamespaceSelector, &h.ObjectSelector)
		}
	},
	Validate: func(c *ValidatingWebhookConfiguration) []meta.Cause {
		causes := api.ValidateObjectMeta(&c.ObjectMeta, false, api.DNS1123Subdomain)
		hooks := make([]webhook, len(c.Webhooks))
		for i, h := range c.Webhooks {
			hooks[i] = webhook{h.Name, h.ClientConfig, h.FailurePolicy, h.SideEffects, h.TimeoutSeconds, h.AdmissionReviewVersions}
		}
		return append(causes, validateWebhooks(hooks)...)
	},
	New: func() *ValidatingWebhookConfiguration { return new(ValidatingWebhookConfiguration) },
}

// defaultWebhook sets Kubernetes' defaults: failurePolicy Fail,
// matchPolicy Equivalent, a 10 s timeout, and empty (match-all)
// selectors.
func defaultWebhook(failure, match **string, timeout **int32, ns, obj **api.LabelSelector) {
	if *failure == nil {
		f := "Fail"
		*failure = &f
	}
	if *match == nil {
		m := "Equivalent"
		*match = &m
	}
	if *timeout == nil {
		t := int32(10)
		*timeout = &t
	}
	if *ns == nil {
		*ns = &api.LabelSelector{}
	}
	if *obj == nil {
		*obj = &api.LabelSelector{}
	}
}
