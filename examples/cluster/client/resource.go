package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/store/meta"
)

// Resource is the typed client of one resource, such as pods: over the
// wire, what a [github.com/governor-io/governor/store.Store] offers
// in-process. It implements [informer.ListerWatcher], so that an informer
// (and the reconcilers over it) runs against an API server exactly as
// against a store. Make one with [For]; it is safe for concurrent use.
//
// Calls that name one object take its namespace ("" for a cluster-scoped
// resource) and name; List, Watch and DeleteCollection take the namespace
// in [meta.ListOptions] ("" for all namespaces). Errors the server
// answers with are [*meta.StatusError] values, so errors.Is(err,
// meta.ErrNotFound) (ErrConflict, ErrAlreadyExists, ErrExpired,
// ErrInvalid, ...) works as it does in-process.
type Resource[T meta.Object] struct {
	c   *Client
	typ api.Type[T]
}

var _ informer.ListerWatcher[meta.Object] = (*Resource[meta.Object])(nil)

// For returns the typed client of the resource t describes.
func For[T meta.Object](c *Client, t api.Type[T]) *Resource[T] {
	return &Resource[T]{c: c, typ: t}
}

// Type returns the descriptor of the resource.
func (r *Resource[T]) Type() api.Type[T] { return r.typ }

// Client returns the Client the resource's calls go through.
func (r *Resource[T]) Client() *Client { return r.c }

// PatchType is the media type of a patch body.
type PatchType string

// The patch types an API server takes.
const (
	// MergePatch is a JSON merge patch (RFC 7386): objects merge, and
	// null deletes a field. Lists are replaced whole.
	MergePatch PatchType = "application/merge-patch+json"
	// JSONPatch is a list of operations (RFC 6902).
	JSONPatch PatchType = "application/json-patch+json"
	// StrategicMergePatch is a merge patch that merges lists by their
	// patch merge key (containers by name, ...), for built-in types.
	StrategicMergePatch PatchType = "application/strategic-merge-patch+json"
)

// idempotent reports whether applying the patch twice gives what applying
// it once gives: true of merge patches, not of JSON patches (an "add" to a
// list's end adds twice).
func (p PatchType) idempotent() bool { return p != JSONPatch }

// WriteOption changes how a write (create, update, patch, delete) is made.
type WriteOption func(*writeOptions)

type writeOptions struct {
	dryRun          bool
	fieldManager    string
	fieldValidation string
	gracePeriod     *int64
}

// DryRun makes the server check and answer the write without storing it
// (dryRun=All).
func DryRun() WriteOption { return func(o *writeOptions) { o.dryRun = true } }

// FieldManager names the writer, as kubectl's fieldManager=kubectl-create.
func FieldManager(name string) WriteOption { return func(o *writeOptions) { o.fieldManager = name } }

// FieldValidation asks the server to "Ignore", "Warn" about, or reject
// ("Strict") unknown or duplicate fields.
func FieldValidation(mode string) WriteOption {
	return func(o *writeOptions) { o.fieldValidation = mode }
}

func writeQuery(opts []WriteOption) url.Values {
	var o writeOptions
	for _, f := range opts {
		f(&o)
	}
	q := url.Values{}
	if o.dryRun {
		q.Set("dryRun", "All")
	}
	if o.fieldManager != "" {
		q.Set("fieldManager", o.fieldManager)
	}
	if o.fieldValidation != "" {
		q.Set("fieldValidation", o.fieldValidation)
	}
	return q
}

// GracePeriod sets a delete's gracePeriodSeconds: the time the object's
// holder (a node agent, for a pod) gets to stop it; 0 means at once. Other
// writes ignore it.
func GracePeriod(seconds int64) WriteOption {
	return func(o *writeOptions) { o.gracePeriod = &seconds }
}

// wireDeleteOptions is the JSON body of a delete: Kubernetes'
// DeleteOptions.
type wireDeleteOptions struct {
	meta.TypeMeta
	GracePeriodSeconds *int64                   `json:"gracePeriodSeconds,omitempty"`
	Preconditions      *meta.Preconditions      `json:"preconditions,omitempty"`
	PropagationPolicy  meta.DeletionPropagation `json:"propagationPolicy,omitempty"`
	DryRun             []string                 `json:"dryRun,omitempty"`
}

func deleteBody(opts meta.DeleteOptions, wopts []WriteOption) []byte {
	var o writeOptions
	for _, f := range wopts {
		f(&o)
	}
	w := wireDeleteOptions{
		TypeMeta:           meta.TypeMeta{Kind: "DeleteOptions", APIVersion: "v1"},
		GracePeriodSeconds: o.gracePeriod,
		Preconditions:      opts.Preconditions,
		PropagationPolicy:  opts.PropagationPolicy,
	}
	if o.dryRun {
		w.DryRun = []string{"All"}
	}
	b, _ := json.Marshal(w) // plain strings and pointers: cannot fail
	return b
}

// path returns the URL path of the collection (name "") or of one object,
// and of its subresource sub. It checks the namespace against the
// resource's scope; need says whether a namespaced resource needs one.
func (r *Resource[T]) path(namespace, name, sub string, needNamespace bool) (string, error) {
	t := r.typ
	p := "/api/" + t.Version
	if t.Group != "" {
		p = "/apis/" + t.Group + "/" + t.Version
	}
	switch {
	case !t.Namespaced && namespace != "":
		return "", meta.NewBadRequest(fmt.Sprintf("%s is cluster-scoped: namespace must be empty, not %q", t.GroupResource(), namespace))
	case t.Namespaced && namespace == "" && needNamespace:
		return "", meta.NewBadRequest(fmt.Sprintf("%s is namespaced: a namespace is required", t.GroupResource()))
	case namespace != "":
		p += "/namespaces/" + url.PathEscape(namespace)
	}
	p += "/" + t.Resource
	if name != "" {
		p += "/" + url.PathEscape(name)
	}
	if sub != "" {
		p += "/" + sub
	}
	return p, nil
}

// objectPath is path for one named object.
func (r *Resource[T]) objectPath(namespace, name, sub string) (string, error) {
	if name == "" {
		return "", meta.NewBadRequest(fmt.Sprintf("%s: a name is required", r.typ.GroupResource()))
	}
	return r.path(namespace, name, sub, true)
}

func (r *Resource[T]) fail(verb, namespace, name string, err error) error {
	what := r.typ.GroupResource()
	if name != "" {
		what += " " + meta.NamespacedName{Namespace: namespace, Name: name}.String()
	}
	return fmt.Errorf("client: %s %s: %w", verb, what, err)
}

// decode turns one object's JSON into a T, with its kind and apiVersion
// set as the Store sets them.
func (r *Resource[T]) decode(data []byte) (T, error) {
	obj := r.newObject()
	if err := json.Unmarshal(data, obj); err != nil {
		var zero T
		return zero, meta.NewInternalError(fmt.Errorf("decode %s: %w", r.typ.Kind, err))
	}
	tm := obj.GetTypeMeta()
	if tm.Kind == "" {
		tm.Kind = r.typ.Kind
	}
	if tm.APIVersion == "" {
		tm.APIVersion = r.typ.APIVersion()
	}
	return obj, nil
}

func (r *Resource[T]) newObject() T {
	if r.typ.New != nil {
		return r.typ.New()
	}
	// A Type without New: T must be a pointer to a struct.
	return reflect.New(reflect.TypeFor[T]().Elem()).Interface().(T)
}

func isExpired(err error) bool { return errors.Is(err, meta.ErrExpired) }

// encode returns obj's JSON with kind and apiVersion filled in when obj
// leaves them empty, without changing obj (it may be shared).
func (r *Resource[T]) encode(obj T) ([]byte, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, meta.NewBadRequest(fmt.Sprintf("encode %s: %v", r.typ.Kind, err))
	}
	tm := obj.GetTypeMeta()
	var head []byte
	if tm.Kind == "" {
		head = fmt.Appendf(head, `"kind":%q,`, r.typ.Kind)
	}
	if tm.APIVersion == "" {
		head = fmt.Appendf(head, `"apiVersion":%q,`, r.typ.APIVersion())
	}
	if len(head) == 0 || len(data) < 2 || data[0] != '{' {
		return data, nil
	}
	if bytes.Equal(data, []byte("{}")) {
		head = head[:len(head)-1]
	}
	out := make([]byte, 0, len(data)+len(head))
	out = append(out, '{')
	out = append(out, head...)
	return append(out, data[1:]...), nil
}

// Get returns the object namespace/name, read from the server's current
// state.
func (r *Resource[T]) Get(ctx context.Context, namespace, name string) (T, error) {
	var zero T
	p, err := r.objectPath(namespace, name, "")
	if err != nil {
		return zero, r.fail("get", namespace, name, err)
	}
	_, body, err := r.c.do(ctx, &request{method: http.MethodGet, path: p, idempotent: true})
	if err != nil {
		return zero, r.fail("get", namespace, name, err)
	}
	obj, err := r.decode(body)
	if err != nil {
		return zero, r.fail("get", namespace, name, err)
	}
	return obj, nil
}

// listQuery encodes the selectors and paging of opts.
func listQuery(opts meta.ListOptions) url.Values {
	q := url.Values{}
	if opts.LabelSelector != "" {
		q.Set("labelSelector", opts.LabelSelector)
	}
	if opts.FieldSelector != "" {
		q.Set("fieldSelector", opts.FieldSelector)
	}
	if opts.ResourceVersion != "" {
		q.Set("resourceVersion", opts.ResourceVersion)
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.FormatInt(opts.Limit, 10))
	}
	if opts.Continue != "" {
		q.Set("continue", opts.Continue)
	}
	return q
}

// wireList is the JSON of a list ("PodList").
type wireList struct {
	Metadata struct {
		ResourceVersion string `json:"resourceVersion"`
		Continue        string `json:"continue"`
	} `json:"metadata"`
	Items []json.RawMessage `json:"items"`
}

// List returns one page of the objects opts select, as
// [github.com/governor-io/governor/store.Store.List] does: ResourceVersion "" reads the server's current state, "0" lets it
// answer from its cache, and "N" reads exactly revision N
// (resourceVersionMatch=Exact). With a Limit, a page holds at most that
// many items and a Continue token when there may be more; [Resource.ListAll]
// pages through.
func (r *Resource[T]) List(ctx context.Context, opts meta.ListOptions) (*meta.List[T], error) {
	p, err := r.path(opts.Namespace, "", "", false)
	if err != nil {
		return nil, r.fail("list", "", "", err)
	}
	q := listQuery(opts)
	if rv := opts.ResourceVersion; rv != "" && rv != "0" && opts.Continue == "" {
		q.Set("resourceVersionMatch", "Exact")
	}
	_, body, err := r.c.do(ctx, &request{method: http.MethodGet, path: p, query: q, idempotent: true})
	if err != nil {
		return nil, r.fail("list", "", "", err)
	}
	var wl wireList
	if err := json.Unmarshal(body, &wl); err != nil {
		return nil, r.fail("list", "", "", meta.NewInternalError(fmt.Errorf("decode %s: %w", r.typ.ListKind(), err)))
	}
	out := &meta.List[T]{ResourceVersion: wl.Metadata.ResourceVersion, Continue: wl.Metadata.Continue, Items: make([]T, 0, len(wl.Items))}
	for _, raw := range wl.Items {
		obj, err := r.decode(raw)
		if err != nil {
			return nil, r.fail("list", "", "", err)
		}
		out.Items = append(out.Items, obj)
	}
	return out, nil
}

// DefaultPageSize is the page size of [Resource.ListAll] when opts has no
// Limit: kubectl's.
const DefaultPageSize = 500

// ListAll lists every object opts select, page by page (opts.Limit items
// at a time, DefaultPageSize when 0), all read at the first page's
// resourceVersion. Should the continue token expire between pages (the
// server compacted that revision), it starts over once with one unpaged
// list, as the informer's reflector does. The List it returns has the
// resourceVersion the pages were read at and no Continue.
func (r *Resource[T]) ListAll(ctx context.Context, opts meta.ListOptions) (*meta.List[T], error) {
	if opts.Limit <= 0 {
		opts.Limit = DefaultPageSize
	}
	opts.Continue = ""
	all := &meta.List[T]{}
	restarted := false
	for {
		page, err := r.List(ctx, opts)
		if err != nil {
			if opts.Continue != "" && !restarted && isExpired(err) {
				restarted = true
				opts.Continue, opts.Limit = "", 0
				all = &meta.List[T]{}
				continue
			}
			return nil, err
		}
		if all.ResourceVersion == "" {
			all.ResourceVersion = page.ResourceVersion
		}
		all.Items = append(all.Items, page.Items...)
		if page.Continue == "" {
			return all, nil
		}
		opts.Continue = page.Continue
		opts.ResourceVersion = ""
	}
}

// Create creates obj (in its metadata.namespace) and returns it as stored.
// It fails with AlreadyExists when the name is taken.
func (r *Resource[T]) Create(ctx context.Context, obj T, opts ...WriteOption) (T, error) {
	m := obj.GetObjectMeta()
	return r.write(ctx, "create", http.MethodPost, m.Namespace, "", m.Name, "", obj, opts, false)
}

// Update replaces the stored object with obj. A stale resourceVersion
// fails with Conflict. The status is left as stored.
func (r *Resource[T]) Update(ctx context.Context, obj T, opts ...WriteOption) (T, error) {
	m := obj.GetObjectMeta()
	return r.write(ctx, "update", http.MethodPut, m.Namespace, m.Name, m.Name, "", obj, opts, true)
}

// UpdateStatus replaces the status of the stored object with obj's,
// through the status subresource.
func (r *Resource[T]) UpdateStatus(ctx context.Context, obj T, opts ...WriteOption) (T, error) {
	m := obj.GetObjectMeta()
	return r.write(ctx, "update status", http.MethodPut, m.Namespace, m.Name, m.Name, "status", obj, opts, true)
}

func (r *Resource[T]) write(ctx context.Context, verb, method, namespace, pathName, name, sub string, obj T, opts []WriteOption, idempotent bool) (T, error) {
	var zero T
	var p string
	var err error
	if pathName == "" {
		p, err = r.path(namespace, "", "", true)
	} else {
		p, err = r.objectPath(namespace, pathName, sub)
	}
	if err != nil {
		return zero, r.fail(verb, namespace, name, err)
	}
	body, err := r.encode(obj)
	if err != nil {
		return zero, r.fail(verb, namespace, name, err)
	}
	req := &request{method: method, path: p, query: writeQuery(opts), body: body, contentType: "application/json", idempotent: idempotent}
	_, out, err := r.c.do(ctx, req)
	if err != nil {
		return zero, r.fail(verb, namespace, name, err)
	}
	res, err := r.decode(out)
	if err != nil {
		return zero, r.fail(verb, namespace, name, err)
	}
	return res, nil
}

// Patch applies a patch of type pt to the object namespace/name and
// returns the result. A patch that sets metadata.resourceVersion is a
// precondition: it fails with Conflict unless that is the stored one.
func (r *Resource[T]) Patch(ctx context.Context, namespace, name string, pt PatchType, data []byte, opts ...WriteOption) (T, error) {
	return r.patch(ctx, namespace, name, "", pt, data, opts)
}

// PatchStatus is [Resource.Patch] through the status subresource: only
// the status changes.
func (r *Resource[T]) PatchStatus(ctx context.Context, namespace, name string, pt PatchType, data []byte, opts ...WriteOption) (T, error) {
	return r.patch(ctx, namespace, name, "status", pt, data, opts)
}

func (r *Resource[T]) patch(ctx context.Context, namespace, name, sub string, pt PatchType, data []byte, opts []WriteOption) (T, error) {
	var zero T
	p, err := r.objectPath(namespace, name, sub)
	if err != nil {
		return zero, r.fail("patch", namespace, name, err)
	}
	req := &request{method: http.MethodPatch, path: p, query: writeQuery(opts), body: data, contentType: string(pt), idempotent: pt.idempotent()}
	_, out, err := r.c.do(ctx, req)
	if err != nil {
		return zero, r.fail("patch", namespace, name, err)
	}
	res, err := r.decode(out)
	if err != nil {
		return zero, r.fail("patch", namespace, name, err)
	}
	return res, nil
}

// Delete deletes the object namespace/name and returns it as the server
// answered: as it was last stored, or with its deletionTimestamp set when
// finalizers (or a grace period) hold it back. When the server answers
// with a Success Status instead of the object, Delete returns the zero T
// and no error. A missing object fails with NotFound; preconditions that
// do not hold, with Conflict.
//
// Delete is retried after a lost connection or a 5xx answer, like every
// idempotent call; a retry of a delete that had gone through gets
// NotFound.
func (r *Resource[T]) Delete(ctx context.Context, namespace, name string, opts meta.DeleteOptions, wopts ...WriteOption) (T, error) {
	var zero T
	p, err := r.objectPath(namespace, name, "")
	if err != nil {
		return zero, r.fail("delete", namespace, name, err)
	}
	req := &request{method: http.MethodDelete, path: p, body: deleteBody(opts, wopts), contentType: "application/json", idempotent: true}
	_, out, err := r.c.do(ctx, req)
	if err != nil {
		return zero, r.fail("delete", namespace, name, err)
	}
	if isStatus(out) {
		return zero, nil
	}
	res, err := r.decode(out)
	if err != nil {
		return zero, r.fail("delete", namespace, name, err)
	}
	return res, nil
}

// DeleteCollection deletes every object sel selects (its namespace,
// label and field selectors).
func (r *Resource[T]) DeleteCollection(ctx context.Context, sel meta.ListOptions, opts meta.DeleteOptions, wopts ...WriteOption) error {
	p, err := r.path(sel.Namespace, "", "", false)
	if err != nil {
		return r.fail("deletecollection", "", "", err)
	}
	q := listQuery(meta.ListOptions{LabelSelector: sel.LabelSelector, FieldSelector: sel.FieldSelector})
	req := &request{method: http.MethodDelete, path: p, query: q, body: deleteBody(opts, wopts), contentType: "application/json", idempotent: true}
	if _, _, err := r.c.do(ctx, req); err != nil {
		return r.fail("deletecollection", "", "", err)
	}
	return nil
}

// isStatus reports whether a 2xx body is a Status (a Success one) rather
// than an object.
func isStatus(body []byte) bool {
	var tm meta.TypeMeta
	return json.Unmarshal(body, &tm) == nil && tm.Kind == "Status" && tm.APIVersion == "v1"
}
