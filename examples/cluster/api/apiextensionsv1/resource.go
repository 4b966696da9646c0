package apiextensionsv1

import (
	"fmt"
	"strings"
	"time"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/store/meta"
)

// CustomResourceDefinitions describes the customresourcedefinitions
// resource (cluster-scoped), with its status subresource.
var CustomResourceDefinitions = api.Type[*CustomResourceDefinition]{
	Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition",
	Resource: "customresourcedefinitions", Singular: "customresourcedefinition",
	ShortNames:   []string{"crd", "crds"},
	Categories:   []string{"api-extensions"},
	Subresources: []string{"status"},
	Columns:      api.Columns(api.CreatedAtColumn),
	Cells: func(c *CustomResourceDefinition, _ time.Time) []any {
		return []any{c.Name, c.CreationTimestamp.UTC().Format(time.RFC3339)}
	},
	Default: func(c *CustomResourceDefinition) {
		n := &c.Spec.Names
		if n.Singular == "" {
			n.Singular = strings.ToLower(n.Kind)
		}
		if n.ListKind == "" && n.Kind != "" {
			n.ListKind = n.Kind + "List"
		}
		if c.Spec.Conversion == nil {
			c.Spec.Conversion = &CustomResourceConversion{Strategy: "None"}
		}
	},
	Validate:       validateCRD,
	ValidateUpdate: validateCRDUpdate,
	New:            func() *CustomResourceDefinition { return new(CustomResourceDefinition) },
}

// StorageVersion returns the name of the version objects are stored
// in, or "" if none is marked.
func (c *CustomResourceDefinition) StorageVersion() string {
	for _, v := range c.Spec.Versions {
		if v.Storage {
			return v.Name
		}
	}
	return ""
}

// Namespaced reports whether the CRD's objects live in namespaces.
func (c *CustomResourceDefinition) Namespaced() bool { return c.Spec.Scope == "Namespaced" }

// validateCRD checks what the API server needs to serve a CRD: its name
// is "<plural>.<group>", the group has a dot, the names are DNS labels,
// the scope is known, and exactly one served-or-not version is the
// storage version, each with a structural schema.
func validateCRD(c *CustomResourceDefinition) []meta.Cause {
	causes := api.ValidateObjectMeta(&c.ObjectMeta, false, api.DNS1123Subdomain)
	s := &c.Spec
	if want := s.Names.Plural + "." + s.Group; c.Name != want {
		causes = append(causes, api.Invalid("metadata.name", c.Name, "must be spec.names.plural+\".\"+spec.group"))
	}
	if s.Group == "" {
		causes = append(causes, api.Required("spec.group", ""))
	} else if len(api.DNS1123Subdomain(s.Group, false)) > 0 || !strings.Contains(s.Group, ".") {
		causes = append(causes, api.Invalid("spec.group", s.Group, "should be a domain with at least one dot"))
	}
	switch s.Scope {
	case "Namespaced", "Cluster":
	case "":
		causes = append(causes, api.Required("spec.scope", ""))
	default:
		causes = append(causes, api.NotSupported("spec.scope", s.Scope, "Cluster", "Namespaced"))
	}
	name := func(field, v string, required bool) {
		if v == "" {
			if required {
				causes = append(causes, api.Required(field, ""))
			}
			return
		}
		for _, msg := range api.DNS1035Label(v, false) {
			causes = append(causes, api.Invalid(field, v, msg))
		}
	}
	name("spec.names.plural", s.Names.Plural, true)
	name("spec.names.singular", s.Names.Singular, false)
	for i, sn := range s.Names.ShortNames {
		name(fmt.Sprintf("spec.names.shortNames[%d]", i), sn, true)
	}
	for i, cat := range s.Names.Categories {
		name(fmt.Sprintf("spec.names.categories[%d]", i), cat, true)
	}
	if s.Names.Kind == "" {
		causes = append(causes, api.Required("spec.names.kind", ""))
	} else if s.Names.Kind == s.Names.ListKind {
		causes = append(causes, api.Invalid("spec.names.listKind", s.Names.ListKind, "kind and listKind may not be the same"))
	}
	if len(s.Versions) == 0 {
		causes = append(causes, api.Required("spec.versions", "must have exactly one version marked as storage version"))
	}
	storage := 0
	seen := map[string]bool{}
	for i, v := range s.Versions {
		p := fmt.Sprintf("spec.versions[%d]", i)
		if v.Storage {
			storage++
		}
		if seen[v.Name] {
			causes = append(causes, meta.Cause{Type: "FieldValueDuplicate", Field: p + ".name", Message: fmt.Sprintf("Duplicate value: %q", v.Name)})
		}
		seen[v.Name] = true
		for _, msg := range api.DNS1035Label(v.Name, false) {
			causes = append(causes, api.Invalid(p+".name", v.Name, msg))
		}
		if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			causes = append(causes, api.Required(p+".schema.openAPIV3Schema", "schemas are required"))
		} else {
			causes = append(causes, validateStructural(v.Schema.OpenAPIV3Schema, p+".schema.openAPIV3Schema", true)...)
		}
		for j, col := range v.AdditionalPrinterColumns {
			cp := fmt.Sprintf("%s.additionalPrinterColumns[%d]", p, j)
			if col.Name == "" {
				causes = append(causes, api.Required(cp+".name", ""))
			}
			switch col.Type {
			case "integer", "number", "string", "boolean", "date":
			default:
				causes = append(causes, api.NotSupported(cp+".type", col.Type, "boolean", "date", "integer", "number", "string"))
			}
			if col.JSONPath == "" {
				causes = append(causes, api.Required(cp+".jsonPath", ""))
			}
		}
		if sc := v.Subresources; sc != nil && sc.Scale != nil {
			if !strings.HasPrefix(sc.Scale.SpecReplicasPath, ".spec.") {
				causes = append(causes, api.Invalid(p+".subresources.scale.specReplicasPath", sc.Scale.SpecReplicasPath, "should be a json path under .spec"))
			}
			if !strings.HasPrefix(sc.Scale.StatusReplicasPath, ".status.") {
				causes = append(causes, api.Invalid(p+".subresources.scale.statusReplicasPath", sc.Scale.StatusReplicasPath, "should be a json path under .status"))
			}
		}
	}
	if len(s.Versions) > 0 && storage != 1 {
		causes = append(causes, api.Invalid("spec.versions", storage, "must have exactly one version marked as storage version"))
	}
	if s.PreserveUnknownFields {
		causes = append(causes, api.Invalid("spec.preserveUnknownFields", true, "must be false in order to use defaults in the schema"))
	}
	return causes
}

// validateStructural checks the parts of a structural schema the API
// server relies on: every node has a type unless it preserves unknown
// fields or is int-or-string, and the root is an object.
func validateStructural(s *JSONSchemaProps, path string, root bool) []meta.Cause {
	var causes []meta.Cause
	preserve := s.XPreserveUnknownFields != nil && *s.XPreserveUnknownFields
	if s.Type == "" && !preserve && !s.XIntOrString && !root {
		causes = append(causes, api.Required(path+".type", "must not be empty for specified object fields"))
	}
	if root && s.Type != "object" {
		causes = append(causes, api.Invalid(path+".type", s.Type, "must be object at the root"))
	}
	switch s.Type {
	case "", "object", "array", "string", "integer", "number", "boolean":
	default:
		causes = append(causes, api.NotSupported(path+".type", s.Type, "array", "boolean", "integer", "number", "object", "string"))
	}
	if s.Type == "array" && (s.Items == nil || s.Items.Schema == nil) {
		causes = append(causes, api.Required(path+".items", "must be specified"))
	}
	if s.Ref != nil {
		causes = append(causes, api.Forbidden(path+".$ref", "$ref is not supported"))
	}
	for k := range s.Properties {
		p := s.Properties[k]
		causes = append(causes, validateStructural(&p, path+".properties["+k+"]", false)...)
	}
	if s.Items != nil && s.Items.Schema != nil {
		causes = append(causes, validateStructural(s.Items.Schema, path+".items", false)...)
	}
	if ap := s.AdditionalProperties; ap != nil && ap.Schema != nil {
		if len(s.Properties) > 0 {
			causes = append(causes, api.Forbidden(path+".additionalProperties", "additionalProperties and properties are mutual exclusive"))
		}
		causes = append(causes, validateStructural(ap.Schema, path+".additionalProperties", false)...)
	}
	return causes
}

// validateCRDUpdate forbids what would orphan stored objects: a change
// of group or scope, or dropping a version that objects are still stored
// in.
func validateCRDUpdate(o, n *CustomResourceDefinition) []meta.Cause {
	var causes []meta.Cause
	if o.Spec.Group != n.Spec.Group {
		causes = append(causes, api.Invalid("spec.group", n.Spec.Group, "field is immutable"))
	}
	if o.Spec.Scope != n.Spec.Scope {
		causes = append(causes, api.Invalid("spec.scope", n.Spec.Scope, "field is immutable"))
	}
	versions := map[string]bool{}
	for _, v := range n.Spec.Versions {
		versions[v.Name] = true
	}
	for i, sv := range n.Status.StoredVersions {
		if !versions[sv] {
			causes = append(causes, api.Invalid(fmt.Sprintf("status.storedVersions[%d]", i), sv, "must appear in spec.versions"))
		}
	}
	return causes
}
