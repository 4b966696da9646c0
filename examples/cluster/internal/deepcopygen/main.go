// Command deepcopygen writes the deep-copy methods of the API types
// (zz_generated_deepcopy.go in each package of examples/cluster/api):
// DeepCopyInto and DeepCopy for every struct type, and DeepCopyObject
// for every object type, so that meta.DeepCopy copies them without
// reflection. It reads the types by reflection, so run it after changing
// them, from examples/cluster:
//
//	go run ./internal/deepcopygen
//
// The generator compiles the packages it reads, generated files
// included: when a field's type changed so that the old methods no
// longer compile, delete them first (rm api/zz_generated_deepcopy.go
// api/*/zz_generated_deepcopy.go). Its test fails when a generated file
// is stale.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/examples/cluster/api/admissionregistrationv1"
	"github.com/governor-io/governor/examples/cluster/api/apiextensionsv1"
	"github.com/governor-io/governor/examples/cluster/api/appsv1"
	"github.com/governor-io/governor/examples/cluster/api/autoscalingv1"
	"github.com/governor-io/governor/examples/cluster/api/corev1"
	"github.com/governor-io/governor/examples/cluster/api/discoveryv1"
	"github.com/governor-io/governor/examples/cluster/api/eventsv1"
	"github.com/governor-io/governor/examples/cluster/api/policyv1"
	"github.com/governor-io/governor/examples/cluster/api/rbacv1"
	"github.com/governor-io/governor/examples/cluster/api/schedulingv1"
)

// roots are the types whose packages get generated code; every struct
// type of those packages that they reach gets methods too.
var roots = []any{
	api.LabelSelector{}, api.DeleteOptions{},
	corev1.Pod{}, corev1.Binding{}, corev1.Node{}, corev1.Namespace{}, corev1.Service{}, corev1.ConfigMap{},
	corev1.Secret{}, corev1.ServiceAccount{}, corev1.Event{},
	appsv1.ReplicaSet{}, appsv1.Deployment{}, autoscalingv1.Scale{}, policyv1.Eviction{},
	discoveryv1.EndpointSlice{}, eventsv1.Event{}, schedulingv1.PriorityClass{},
	rbacv1.Role{}, rbacv1.ClusterRole{}, rbacv1.RoleBinding{}, rbacv1.ClusterRoleBinding{},
	admissionregistrationv1.MutatingWebhookConfiguration{}, admissionregistrationv1.ValidatingWebhookConfiguration{},
	apiextensionsv1.CustomResourceDefinition{},
}

const modulePath = "github.com/governor-io/governor/examples/cluster/"

func main() {
	dir := flag.String("dir", ".", "the examples/cluster directory")
	flag.Parse()
	files, err := Generate()
	if err != nil {
		log.Fatal(err)
	}
	for rel, src := range files {
		if err := os.WriteFile(filepath.Join(*dir, rel), src, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// Generate returns the generated files, by path relative to
// examples/cluster.
func Generate() (map[string][]byte, error) {
	pkgs := map[string]*pkg{}
	for _, r := range roots {
		t := reflect.TypeOf(r)
		p := pkgs[t.PkgPath()]
		if p == nil {
			p = &pkg{path: t.PkgPath(), types: map[reflect.Type]bool{}, objects: map[reflect.Type]bool{}, imports: map[string]bool{}}
			pkgs[t.PkgPath()] = p
		}
		p.objects[t] = hasObjectMeta(t)
	}
	for _, p := range pkgs {
		for t := range p.objects {
			collect(t, p.path, p.types)
		}
	}
	generated := func(t reflect.Type) bool {
		p := pkgs[t.PkgPath()]
		return p != nil && p.types[t]
	}
	out := map[string][]byte{}
	for _, p := range pkgs {
		src, err := p.generate(generated)
		if err != nil {
			return nil, err
		}
		rel := strings.TrimPrefix(p.path, modulePath)
		out[filepath.Join(rel, "zz_generated_deepcopy.go")] = src
	}
	return out, nil
}

type pkg struct {
	path    string
	types   map[reflect.Type]bool // named structs of the package to generate
	objects map[reflect.Type]bool // roots; true if they are objects (have ObjectMeta)
	imports map[string]bool
}

func hasObjectMeta(t reflect.Type) bool {
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.Anonymous && f.Type.Name() == "ObjectMeta" {
			return true
		}
	}
	return false
}

// collect adds to types every named struct of package path that t
// reaches, t included.
func collect(t reflect.Type, path string, types map[reflect.Type]bool) {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		collect(t.Elem(), path, types)
	case reflect.Struct:
		if t.PkgPath() == path && t.Name() != "" {
			if types[t] {
				return
			}
			types[t] = true
		}
		for i := 0; i < t.NumField(); i++ {
			collect(t.Field(i).Type, path, types)
		}
	}
}

// deep reports whether values of t can reference memory a copy must
// not share.
func deep(t reflect.Type) bool {
	return deepSeen(t, map[reflect.Type]bool{})
}

func deepSeen(t reflect.Type, seen map[reflect.Type]bool) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return true
	case reflect.Array:
		return deepSeen(t.Elem(), seen)
	case reflect.Struct:
		if t.PkgPath() == "time" || seen[t] {
			return false
		}
		seen[t] = true
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() && deepSeen(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}

func (p *pkg) typeName(t reflect.Type) string {
	if t.Name() != "" {
		if t.PkgPath() == "" || t.PkgPath() == p.path {
			return t.Name()
		}
		p.imports[t.PkgPath()] = true
		return filepath.Base(t.PkgPath()) + "." + t.Name()
	}
	switch t.Kind() {
	case reflect.Pointer:
		return "*" + p.typeName(t.Elem())
	case reflect.Slice:
		return "[]" + p.typeName(t.Elem())
	case reflect.Map:
		return "map[" + p.typeName(t.Key()) + "]" + p.typeName(t.Elem())
	case reflect.Struct:
		if t.NumField() == 0 {
			return "struct{}"
		}
	}
	panic(fmt.Sprintf("deepcopygen: no name for %s", t))
}

func (p *pkg) generate(generated func(reflect.Type) bool) ([]byte, error) {
	var body bytes.Buffer
	types := make([]reflect.Type, 0, len(p.types))
	for t := range p.types {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool { return types[i].Name() < types[j].Name() })
	for _, t := range types {
		name := t.Name()
		w := &writer{p: p, generated: generated}
		fmt.Fprintf(&body, "\n// DeepCopyInto copies in into out, sharing no memory with in.\n")
		fmt.Fprintf(&body, "func (in *%s) DeepCopyInto(out *%s) {\n\t*out = *in\n", name, name)
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.IsExported() && deep(f.Type) {
				w.fix("out."+f.Name, "in."+f.Name, f.Type, 1)
			}
		}
		body.WriteString(w.String())
		body.WriteString("}\n")
		fmt.Fprintf(&body, "\n// DeepCopy returns a copy of in that shares no memory with it.\n")
		fmt.Fprintf(&body, "func (in *%s) DeepCopy() *%s {\n\tif in == nil {\n\t\treturn nil\n\t}\n\tout := new(%s)\n\tin.DeepCopyInto(out)\n\treturn out\n}\n", name, name, name)
		if p.objects[t] {
			p.imports["github.com/governor-io/governor/store/meta"] = true
			fmt.Fprintf(&body, "\n// DeepCopyObject returns a copy of in as a [meta.Object].\n")
			fmt.Fprintf(&body, "func (in *%s) DeepCopyObject() meta.Object {\n\tif in == nil {\n\t\treturn nil\n\t}\n\treturn in.DeepCopy()\n}\n", name)
		}
	}
	var src bytes.Buffer
	src.WriteString("// Code generated by deepcopygen. DO NOT EDIT.\n\n")
	fmt.Fprintf(&src, "package %s\n", filepath.Base(p.path))
	if len(p.imports) > 0 {
		src.WriteString("\nimport (\n")
		for _, imp := range slices.Sorted(mapKeys(p.imports)) {
			fmt.Fprintf(&src, "\t%q\n", imp)
		}
		src.WriteString(")\n")
	}
	src.Write(body.Bytes())
	out, err := format.Source(src.Bytes())
	if err != nil {
		return nil, fmt.Errorf("deepcopygen: %s: %w\n%s", p.path, err, src.Bytes())
	}
	return out, nil
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// writer accumulates the statements of one DeepCopyInto.
type writer struct {
	bytes.Buffer
	p         *pkg
	generated func(reflect.Type) bool
}

func (w *writer) line(depth int, format string, args ...any) {
	w.WriteString(strings.Repeat("\t", depth))
	fmt.Fprintf(w, format, args...)
	w.WriteByte('\n')
}

// fix writes statements that, given dst holding a shallow copy of src,
// make dst a deep copy of it.
func (w *writer) fix(dst, src string, t reflect.Type, depth int) {
	if !deep(t) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if w.generated(t) {
			w.line(depth, "%s.DeepCopyInto(&%s)", src, dst)
			return
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.IsExported() && deep(f.Type) {
				w.fix(dst+"."+f.Name, src+"."+f.Name, f.Type, depth)
			}
		}
	case reflect.Pointer:
		w.line(depth, "if %s != nil {", src)
		w.line(depth+1, "in, out := &%s, &%s", src, dst)
		w.line(depth+1, "*out = new(%s)", w.p.typeName(t.Elem()))
		if w.generated(t.Elem()) {
			w.line(depth+1, "(*in).DeepCopyInto(*out)")
		} else {
			w.line(depth+1, "**out = **in")
			w.fix("(**out)", "(**in)", t.Elem(), depth+1)
		}
		w.line(depth, "}")
	case reflect.Slice:
		w.line(depth, "if %s != nil {", src)
		w.line(depth+1, "in, out := &%s, &%s", src, dst)
		w.line(depth+1, "*out = make(%s, len(*in))", w.p.typeName(t))
		if !deep(t.Elem()) {
			w.line(depth+1, "copy(*out, *in)")
		} else if w.generated(t.Elem()) {
			w.line(depth+1, "for i := range *in {")
			w.line(depth+2, "(*in)[i].DeepCopyInto(&(*out)[i])")
			w.line(depth+1, "}")
		} else {
			w.line(depth+1, "copy(*out, *in)")
			w.line(depth+1, "for i := range *in {")
			w.fix("(*out)[i]", "(*in)[i]", t.Elem(), depth+2)
			w.line(depth+1, "}")
		}
		w.line(depth, "}")
	case reflect.Map:
		w.line(depth, "if %s != nil {", src)
		w.line(depth+1, "in, out := &%s, &%s", src, dst)
		w.line(depth+1, "*out = make(%s, len(*in))", w.p.typeName(t))
		w.line(depth+1, "for key, val := range *in {")
		if !deep(t.Elem()) {
			w.line(depth+2, "(*out)[key] = val")
		} else {
			w.line(depth+2, "cp := val")
			w.fix("cp", "val", t.Elem(), depth+2)
			w.line(depth+2, "(*out)[key] = cp")
		}
		w.line(depth+1, "}")
		w.line(depth, "}")
	default:
		panic(fmt.Sprintf("deepcopygen: cannot copy %s", t))
	}
}
