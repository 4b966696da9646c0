package api

import (
	"fmt"
	"strings"

	"github.com/governor-io/governor/store/meta"
)

// NameValidator checks an object's name, or with prefix set a
// generateName (which may end in '-'), and returns what is wrong with it,
// or nothing.
type NameValidator func(name string, prefix bool) []string

const (
	dns1123LabelMsg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', " +
		"and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', " +
		"regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
	dns1123SubdomainMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', " +
		"and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is " +
		"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
	dns1035LabelMsg = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', " +
		"start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', " +
		"regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// isLabel reports whether s matches [a-z0-9]([-a-z0-9]*[a-z0-9])?.
func isLabel(s string) bool {
	if s == "" || !isLowerAlnum(s[0]) || !isLowerAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerAlnum(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

// maskTrailingDash lets a generateName end in '-' by checking it as if
// the dash were followed by the generated suffix.
func maskTrailingDash(s string, prefix bool) string {
	if prefix && len(s) > 1 && strings.HasSuffix(s, "-") {
		return s[:len(s)-1] + "a"
	}
	return s
}

// DNS1123Subdomain is the [NameValidator] of most resources (pods,
// config maps, deployments, nodes, ...): at most 253 characters of
// dot-separated RFC 1123 labels.
func DNS1123Subdomain(name string, prefix bool) []string {
	name = maskTrailingDash(name, prefix)
	var errs []string
	if len(name) > 253 {
		errs = append(errs, "must be no more than 253 characters")
	}
	for _, l := range strings.Split(name, ".") {
		if !isLabel(l) {
			errs = append(errs, dns1123SubdomainMsg)
			break
		}
	}
	return errs
}

// DNS1123Label is the [NameValidator] of namespaces: one RFC 1123 label
// of at most 63 characters.
func DNS1123Label(name string, prefix bool) []string {
	name = maskTrailingDash(name, prefix)
	var errs []string
	if len(name) > 63 {
		errs = append(errs, "must be no more than 63 characters")
	}
	if !isLabel(name) {
		errs = append(errs, dns1123LabelMsg)
	}
	return errs
}

// DNS1035Label is the [NameValidator] of services: an RFC 1035 label, at
// most 63 characters, starting with a letter.
func DNS1035Label(name string, prefix bool) []string {
	name = maskTrailingDash(name, prefix)
	var errs []string
	if len(name) > 63 {
		errs = append(errs, "must be no more than 63 characters")
	}
	if !isLabel(name) || name[0] < 'a' || name[0] > 'z' {
		errs = append(errs, dns1035LabelMsg)
	}
	return errs
}

// PathSegmentName is the [NameValidator] of RBAC objects: any name that
// can be one segment of a URL path (not "." or "..", no '/' or '%').
func PathSegmentName(name string, prefix bool) []string {
	if !prefix && (name == "." || name == "..") {
		return []string{fmt.Sprintf("may not be '%s'", name)}
	}
	for _, bad := range []string{"/", "%"} {
		if strings.Contains(name, bad) {
			return []string{fmt.Sprintf("may not contain '%s'", bad)}
		}
	}
	return nil
}

// Required returns the cause of a missing required field.
func Required(field, detail string) meta.Cause {
	msg := "Required value"
	if detail != "" {
		msg += ": " + detail
	}
	return meta.Cause{Type: meta.CauseTypeFieldValueRequired, Field: field, Message: msg}
}

// Invalid returns the cause of a field whose value is not allowed.
func Invalid(field string, value any, detail string) meta.Cause {
	return meta.Cause{Type: meta.CauseTypeFieldValueInvalid, Field: field,
		Message: fmt.Sprintf("Invalid value: %s: %s", quoteValue(value), detail)}
}

// NotSupported returns the cause of a field whose value is not one of
// supported.
func NotSupported(field string, value any, supported ...string) meta.Cause {
	q := make([]string, len(supported))
	for i, s := range supported {
		q[i] = fmt.Sprintf("%q", s)
	}
	return meta.Cause{Type: meta.CauseTypeFieldValueNotSupported, Field: field,
		Message: fmt.Sprintf("Unsupported value: %s: supported values: %s", quoteValue(value), strings.Join(q, ", "))}
}

// Forbidden returns the cause of a field that may not be set (or
// changed).
func Forbidden(field, detail string) meta.Cause {
	return meta.Cause{Type: meta.CauseTypeFieldValueForbidden, Field: field, Message: "Forbidden: " + detail}
}

func quoteValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%v", v)
}

// ValidateObjectMeta checks the metadata every object carries: a name
// (or generateName) that validName accepts, a namespace exactly when the
// type is namespaced, and well-formed labels and annotations.
func ValidateObjectMeta(m *meta.ObjectMeta, namespaced bool, validName NameValidator) []meta.Cause {
	var causes []meta.Cause
	switch {
	case m.Name != "":
		for _, msg := range validName(m.Name, false) {
			causes = append(causes, Invalid("metadata.name", m.Name, msg))
		}
	case m.GenerateName != "":
		for _, msg := range validName(m.GenerateName, true) {
			causes = append(causes, Invalid("metadata.generateName", m.GenerateName, msg))
		}
	default:
		causes = append(causes, Required("metadata.name", "name or generateName is required"))
	}
	if namespaced {
		if m.Namespace == "" {
			causes = append(causes, Required("metadata.namespace", ""))
		} else {
			for _, msg := range DNS1123Label(m.Namespace, false) {
				causes = append(causes, Invalid("metadata.namespace", m.Namespace, msg))
			}
		}
	} else if m.Namespace != "" {
		causes = append(causes, Forbidden("metadata.namespace", "not allowed on this type"))
	}
	causes = append(causes, ValidateLabels(m.Labels, "metadata.labels")...)
	causes = append(causes, ValidateAnnotations(m.Annotations, "metadata.annotations")...)
	for i, f := range m.Finalizers {
		if msg := qualifiedName(f); msg != "" {
			causes = append(causes, Invalid(fmt.Sprintf("metadata.finalizers[%d]", i), f, msg))
		}
	}
	for i, r := range m.OwnerReferences {
		p := fmt.Sprintf("metadata.ownerReferences[%d]", i)
		if r.APIVersion == "" {
			causes = append(causes, Invalid(p+".apiVersion", r.APIVersion, "version must not be empty"))
		}
		if r.Kind == "" {
			causes = append(causes, Invalid(p+".kind", r.Kind, "kind must not be empty"))
		}
		if r.Name == "" {
			causes = append(causes, Invalid(p+".name", r.Name, "name must not be empty"))
		}
		if r.UID == "" {
			causes = append(causes, Invalid(p+".uid", r.UID, "uid must not be empty"))
		}
	}
	return causes
}

// ValidateLabels checks label keys (qualified names) and values.
func ValidateLabels(labels map[string]string, field string) []meta.Cause {
	var causes []meta.Cause
	for k, v := range labels {
		if msg := qualifiedName(k); msg != "" {
			causes = append(causes, Invalid(field, k, msg))
		}
		if msg := labelValue(v); msg != "" {
			causes = append(causes, Invalid(field, v, msg))
		}
	}
	return causes
}

// totalAnnotationSizeLimit is Kubernetes' limit on the summed size of an
// object's annotation keys and values.
const totalAnnotationSizeLimit = 256 * 1024

// ValidateAnnotations checks annotation keys (qualified names) and the
// total size, at most 256 KiB.
func ValidateAnnotations(annotations map[string]string, field string) []meta.Cause {
	var causes []meta.Cause
	size := 0
	for k, v := range annotations {
		if msg := qualifiedName(strings.ToLower(k)); msg != "" {
			causes = append(causes, Invalid(field, k, msg))
		}
		size += len(k) + len(v)
	}
	if size > totalAnnotationSizeLimit {
		causes = append(causes, meta.Cause{Type: meta.CauseTypeFieldValueTooLong, Field: field,
			Message: fmt.Sprintf("Too long: may not be more than %d bytes", totalAnnotationSizeLimit)})
	}
	return causes
}

// qualifiedName checks "[prefix/]name" as label keys are: an optional DNS
// subdomain prefix and a name of at most 63 alphanumerics, '-', '_', '.',
// starting and ending with an alphanumeric.
func qualifiedName(s string) string {
	const msg = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an " +
		"alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is " +
		"'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
	name := s
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		prefix := s[:i]
		name = s[i+1:]
		if prefix == "" {
			return "prefix part must be non-empty"
		}
		if len(DNS1123Subdomain(prefix, false)) > 0 {
			return "prefix part " + dns1123SubdomainMsg
		}
	}
	if name == "" {
		return "name part must be non-empty"
	}
	if len(name) > 63 {
		return "name part must be no more than 63 characters"
	}
	if !isQualifiedPart(name) {
		return msg
	}
	return ""
}

func isAlnum(c byte) bool { return isLowerAlnum(c) || c >= 'A' && c <= 'Z' }

func isQualifiedPart(s string) bool {
	if s == "" || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// labelValue checks a label value: empty, or at most 63 characters that
// would make a valid name part.
func labelValue(v string) string {
	if v == "" {
		return ""
	}
	if len(v) > 63 {
		return "must be no more than 63 characters"
	}
	if !isQualifiedPart(v) {
		return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and " +
			"must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex " +
			"used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
	}
	return ""
}

// NotFound returns the cause of a field that names something that does
// not exist (a volume mount naming no volume, say).
func NotFound(field string, value any) meta.Cause {
	return meta.Cause{Type: "FieldValueNotFound", Field: field, Message: fmt.Sprintf("Not found: %s", quoteValue(value))}
}
