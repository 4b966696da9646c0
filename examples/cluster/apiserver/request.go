package apiserver

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/governor-io/governor/store/meta"
)

// requestInfo is what the URL and method of an API request say.
type requestInfo struct {
	verb        string // get, list, watch, create, update, patch, delete, deletecollection
	group       string
	version     string
	namespace   string
	resource    string
	name        string
	subresource string
	// namespaced reports whether the path had a namespaces/NS segment.
	namespaced bool
}

// scope is the metric label kube-apiserver gives the request's reach.
func (ri *requestInfo) scope() string {
	switch {
	case ri.name != "":
		return "resource"
	case ri.namespace != "":
		return "namespace"
	default:
		return "cluster"
	}
}

// namespaceSubresources are the subresources of a namespace, which make
// /api/v1/namespaces/NAME/SUB address the namespace itself.
var namespaceSubresources = map[string]bool{"status": true, "finalize": true}

// parseResourcePath reads the part of an API path after /api/v1 or
// /apis/G/V: [namespaces/NS/]RESOURCE[/NAME[/SUB]]. It reports false for
// a path with too many or empty segments.
func parseResourcePath(ri *requestInfo, parts []string) bool {
	for _, p := range parts {
		if p == "" {
			return false
		}
	}
	if len(parts) >= 2 && parts[0] == "namespaces" {
		if len(parts) > 2 && !namespaceSubresources[parts[2]] {
			ri.namespace = parts[1]
			ri.namespaced = true
			parts = parts[2:]
		}
	}
	switch len(parts) {
	case 3:
		ri.subresource = parts[2]
		fallthrough
	case 2:
		ri.name = parts[1]
		fallthrough
	case 1:
		ri.resource = parts[0]
		return true
	}
	return false
}

// verbOf names the request's verb from its method and query, or fails
// with MethodNotAllowed.
func verbOf(r *http.Request, ri *requestInfo) (string, error) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if boolParam(r.URL.Query(), "watch") {
			return "watch", nil
		}
		if ri.name == "" {
			return "list", nil
		}
		return "get", nil
	case http.MethodPost:
		if ri.name == "" || ri.subresource != "" {
			return "create", nil
		}
	case http.MethodPut:
		if ri.name != "" {
			return "update", nil
		}
	case http.MethodPatch:
		if ri.name != "" {
			return "patch", nil
		}
	case http.MethodDelete:
		if ri.name == "" {
			return "deletecollection", nil
		}
		return "delete", nil
	}
	return "", errMethodNotAllowed(r.Method)
}

func boolParam(q url.Values, name string) bool {
	v := q.Get(name)
	return v == "true" || v == "1"
}

// listParams are the query parameters of list and watch.
type listParams struct {
	opts           meta.ListOptions
	match          string // resourceVersionMatch
	sendInitial    *bool
	timeoutSeconds int64
	watch          bool
}

const (
	matchNotOlderThan = "NotOlderThan"
	matchExact        = "Exact"
)

// parseListParams reads and validates list/watch parameters as
// kube-apiserver's ListOptions validation does: bad combinations are a
// 422 Invalid ListOptions, bad numbers a 400.
func parseListParams(q url.Values, namespace string, watch bool) (*listParams, error) {
	p := &listParams{watch: watch}
	p.opts = meta.ListOptions{
		Namespace:           namespace,
		LabelSelector:       q.Get("labelSelector"),
		FieldSelector:       q.Get("fieldSelector"),
		ResourceVersion:     q.Get("resourceVersion"),
		Continue:            q.Get("continue"),
		AllowWatchBookmarks: boolParam(q, "allowWatchBookmarks"),
	}
	p.match = q.Get("resourceVersionMatch")
	if v := q.Get("limit"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, meta.NewBadRequest(fmt.Sprintf("invalid limit %q: must be a non-negative integer", v))
		}
		p.opts.Limit = n
	}
	if v := q.Get("timeoutSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, meta.NewBadRequest(fmt.Sprintf("invalid timeoutSeconds %q: must be a non-negative integer", v))
		}
		p.timeoutSeconds = n
	}
	if v, ok := q["sendInitialEvents"]; ok && len(v) > 0 {
		b := v[0] == "true" || v[0] == "1"
		p.sendInitial = &b
		p.opts.SendInitialEvents = b
	}
	if rv := p.opts.ResourceVersion; rv != "" {
		if _, err := meta.ParseResourceVersion(rv); err != nil {
			return nil, err
		}
	}
	var causes []meta.Cause
	bad := func(field, typ, msg string) {
		causes = append(causes, meta.Cause{Field: field, Type: typ, Message: msg})
	}
	if watch {
		if p.sendInitial != nil && *p.sendInitial && !p.opts.AllowWatchBookmarks {
			bad("allowWatchBookmarks", meta.CauseTypeFieldValueForbidden, "allowWatchBookmarks must be set to true when sendInitialEvents is true")
		}
		if p.sendInitial != nil && p.match != matchNotOlderThan {
			bad("resourceVersionMatch", meta.CauseTypeFieldValueForbidden, "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")
		}
		if p.sendInitial == nil && p.match != "" {
			bad("resourceVersionMatch", meta.CauseTypeFieldValueForbidden, "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")
		}
		if p.match != "" && p.match != matchNotOlderThan {
			bad("resourceVersionMatch", meta.CauseTypeFieldValueNotSupported, fmt.Sprintf("supported values: %q", matchNotOlderThan))
		}
		if p.opts.Continue != "" {
			bad("continue", meta.CauseTypeFieldValueForbidden, "continue is forbidden for watch")
		}
	} else {
		if p.sendInitial != nil {
			bad("sendInitialEvents", meta.CauseTypeFieldValueForbidden, "sendInitialEvents is forbidden for list")
		}
		switch {
		case p.match == "":
		case p.opts.ResourceVersion == "":
			bad("resourceVersionMatch", meta.CauseTypeFieldValueForbidden, "resourceVersionMatch is forbidden unless resourceVersion is provided")
		case p.opts.Continue != "":
			bad("resourceVersionMatch", meta.CauseTypeFieldValueForbidden, "resourceVersionMatch is forbidden when continue is provided")
		case p.match == matchExact && p.opts.ResourceVersion == "0":
			bad("resourceVersionMatch", meta.CauseTypeFieldValueForbidden, `resourceVersionMatch "Exact" is forbidden for resourceVersion "0"`)
		case p.match != matchExact && p.match != matchNotOlderThan:
			bad("resourceVersionMatch", meta.CauseTypeFieldValueNotSupported, fmt.Sprintf("supported values: %q, %q", matchExact, matchNotOlderThan))
		}
	}
	if len(causes) > 0 {
		return nil, meta.NewInvalid("ListOptions", "", causes...)
	}
	return p, nil
}

// output is what a response should be rendered as.
type output int

const (
	outObject   output = iota // the object or list itself
	outTable                  // a meta.k8s.io Table
	outMetadata               // PartialObjectMetadata(List)
)

// negotiation is the chosen response form.
type negotiation struct {
	out          output
	tableVersion string // v1 or v1beta1
}

// negotiate picks the response form from the Accept header: JSON, a
// Table or PartialObjectMetadata, in the client's order of preference. It
// fails with 406 when the client accepts none of them (protobuf alone,
// say).
func negotiate(r *http.Request) (negotiation, error) {
	accept := r.Header.Get("Accept")
	if strings.TrimSpace(accept) == "" {
		return negotiation{}, nil
	}
	for _, part := range strings.Split(accept, ",") {
		typ, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch typ {
		case "application/json", "*/*", "application/*":
		default:
			continue
		}
		as := params["as"]
		if as == "" {
			return negotiation{}, nil
		}
		if params["g"] != "meta.k8s.io" {
			continue
		}
		switch {
		case as == "Table" && (params["v"] == "v1" || params["v"] == "v1beta1"):
			return negotiation{out: outTable, tableVersion: params["v"]}, nil
		case (as == "PartialObjectMetadata" || as == "PartialObjectMetadataList") && params["v"] == "v1":
			return negotiation{out: outMetadata}, nil
		}
	}
	return negotiation{}, newHTTPError(http.StatusNotAcceptable, reasonNotAcceptable,
		fmt.Sprintf("only the following media types are accepted: application/json, application/json;as=Table;v=v1;g=meta.k8s.io (not %q)", accept))
}

// Patch media types.
const (
	mediaJSON           = "application/json"
	mediaMergePatch     = "application/merge-patch+json"
	mediaJSONPatch      = "application/json-patch+json"
	mediaStrategicPatch = "application/strategic-merge-patch+json"
	mediaApplyPatch     = "application/apply-patch+yaml"
)

// contentType returns the media type of the request body.
func contentType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return ""
	}
	typ, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct
	}
	return typ
}

// checkBodyType accepts a JSON body (or none named) and answers 415 for
// anything else, protobuf included.
func checkBodyType(r *http.Request) error {
	switch ct := contentType(r); ct {
	case "", mediaJSON:
		return nil
	default:
		return errUnsupportedMedia(ct, mediaJSON)
	}
}

func errUnsupportedMedia(got string, supported ...string) error {
	return newHTTPError(http.StatusUnsupportedMediaType, reasonUnsupportedMediaType,
		fmt.Sprintf("the body of the request was in an unknown format %q - accepted media types include: %s", got, strings.Join(supported, ", ")))
}

// readBody reads the request body up to limit bytes; more is a 413.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errTooLarge(limit)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge(limit)
		}
		return nil, meta.NewBadRequest("reading the request body: " + err.Error())
	}
	return data, nil
}

func errTooLarge(limit int64) error {
	return newHTTPError(http.StatusRequestEntityTooLarge, reasonRequestEntityTooLarge,
		fmt.Sprintf("Request entity too large: limit is %d", limit))
}

// dryRun reads the dryRun parameter: "All" or nothing.
func dryRun(q url.Values) (bool, error) {
	vals := q["dryRun"]
	for _, v := range vals {
		if v != "All" {
			return false, meta.NewBadRequest(fmt.Sprintf("invalid dryRun value %q: only \"All\" is supported", v))
		}
	}
	return len(vals) > 0, nil
}
