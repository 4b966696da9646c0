// Package apiextensionsv1 holds the apiextensions.k8s.io/v1
// CustomResourceDefinition, with its OpenAPI v3 schema modelled so that
// the API server can validate and prune custom objects, and its
// [api.Type], [CustomResourceDefinitions].
package apiextensionsv1

import (
	"bytes"
	"encoding/json"

	"github.com/governor-io/governor/store/meta"
)

// CustomResourceDefinition adds a resource to the API:
// apiextensions.k8s.io/v1 CustomResourceDefinition (cluster-scoped,
// named "<plural>.<group>").
type CustomResourceDefinition struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            CustomResourceDefinitionSpec   `json:"spec"`
	Status          CustomResourceDefinitionStatus `json:"status,omitempty"`
}

// CustomResourceDefinitionSpec describes the resource a CRD adds.
type CustomResourceDefinitionSpec struct {
	Group string                        `json:"group"`
	Names CustomResourceDefinitionNames `json:"names"`
	// Scope is Namespaced or Cluster.
	Scope                 string                            `json:"scope"`
	Versions              []CustomResourceDefinitionVersion `json:"versions"`
	Conversion            *CustomResourceConversion         `json:"conversion,omitempty"`
	PreserveUnknownFields bool                              `json:"preserveUnknownFields,omitempty"`
}

// CustomResourceDefinitionNames are the names of the resource.
type CustomResourceDefinitionNames struct {
	Plural     string   `json:"plural"`
	Singular   string   `json:"singular,omitempty"`
	ShortNames []string `json:"shortNames,omitempty"`
	Kind       string   `json:"kind"`
	ListKind   string   `json:"listKind,omitempty"`
	Categories []string `json:"categories,omitempty"`
}

// CustomResourceDefinitionVersion is one version of the resource.
type CustomResourceDefinitionVersion struct {
	Name string `json:"name"`
	// Served versions are served; exactly one version is Storage.
	Served                   bool                             `json:"served"`
	Storage                  bool                             `json:"storage"`
	Deprecated               bool                             `json:"deprecated,omitempty"`
	DeprecationWarning       *string                          `json:"deprecationWarning,omitempty"`
	Schema                   *CustomResourceValidation        `json:"schema,omitempty"`
	Subresources             *CustomResourceSubresources      `json:"subresources,omitempty"`
	AdditionalPrinterColumns []CustomResourceColumnDefinition `json:"additionalPrinterColumns,omitempty"`
	SelectableFields         []SelectableField                `json:"selectableFields,omitempty"`
}

// SelectableField is a field (by JSON path) that field selectors may
// name.
type SelectableField struct {
	JSONPath string `json:"jsonPath"`
}

// CustomResourceColumnDefinition is one column kubectl prints, read from
// each object by a JSON path.
type CustomResourceColumnDefinition struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Format      string `json:"format,omitempty"`
	Description string `json:"description,omitempty"`
	Priority    int32  `json:"priority,omitempty"`
	JSONPath    string `json:"jsonPath"`
}

// CustomResourceConversion says how objects move between versions.
type CustomResourceConversion struct {
	// Strategy is None or Webhook.
	Strategy string             `json:"strategy"`
	Webhook  *WebhookConversion `json:"webhook,omitempty"`
}

// WebhookConversion configures a conversion webhook.
type WebhookConversion struct {
	ClientConfig             *WebhookClientConfig `json:"clientConfig,omitempty"`
	ConversionReviewVersions []string             `json:"conversionReviewVersions"`
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

// CustomResourceValidation holds a version's schema.
type CustomResourceValidation struct {
	OpenAPIV3Schema *JSONSchemaProps `json:"openAPIV3Schema,omitempty"`
}

// CustomResourceSubresources says which subresources are served.
type CustomResourceSubresources struct {
	// Status, when set, serves /status and makes the main resource
	// ignore changes to .status.
	Status *CustomResourceSubresourceStatus `json:"status,omitempty"`
	Scale  *CustomResourceSubresourceScale  `json:"scale,omitempty"`
}

// CustomResourceSubresourceStatus enables the status subresource. It
// has no fields.
type CustomResourceSubresourceStatus struct{}

// CustomResourceSubresourceScale maps the scale subresource onto JSON
// paths of the object.
type CustomResourceSubresourceScale struct {
	SpecReplicasPath   string  `json:"specReplicasPath"`
	StatusReplicasPath string  `json:"statusReplicasPath"`
	LabelSelectorPath  *string `json:"labelSelectorPath,omitempty"`
}

// CustomResourceDefinitionStatus is the observed state of a CRD.
type CustomResourceDefinitionStatus struct {
	Conditions         []CustomResourceDefinitionCondition `json:"conditions"`
	AcceptedNames      CustomResourceDefinitionNames       `json:"acceptedNames"`
	StoredVersions     []string                            `json:"storedVersions"`
	ObservedGeneration int64                               `json:"observedGeneration,omitempty"`
}

// CustomResourceDefinitionCondition is one condition of a CRD
// ("Established", "NamesAccepted", "Terminating").
type CustomResourceDefinitionCondition struct {
	Type               string               `json:"type"`
	Status             meta.ConditionStatus `json:"status"`
	LastTransitionTime meta.Time            `json:"lastTransitionTime,omitempty"`
	Reason             string               `json:"reason,omitempty"`
	Message            string               `json:"message,omitempty"`
	ObservedGeneration int64                `json:"observedGeneration,omitempty"`
}

// JSONSchemaProps is an OpenAPI v3 schema, as a CRD gives it.
type JSONSchemaProps struct {
	ID                     string                                  `json:"id,omitempty"`
	Schema                 string                                  `json:"$schema,omitempty"`
	Ref                    *string                                 `json:"$ref,omitempty"`
	Description            string                                  `json:"description,omitempty"`
	Type                   string                                  `json:"type,omitempty"`
	Format                 string                                  `json:"format,omitempty"`
	Title                  string                                  `json:"title,omitempty"`
	Default                JSON                                    `json:"default,omitempty"`
	Maximum                *float64                                `json:"maximum,omitempty"`
	ExclusiveMaximum       bool                                    `json:"exclusiveMaximum,omitempty"`
	Minimum                *float64                                `json:"minimum,omitempty"`
	ExclusiveMinimum       bool                                    `json:"exclusiveMinimum,omitempty"`
	MaxLength              *int64                                  `json:"maxLength,omitempty"`
	MinLength              *int64                                  `json:"minLength,omitempty"`
	Pattern                string                                  `json:"pattern,omitempty"`
	MaxItems               *int64                                  `json:"maxItems,omitempty"`
	MinItems               *int64                                  `json:"minItems,omitempty"`
	UniqueItems            bool                                    `json:"uniqueItems,omitempty"`
	MultipleOf             *float64                                `json:"multipleOf,omitempty"`
	Enum                   []JSON                                  `json:"enum,omitempty"`
	MaxProperties          *int64                                  `json:"maxProperties,omitempty"`
	MinProperties          *int64                                  `json:"minProperties,omitempty"`
	Required               []string                                `json:"required,omitempty"`
	Items                  *JSONSchemaPropsOrArray                 `json:"items,omitempty"`
	AllOf                  []JSONSchemaProps                       `json:"allOf,omitempty"`
	OneOf                  []JSONSchemaProps                       `json:"oneOf,omitempty"`
	AnyOf                  []JSONSchemaProps                       `json:"anyOf,omitempty"`
	Not                    *JSONSchemaProps                        `json:"not,omitempty"`
	Properties             map[string]JSONSchemaProps              `json:"properties,omitempty"`
	AdditionalProperties   *JSONSchemaPropsOrBool                  `json:"additionalProperties,omitempty"`
	PatternProperties      map[string]JSONSchemaProps              `json:"patternProperties,omitempty"`
	Dependencies           map[string]JSONSchemaPropsOrStringArray `json:"dependencies,omitempty"`
	AdditionalItems        *JSONSchemaPropsOrBool                  `json:"additionalItems,omitempty"`
	Definitions            map[string]JSONSchemaProps              `json:"definitions,omitempty"`
	ExternalDocs           *ExternalDocumentation                  `json:"externalDocs,omitempty"`
	Example                JSON                                    `json:"example,omitempty"`
	Nullable               bool                                    `json:"nullable,omitempty"`
	XPreserveUnknownFields *bool                                   `json:"x-kubernetes-preserve-unknown-fields,omitempty"`
	XEmbeddedResource      bool                                    `json:"x-kubernetes-embedded-resource,omitempty"`
	XIntOrString           bool                                    `json:"x-kubernetes-int-or-string,omitempty"`
	XListMapKeys           []string                                `json:"x-kubernetes-list-map-keys,omitempty"`
	XListType              *string                                 `json:"x-kubernetes-list-type,omitempty"`
	XMapType               *string                                 `json:"x-kubernetes-map-type,omitempty"`
	XValidations           []ValidationRule                        `json:"x-kubernetes-validations,omitempty" patchStrategy:"merge" patchMergeKey:"rule"`
}

// JSON is any JSON value (a default, an example, an enum member), kept
// as its bytes. Empty means absent.
type JSON = json.RawMessage

// ValidationRule is a CEL rule (x-kubernetes-validations). The API
// server stores but does not evaluate them.
type ValidationRule struct {
	Rule              string  `json:"rule"`
	Message           string  `json:"message,omitempty"`
	MessageExpression string  `json:"messageExpression,omitempty"`
	Reason            *string `json:"reason,omitempty"`
	FieldPath         string  `json:"fieldPath,omitempty"`
	OptionalOldSelf   *bool   `json:"optionalOldSelf,omitempty"`
}

// ExternalDocumentation points at more documentation.
type ExternalDocumentation struct {
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
}

// JSONSchemaPropsOrArray is a schema or an array of schemas (the two
// forms of "items").
type JSONSchemaPropsOrArray struct {
	Schema      *JSONSchemaProps
	JSONSchemas []JSONSchemaProps
}

// MarshalJSON encodes the array form when JSONSchemas is set, and the
// schema otherwise.
func (s JSONSchemaPropsOrArray) MarshalJSON() ([]byte, error) {
	if len(s.JSONSchemas) > 0 {
		return json.Marshal(s.JSONSchemas)
	}
	return json.Marshal(s.Schema)
}

// UnmarshalJSON decodes a schema object or an array of schemas.
func (s *JSONSchemaPropsOrArray) UnmarshalJSON(data []byte) error {
	*s = JSONSchemaPropsOrArray{}
	switch firstByte(data) {
	case '{':
		s.Schema = new(JSONSchemaProps)
		return json.Unmarshal(data, s.Schema)
	case '[':
		return json.Unmarshal(data, &s.JSONSchemas)
	}
	return nil
}

// JSONSchemaPropsOrBool is a schema or a boolean (the two forms of
// "additionalProperties"). A schema implies Allows.
type JSONSchemaPropsOrBool struct {
	Allows bool
	Schema *JSONSchemaProps
}

// MarshalJSON encodes the schema when there is one, and the boolean
// otherwise.
func (s JSONSchemaPropsOrBool) MarshalJSON() ([]byte, error) {
	if s.Schema != nil {
		return json.Marshal(s.Schema)
	}
	return json.Marshal(s.Allows)
}

// UnmarshalJSON decodes a schema object or a boolean.
func (s *JSONSchemaPropsOrBool) UnmarshalJSON(data []byte) error {
	*s = JSONSchemaPropsOrBool{}
	switch firstByte(data) {
	case '{':
		s.Allows, s.Schema = true, new(JSONSchemaProps)
		return json.Unmarshal(data, s.Schema)
	case 'n':
		return nil
	}
	return json.Unmarshal(data, &s.Allows)
}

// JSONSchemaPropsOrStringArray is a schema or a list of property names
// (the two forms of a "dependencies" entry).
type JSONSchemaPropsOrStringArray struct {
	Schema   *JSONSchemaProps
	Property []string
}

// MarshalJSON encodes the property list when there is one, and the
// schema otherwise.
func (s JSONSchemaPropsOrStringArray) MarshalJSON() ([]byte, error) {
	if len(s.Property) > 0 {
		return json.Marshal(s.Property)
	}
	return json.Marshal(s.Schema)
}

// UnmarshalJSON decodes a schema object or an array of strings.
func (s *JSONSchemaPropsOrStringArray) UnmarshalJSON(data []byte) error {
	*s = JSONSchemaPropsOrStringArray{}
	switch firstByte(data) {
	case '{':
		s.Schema = new(JSONSchemaProps)
		return json.Unmarshal(data, s.Schema)
	case '[':
		return json.Unmarshal(data, &s.Property)
	}
	return nil
}

func firstByte(data []byte) byte {
	data = bytes.TrimLeft(data, " \t\r\n")
	if len(data) == 0 {
		return 0
	}
	return data[0]
}
