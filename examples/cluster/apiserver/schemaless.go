package apiserver

import (
	"errors"
	"fmt"
	"strings"

	"github.com/governor-io/governor/examples/cluster/api/unstructured"
)

// SchemalessResource is a resource the server serves without a schema:
// its objects keep every field they are given ([unstructured.Object]),
// so that components whose informers expect resources the server does not
// model can still list and watch them. Set them in Config.Schemaless.
type SchemalessResource struct {
	// Group is the API group, "" for the core group.
	Group string
	// Version is the API version, such as "v1".
	Version string
	// Resource is the lowercase plural, such as "widgets".
	Resource string
	// Kind is the kind of the objects, such as "Widget".
	Kind string
	// Namespaced reports whether objects live in namespaces.
	Namespaced bool
}

// ParseSchemalessResource parses the command-line form of a
// [SchemalessResource]: "GROUP/VERSION/RESOURCE[:KIND][:Cluster]", such
// as "example.com/v1/widgets:Widget" (namespaced) or
// "example.com/v1/gizmos:Gizmo:Cluster"; "VERSION/RESOURCE" is in the
// core group. Without KIND, the kind is the resource with its first letter
// upper-cased and a trailing "s" removed ("widgets" -> "Widget").
func ParseSchemalessResource(s string) (SchemalessResource, error) {
	bad := func(msg string) (SchemalessResource, error) {
		return SchemalessResource{}, fmt.Errorf("apiserver: schemaless resource %q: %s (want GROUP/VERSION/RESOURCE[:KIND][:Cluster])", s, msg)
	}
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return bad("too many ':'")
	}
	r := SchemalessResource{Namespaced: true}
	gvr := strings.Split(parts[0], "/")
	switch len(gvr) {
	case 2:
		r.Version, r.Resource = gvr[0], gvr[1]
	case 3:
		r.Group, r.Version, r.Resource = gvr[0], gvr[1], gvr[2]
	default:
		return bad("not GROUP/VERSION/RESOURCE")
	}
	if r.Version == "" || r.Resource == "" || r.Resource != strings.ToLower(r.Resource) {
		return bad("empty version, or a resource that is empty or not lowercase")
	}
	for _, p := range parts[1:] {
		switch {
		case p == "Cluster":
			r.Namespaced = false
		case p == "Namespaced":
			r.Namespaced = true
		case r.Kind == "" && p != "":
			r.Kind = p
		default:
			return bad(fmt.Sprintf("unexpected %q", p))
		}
	}
	if r.Kind == "" {
		k := strings.TrimSuffix(r.Resource, "s")
		r.Kind = strings.ToUpper(k[:1]) + k[1:]
	}
	return r, nil
}

// installSchemaless registers Config.Schemaless.
func (s *Server) installSchemaless() error {
	var errs []error
	for _, sr := range s.cfg.Schemaless {
		if sr.Kind == "" {
			errs = append(errs, fmt.Errorf("apiserver: schemaless resource %s/%s/%s has no kind", sr.Group, sr.Version, sr.Resource))
			continue
		}
		t := objectType(sr.Group, sr.Version, sr.Kind, sr.Resource, "", sr.Namespaced, nil)
		t.Subresources, t.New = []string{"status"}, unstructured.NewWithStatus
		errs = append(errs, Register(s, t))
	}
	return errors.Join(errs...)
}
