package apiserver

import (
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Discovery bodies, as Kubernetes' meta/v1 types encode them.

type apiVersions struct {
	Kind                       string                      `json:"kind"`
	Versions                   []string                    `json:"versions"`
	ServerAddressByClientCIDRs []serverAddressByClientCIDR `json:"serverAddressByClientCIDRs"`
}

type serverAddressByClientCIDR struct {
	ClientCIDR    string `json:"clientCIDR"`
	ServerAddress string `json:"serverAddress"`
}

type apiGroupList struct {
	Kind       string     `json:"kind"`
	APIVersion string     `json:"apiVersion"`
	Groups     []apiGroup `json:"groups"`
}

type apiGroup struct {
	Kind             string                     `json:"kind,omitempty"`
	APIVersion       string                     `json:"apiVersion,omitempty"`
	Name             string                     `json:"name"`
	Versions         []groupVersionForDiscovery `json:"versions"`
	PreferredVersion groupVersionForDiscovery   `json:"preferredVersion"`
}

type groupVersionForDiscovery struct {
	GroupVersion string `json:"groupVersion"`
	Version      string `json:"version"`
}

type apiResourceList struct {
	Kind         string        `json:"kind"`
	APIVersion   string        `json:"apiVersion"`
	GroupVersion string        `json:"groupVersion"`
	Resources    []apiResource `json:"resources"`
}

type apiResource struct {
	Name         string   `json:"name"`
	SingularName string   `json:"singularName"`
	Namespaced   bool     `json:"namespaced"`
	Group        string   `json:"group,omitempty"`
	Version      string   `json:"version,omitempty"`
	Kind         string   `json:"kind"`
	Verbs        []string `json:"verbs"`
	ShortNames   []string `json:"shortNames,omitempty"`
	Categories   []string `json:"categories,omitempty"`
}

var resourceVerbs = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

// subresourceDiscovery is what discovery says about each subresource the
// server serves:
// its kind (and group/version when not the parent's) and verbs.
var subresourceDiscovery = map[string]apiResource{
	"status":   {Verbs: []string{"get", "patch", "update"}},
	"scale":    {Group: "autoscaling", Version: "v1", Kind: "Scale", Verbs: []string{"get", "patch", "update"}},
	"binding":  {Kind: "Binding", Verbs: []string{"create"}},
	"eviction": {Group: "policy", Version: "v1", Kind: "Eviction", Verbs: []string{"create"}},
}

func groupVersion(group, version string) string {
	if group == "" {
		return version
	}
	return group + "/" + version
}

func (s *Server) apiVersions(r *http.Request) apiVersions {
	host := r.Host
	if _, _, err := net.SplitHostPort(host); err != nil && host != "" {
		host = net.JoinHostPort(host, "80")
	}
	v := apiVersions{Kind: "APIVersions", Versions: []string{},
		ServerAddressByClientCIDRs: []serverAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: host}}}
	for _, d := range s.descs() {
		if d.group == "" && !slices.Contains(v.Versions, d.version) {
			v.Versions = append(v.Versions, d.version)
		}
	}
	return v
}

func (s *Server) apiGroupList() apiGroupList {
	l := apiGroupList{Kind: "APIGroupList", APIVersion: "v1", Groups: []apiGroup{}}
	for _, d := range s.descs() {
		if d.group == "" {
			continue
		}
		if n := len(l.Groups); n == 0 || l.Groups[n-1].Name != d.group {
			l.Groups = append(l.Groups, apiGroup{Name: d.group})
		}
		g := &l.Groups[len(l.Groups)-1]
		gv := groupVersionForDiscovery{GroupVersion: groupVersion(d.group, d.version), Version: d.version}
		if !slices.Contains(g.Versions, gv) {
			g.Versions = append(g.Versions, gv)
		}
	}
	for i := range l.Groups {
		g := &l.Groups[i]
		slices.SortStableFunc(g.Versions, func(a, b groupVersionForDiscovery) int {
			return compareVersionPriority(a.Version, b.Version)
		})
		g.PreferredVersion = g.Versions[0]
	}
	return l
}

// compareVersionPriority orders API versions as Kubernetes prefers them:
// GA before beta before alpha, higher numbers first within each (v2, v1,
// v1beta2, v1beta1, v1alpha1), then versions of other shapes by name.
func compareVersionPriority(a, b string) int {
	pa, oka := parseKubeVersion(a)
	pb, okb := parseKubeVersion(b)
	switch {
	case oka && okb:
		if pa.stage != pb.stage {
			return pb.stage - pa.stage
		}
		if pa.major != pb.major {
			return pb.major - pa.major
		}
		return pb.minor - pa.minor
	case oka:
		return -1
	case okb:
		return 1
	}
	return strings.Compare(a, b)
}

type kubeVersion struct{ major, stage, minor int } // stage: 2 GA, 1 beta, 0 alpha

// parseKubeVersion parses "v1", "v2beta3", "v1alpha1".
func parseKubeVersion(v string) (kubeVersion, bool) {
	rest, ok := strings.CutPrefix(v, "v")
	if !ok {
		return kubeVersion{}, false
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	major, err := strconv.Atoi(rest[:i])
	if err != nil || major == 0 {
		return kubeVersion{}, false
	}
	kv := kubeVersion{major: major, stage: 2}
	switch suffix := rest[i:]; {
	case suffix == "":
		return kv, true
	case strings.HasPrefix(suffix, "beta"):
		kv.stage, suffix = 1, suffix[len("beta"):]
		kv.minor, err = strconv.Atoi(suffix)
	case strings.HasPrefix(suffix, "alpha"):
		kv.stage, suffix = 0, suffix[len("alpha"):]
		kv.minor, err = strconv.Atoi(suffix)
	default:
		return kubeVersion{}, false
	}
	return kv, err == nil && kv.minor > 0
}

func (s *Server) apiGroup(name string) (apiGroup, bool) {
	for _, g := range s.apiGroupList().Groups {
		if g.Name == name {
			g.Kind, g.APIVersion = "APIGroup", "v1"
			return g, true
		}
	}
	return apiGroup{}, false
}

func (s *Server) resourceList(group, version string) (apiResourceList, bool) {
	l := apiResourceList{Kind: "APIResourceList", APIVersion: "v1", GroupVersion: groupVersion(group, version),
		Resources: []apiResource{}}
	found := false
	for _, d := range s.descs() {
		if d.group != group || d.version != version {
			continue
		}
		found = true
		l.Resources = append(l.Resources, apiResource{
			Name: d.resource, SingularName: d.singular, Namespaced: d.namespaced, Kind: d.kind,
			Verbs: resourceVerbs, ShortNames: d.shortNames, Categories: d.categories,
		})
		for _, sub := range d.subresources {
			sr, ok := subresourceDiscovery[sub]
			if !ok {
				continue
			}
			sr.Name = d.resource + "/" + sub
			sr.Namespaced = d.namespaced
			if sr.Kind == "" {
				sr.Kind = d.kind
			}
			l.Resources = append(l.Resources, sr)
		}
	}
	return l, found
}

// openAPIDocument returns a minimal gnostic openapi_v2.Document in
// protobuf: swagger "2.0", info {title, version} and empty paths. kubectl
// finds no schema in it and skips client-side validation.
func openAPIDocument(version string) []byte {
	info := appendString(appendString(nil, 1, "Governor"), 2, version)
	var doc []byte
	doc = appendString(doc, 1, "2.0") // swagger
	doc = appendBytes(doc, 2, info)   // info
	doc = appendBytes(doc, 8, nil)    // paths
	return doc
}

func appendString(b []byte, field int, s string) []byte { return appendBytes(b, field, []byte(s)) }

// appendBytes appends a length-delimited protobuf field.
func appendBytes(b []byte, field int, p []byte) []byte {
	b = appendVarint(b, uint64(field)<<3|2)
	b = appendVarint(b, uint64(len(p)))
	return append(b, p...)
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}
