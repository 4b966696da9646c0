package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/examples/cluster/api/corev1"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// resource serves one registered [api.Type].
type resource[T meta.Object] struct {
	s      *Server
	t      api.Type[T]
	st     *store.Store[T]
	cache  *watchCache[T]
	prefix string // the KV prefix of the resource's keys
	// stop ends the watch cache, and done is closed once it has ended.
	stop context.CancelFunc
	done chan struct{}
}

// Register adds the resource t describes to s: it is listed in discovery
// and served under /api/v1 (core group) or /apis/GROUP/VERSION, with a
// watch cache loaded from s's KV. It fails for an incomplete Type or a
// resource already registered.
func Register[T meta.Object](s *Server, t api.Type[T]) error {
	_, err := register(s, t, func(r *resource[T]) endpoint { return r })
	return err
}

// register adds t's resource to s, served by the endpoint wrap returns
// for it (the resource itself, or a wrapper that serves more, as custom
// resources do), and starts its watch cache. The cache runs until s
// closes or the resource's stop is called (after [Server.remove]); done
// is closed when it has stopped and ended its watches.
func register[T meta.Object](s *Server, t api.Type[T], wrap func(*resource[T]) endpoint) (*resource[T], error) {
	if t.Version == "" || t.Kind == "" || t.Resource == "" || t.New == nil {
		return nil, fmt.Errorf("apiserver: register %q: Version, Kind, Resource and New are required", t.Resource)
	}
	if t.Singular == "" {
		return nil, fmt.Errorf("apiserver: register %q: Singular is required", t.Resource)
	}
	res := t.StoreResource()
	r := &resource[T]{s: s, t: t, st: store.NewWithOptions(s.cfg.KV, res, store.Options{
		Clock: s.clock, Logger: s.log, BookmarkInterval: -1, // the watch cache asks for progress itself
	})}
	r.prefix = store.DefaultPrefix + "/" + res.Name + "/"
	r.cache = newWatchCache(r, s.cfg.WatchCacheSize)
	ctx, cancel := context.WithCancel(s.ctx)
	r.stop, r.done = cancel, make(chan struct{})
	if err := s.add(groupVersionResource{t.Group, t.Version, t.Resource}, wrap(r)); err != nil {
		cancel()
		return nil, err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(r.done)
		r.cache.run(ctx)
	}()
	return r, nil
}

func (r *resource[T]) desc() resourceDesc {
	d := resourceDesc{
		group: r.t.Group, version: r.t.Version, kind: r.t.Kind, resource: r.t.Resource, singular: r.t.Singular,
		namespaced: r.t.Namespaced, shortNames: r.t.ShortNames, categories: r.t.Categories,
	}
	for _, sub := range r.t.Subresources {
		if r.served(sub) {
			d.subresources = append(d.subresources, sub)
		}
	}
	return d
}

// served reports whether the server serves the Type's subresource sub:
// status always, scale with a ScaleAccess, binding and eviction for pods.
func (r *resource[T]) served(sub string) bool {
	if !r.t.HasSubresource(sub) {
		return false
	}
	switch sub {
	case "status":
		return true
	case "scale":
		return r.t.Scale != nil
	case "binding", "eviction":
		_, ok := any(r).(*resource[*corev1.Pod])
		return ok
	}
	return false
}

func (r *resource[T]) loaded() <-chan struct{} { return r.cache.loadedC }

func (r *resource[T]) synced() bool {
	r.cache.mu.Lock()
	defer r.cache.mu.Unlock()
	return r.cache.loaded
}

// wire rewrites a store error about an object the way Kubernetes words it.
func (r *resource[T]) wire(err error, namespace, name string) error {
	if err == nil {
		return nil
	}
	return wireError(err, r.t.GroupResource(), r.t.Group, r.t.Kind, namespace, name)
}

// serve handles one request for the resource.
func (r *resource[T]) serve(w http.ResponseWriter, req *http.Request, ri *requestInfo, neg negotiation) error {
	if ri.namespaced && !r.t.Namespaced {
		return errNotFoundPath()
	}
	if !ri.namespaced && r.t.Namespaced && ri.name != "" {
		return errNotFoundPath() // namespaced objects are addressed in their namespace
	}
	if !ri.namespaced && r.t.Namespaced && (ri.verb == "create" || ri.verb == "deletecollection") {
		return errMethodNotAllowed(req.Method)
	}
	if ri.namespace != "" {
		if err := checkNamespace(ri.namespace); err != nil {
			return err
		}
	}
	switch ri.subresource {
	case "":
	case "status":
		if !r.served("status") {
			return errNotFoundPath()
		}
		switch ri.verb {
		case "get", "update", "patch":
		default:
			return errMethodNotAllowed(req.Method)
		}
	case "scale":
		if !r.served("scale") {
			return errNotFoundPath()
		}
		return r.serveScale(req.Context(), w, req, ri)
	case "binding", "eviction":
		pods, ok := any(r).(*resource[*corev1.Pod])
		if !ok || !r.served(ri.subresource) {
			return errNotFoundPath()
		}
		if ri.verb != "create" {
			return errMethodNotAllowed(req.Method)
		}
		if ri.subresource == "binding" {
			return serveBinding(req.Context(), pods, w, req, ri)
		}
		return serveEviction(req.Context(), pods, w, req, ri)
	default:
		return errNotFoundPath()
	}
	ctx := req.Context()
	switch ri.verb {
	case "get":
		return r.get(ctx, w, req, ri, neg)
	case "list":
		return r.list(ctx, w, req, ri, neg)
	case "watch":
		return r.watch(ctx, w, req, ri, neg)
	case "create":
		return r.create(ctx, w, req, ri, neg)
	case "update":
		return r.update(ctx, w, req, ri, neg)
	case "patch":
		return r.patch(ctx, w, req, ri, neg)
	case "delete":
		return r.delete(ctx, w, req, ri, neg)
	case "deletecollection":
		return r.deleteCollection(ctx, w, req, ri)
	}
	return errMethodNotAllowed(req.Method)
}

// namespaceState reports whether the named object exists and whether it
// is being deleted, for the namespaces resource: from the watch cache, or,
// for one the cache has not seen yet, from the KV.
func (r *resource[T]) namespaceState(ctx context.Context, name string) (exists, terminating bool, err error) {
	o, ok := r.cache.get("", name)
	if !ok {
		o, err = r.st.Get(ctx, "", name)
		if errors.Is(err, meta.ErrNotFound) {
			return false, false, nil
		}
		if err != nil {
			return false, false, err
		}
	}
	return true, o.GetObjectMeta().DeletionTimestamp != nil, nil
}

// namespaceStater is the namespaces resource, whatever its Go type.
type namespaceStater interface {
	namespaceState(ctx context.Context, name string) (exists, terminating bool, err error)
}

// admitNamespace is NamespaceLifecycle admission for a create in ns (see
// Config.CheckNamespaces).
func (s *Server) admitNamespace(ctx context.Context, namespaced bool, ns string) error {
	if !s.cfg.CheckNamespaces || !namespaced {
		return nil
	}
	nss, ok := s.lookup("", "v1", "namespaces").(namespaceStater)
	if !ok {
		return nil
	}
	exists, terminating, err := nss.namespaceState(ctx, ns)
	switch {
	case err != nil:
		return err
	case !exists:
		return &meta.StatusError{Reason: meta.ReasonNotFound, Resource: "namespaces", Name: ns,
			Message: fmt.Sprintf("namespaces %q not found", ns)}
	case terminating:
		return &meta.StatusError{Reason: meta.ReasonForbidden, Resource: "namespaces", Name: ns,
			Message: fmt.Sprintf("unable to create new content in namespace %s because it is being terminated", ns)}
	}
	return nil
}

// checkNamespace checks a namespace from the path as a DNS label.
func checkNamespace(ns string) error {
	if len(ns) > 63 {
		return meta.NewBadRequest(fmt.Sprintf("invalid namespace %q: must be no more than 63 characters", ns))
	}
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0 && i < len(ns)-1
		if !ok {
			return meta.NewBadRequest(fmt.Sprintf("invalid namespace %q: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", ns))
		}
	}
	return nil
}

func (r *resource[T]) get(ctx context.Context, w http.ResponseWriter, req *http.Request, ri *requestInfo, neg negotiation) error {
	rv := req.URL.Query().Get("resourceVersion")
	var obj T
	if rv == "" {
		o, err := r.st.Get(ctx, ri.namespace, ri.name)
		if err != nil {
			return r.wire(err, ri.namespace, ri.name)
		}
		obj = o
	} else {
		n, err := meta.ParseResourceVersion(rv)
		if err != nil {
			return err
		}
		if err := r.cache.waitFor(ctx, n); err != nil {
			return err
		}
		o, ok := r.cache.get(ri.namespace, ri.name)
		if !ok {
			return r.wire(meta.NewNotFound(r.t.GroupResource(), ri.name), ri.namespace, ri.name)
		}
		obj = o
	}
	r.writeObject(w, http.StatusOK, obj, neg, req)
	return nil
}

// writeObject answers one object in the negotiated form.
func (r *resource[T]) writeObject(w http.ResponseWriter, code int, obj T, neg negotiation, req *http.Request) {
	switch neg.out {
	case outTable:
		writeJSON(w, code, r.table([]T{obj}, obj.GetObjectMeta().ResourceVersion, "", neg, req))
	case outMetadata:
		writeJSON(w, code, partialMetadata(obj))
	default:
		writeJSON(w, code, obj)
	}
}

// listBody is a list as Kubernetes encodes it (PodList, ...).
type listBody[T any] struct {
	Kind       string   `json:"kind"`
	APIVersion string   `json:"apiVersion"`
	Metadata   listMeta `json:"metadata"`
	Items      []T      `json:"items"`
}

type listMeta struct {
	ResourceVersion    string `json:"resourceVersion,omitempty"`
	Continue           string `json:"continue,omitempty"`
	RemainingItemCount *int64 `json:"remainingItemCount,omitempty"`
}

func (r *resource[T]) list(ctx context.Context, w http.ResponseWriter, req *http.Request, ri *requestInfo, neg negotiation) error {
	p, err := parseListParams(req.URL.Query(), ri.namespace, false)
	if err != nil {
		return err
	}
	match, err := r.matcher(p.opts)
	if err != nil {
		return err
	}
	items, rv, cont, err := r.readList(ctx, p, match)
	if err != nil {
		return err
	}
	switch neg.out {
	case outTable:
		writeJSON(w, http.StatusOK, r.table(items, rv, cont, neg, req))
	case outMetadata:
		l := listBody[partialObjectMetadata]{Kind: "PartialObjectMetadataList", APIVersion: "meta.k8s.io/v1",
			Metadata: listMeta{ResourceVersion: rv, Continue: cont}, Items: make([]partialObjectMetadata, len(items))}
		for i, o := range items {
			l.Items[i] = partialMetadata(o)
		}
		writeJSON(w, http.StatusOK, l)
	default:
		if items == nil {
			items = []T{}
		}
		writeJSON(w, http.StatusOK, listBody[T]{Kind: r.t.ListKind(), APIVersion: r.t.APIVersion(),
			Metadata: listMeta{ResourceVersion: rv, Continue: cont}, Items: items})
	}
	return nil
}

// readList reads a list from the watch cache or the store, as
// kube-apiserver decides (see the package doc).
func (r *resource[T]) readList(ctx context.Context, p *listParams, match func(T) bool) ([]T, string, string, error) {
	rv := p.opts.ResourceVersion
	fromStore := p.opts.Continue != "" || p.match == matchExact ||
		p.opts.Limit > 0 && rv != "0" && !(rv != "" && p.match == matchNotOlderThan)
	if !fromStore {
		var err error
		switch rv {
		case "0":
			err = r.cache.waitFor(ctx, 0)
		case "":
			if err = r.cache.waitFresh(ctx); err != nil && meta.ReasonOf(err) == meta.ReasonTimeout && ctx.Err() == nil {
				fromStore = true // the cache is behind: read the KV
				err = nil
			}
		default:
			n, _ := meta.ParseResourceVersion(rv)
			err = r.cache.waitFor(ctx, n)
		}
		if err != nil {
			return nil, "", "", err
		}
		if !fromStore {
			items, rev := r.cache.list(match)
			return items, meta.FormatResourceVersion(rev), "", nil
		}
	}
	opts := p.opts
	if p.match != matchExact && opts.Continue == "" && rv != "" && rv != "0" {
		// Legacy "N" with a limit: Kubernetes reads exactly at N.
		opts.ResourceVersion = rv
	} else if p.match != matchExact {
		opts.ResourceVersion = "" // consistent, or the continue token's revision
	}
	l, err := r.st.List(ctx, opts)
	if err != nil {
		return nil, "", "", r.wire(err, p.opts.Namespace, "")
	}
	return l.Items, l.ResourceVersion, l.Continue, nil
}

// matcher returns the filter of a list or watch: namespace, label and
// field selectors, with the fields the Type registers.
func (r *resource[T]) matcher(opts meta.ListOptions) (func(T) bool, error) {
	// A selector that does not parse is a bad parameter: 400, as
	// kube-apiserver answers.
	ls, err := meta.ParseLabelSelector(opts.LabelSelector)
	if err != nil {
		return nil, asBadRequest(err)
	}
	fs, err := meta.ParseFieldSelector(opts.FieldSelector)
	if err != nil {
		return nil, asBadRequest(err)
	}
	var unknown []string
	fs.Matches(func(field string) (string, bool) {
		if field != "metadata.name" && field != "metadata.namespace" {
			if _, ok := r.t.Fields[field]; !ok {
				unknown = append(unknown, field)
			}
		}
		return "", true
	})
	if len(unknown) > 0 {
		msg := fmt.Sprintf("field label not supported: %s", unknown[0])
		return nil, &meta.StatusError{Reason: meta.ReasonBadRequest, Message: msg}
	}
	ns := opts.Namespace
	return func(obj T) bool {
		m := obj.GetObjectMeta()
		if ns != "" && m.Namespace != ns {
			return false
		}
		if !ls.Matches(m.Labels) {
			return false
		}
		if fs.Empty() {
			return true
		}
		return fs.Matches(func(field string) (string, bool) {
			switch field {
			case "metadata.name":
				return m.Name, true
			case "metadata.namespace":
				return m.Namespace, true
			}
			if f, ok := r.t.Fields[field]; ok {
				return f(obj), true
			}
			return "", false
		})
	}, nil
}

func asBadRequest(err error) error {
	var se *meta.StatusError
	if errors.As(err, &se) {
		out := *se
		out.Reason = meta.ReasonBadRequest
		return &out
	}
	return meta.NewBadRequest(err.Error())
}

// decode reads an object of the resource's kind from a request body. A
// body that is not JSON, or of another kind, is a 400; with
// fieldValidation=Strict, so is an unknown field.
func (r *resource[T]) decode(body []byte, req *http.Request) (T, error) {
	var zero T
	if len(bytes.TrimSpace(body)) == 0 {
		return zero, meta.NewBadRequest("the request body is empty")
	}
	cannot := func(err error) error {
		return meta.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", r.t.Kind, r.t.Version, r.t.Kind, err))
	}
	var tm meta.TypeMeta
	if err := json.Unmarshal(body, &tm); err != nil {
		return zero, cannot(err)
	}
	if tm.Kind != "" && tm.Kind != r.t.Kind || tm.APIVersion != "" && tm.APIVersion != r.t.APIVersion() {
		return zero, meta.NewBadRequest(fmt.Sprintf("the object has kind %q and apiVersion %q, but this endpoint serves %s %s",
			tm.Kind, tm.APIVersion, r.t.APIVersion(), r.t.Kind))
	}
	obj := r.t.New()
	dec := json.NewDecoder(bytes.NewReader(body))
	if req.URL.Query().Get("fieldValidation") == "Strict" {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(obj); err != nil {
		if req.URL.Query().Get("fieldValidation") == "Strict" {
			return zero, meta.NewBadRequest("strict decoding error: " + err.Error())
		}
		return zero, cannot(err)
	}
	if dec.More() {
		return zero, cannot(errors.New("more than one JSON value"))
	}
	obj.GetTypeMeta().Kind, obj.GetTypeMeta().APIVersion = r.t.Kind, r.t.APIVersion()
	return obj, nil
}

// placeNamespace puts the path's namespace into a namespaced object from a
// body, and refuses a body that names another.
func (r *resource[T]) placeNamespace(m *meta.ObjectMeta, ri *requestInfo) error {
	if !r.t.Namespaced {
		m.Namespace = ""
		return nil
	}
	if m.Namespace == "" {
		m.Namespace = ri.namespace
	} else if m.Namespace != ri.namespace {
		return meta.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	return nil
}

func (r *resource[T]) create(ctx context.Context, w http.ResponseWriter, req *http.Request, ri *requestInfo, neg negotiation) error {
	if err := checkBodyType(req); err != nil {
		return err
	}
	dry, err := dryRun(req.URL.Query())
	if err != nil {
		return err
	}
	body, err := readBody(w, req, r.s.cfg.MaxRequestBodyBytes)
	if err != nil {
		return err
	}
	obj, err := r.decode(body, req)
	if err != nil {
		return err
	}
	m := obj.GetObjectMeta()
	if err := r.placeNamespace(m, ri); err != nil {
		return err
	}
	if err := r.s.admitNamespace(ctx, r.t.Namespaced, m.Namespace); err != nil {
		return err
	}
	if r.t.Default != nil {
		r.t.Default(obj)
	}
	var out T
	if dry {
		out, err = r.dryRunCreate(ctx, obj)
	} else {
		out, err = r.st.Create(ctx, obj)
	}
	if err != nil {
		return r.wire(err, m.Namespace, m.Name)
	}
	r.writeObject(w, http.StatusCreated, out, neg, req)
	return nil
}

// dryRunCreate runs a create through every check without storing it: the
// object is created in a scratch store, after a check that the name is
// free in the real one.
func (r *resource[T]) dryRunCreate(ctx context.Context, obj T) (T, error) {
	var zero T
	m := obj.GetObjectMeta()
	if m.Name != "" && m.ResourceVersion == "" {
		if _, err := r.st.Get(ctx, m.Namespace, m.Name); err == nil {
			return zero, meta.NewAlreadyExists(r.t.GroupResource(), m.Name)
		} else if !errors.Is(err, meta.ErrNotFound) {
			return zero, err
		}
	}
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	out, err := store.New(engine, r.t.StoreResource()).Create(ctx, obj)
	if err != nil {
		return zero, err
	}
	out.GetObjectMeta().ResourceVersion = ""
	return out, nil
}

func (r *resource[T]) update(ctx context.Context, w http.ResponseWriter, req *http.Request, ri *requestInfo, neg negotiation) error {
	if err := checkBodyType(req); err != nil {
		return err
	}
	dry, err := dryRun(req.URL.Query())
	if err != nil {
		return err
	}
	body, err := readBody(w, req, r.s.cfg.MaxRequestBodyBytes)
	if err != nil {
		return err
	}
	obj, err := r.decode(body, req)
	if err != nil {
		return err
	}
	m := obj.GetObjectMeta()
	if m.Name != ri.name {
		return meta.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.Name, ri.name))
	}
	if err := r.placeNamespace(m, ri); err != nil {
		return err
	}
	if r.t.Default != nil {
		r.t.Default(obj)
	}
	status := ri.subresource == "status"
	var out T
	switch {
	case dry:
		out, err = r.dryRunUpdate(ctx, obj, status)
	case status:
		out, err = r.st.UpdateStatus(ctx, obj)
	default:
		out, err = r.st.Update(ctx, obj)
	}
	if err != nil {
		return r.wire(err, ri.namespace, ri.name)
	}
	r.writeObject(w, http.StatusOK, out, neg, req)
	return nil
}

// dryRunUpdate runs an update through every check without storing it:
// the stored object is copied into a scratch store, where the update
// runs. The result carries the stored resourceVersion, which a real
// update would have replaced.
func (r *resource[T]) dryRunUpdate(ctx context.Context, obj T, status bool) (T, error) {
	var zero T
	m := obj.GetObjectMeta()
	cur, err := r.st.Get(ctx, m.Namespace, m.Name)
	if err != nil {
		return zero, err
	}
	rv := cur.GetObjectMeta().ResourceVersion
	if m.ResourceVersion != "" && m.ResourceVersion != rv {
		return zero, meta.NewConflict(r.t.GroupResource(), m.Name,
			"the object has been modified; please apply your changes to the latest version and try again")
	}
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	scratch := store.New(engine, r.t.StoreResource())
	stored := meta.DeepCopy(cur)
	stored.GetObjectMeta().ResourceVersion = ""
	data, err := r.t.StoreResource().Encode(stored)
	if err != nil {
		return zero, err
	}
	srev, err := kv.Put(ctx, engine, scratch.Key(m.Namespace, m.Name), data)
	if err != nil {
		return zero, meta.NewInternalError(err)
	}
	in := meta.DeepCopy(obj)
	if in.GetObjectMeta().ResourceVersion != "" {
		in.GetObjectMeta().ResourceVersion = meta.FormatResourceVersion(srev)
	}
	var out T
	if status {
		out, err = scratch.UpdateStatus(ctx, in)
	} else {
		out, err = scratch.Update(ctx, in)
	}
	if err != nil {
		return zero, err
	}
	out.GetObjectMeta().ResourceVersion = rv
	return out, nil
}

func (r *resource[T]) patch(ctx context.Context, w http.ResponseWriter, req *http.Request, ri *requestInfo, neg negotiation) error {
	dry, err := dryRun(req.URL.Query())
	if err != nil {
		return err
	}
	apply, err := r.patchFunc(w, req, func(doc []byte, patch map[string]any) ([]byte, error) {
		return strategicMergePatch[T](doc, patch)
	})
	if err != nil {
		return err
	}
	mutate := func(cur T) (T, error) { return r.patchObject(cur, apply) }
	var out T
	if dry {
		// The patch applies to the object as stored now; the update it
		// makes runs in a scratch store.
		cur, gerr := r.st.Get(ctx, ri.namespace, ri.name)
		if gerr != nil {
			return r.wire(gerr, ri.namespace, ri.name)
		}
		n, perr := r.patchObject(cur, apply)
		if perr != nil {
			return r.wire(perr, ri.namespace, ri.name)
		}
		n.GetObjectMeta().ResourceVersion = cur.GetObjectMeta().ResourceVersion
		out, err = r.dryRunUpdate(ctx, n, ri.subresource == "status")
	} else if ri.subresource == "status" {
		out, err = r.st.GuaranteedUpdateStatus(ctx, ri.namespace, ri.name, mutate)
	} else {
		out, err = r.st.GuaranteedUpdate(ctx, ri.namespace, ri.name, mutate)
	}
	if err != nil {
		return r.wire(err, ri.namespace, ri.name)
	}
	r.writeObject(w, http.StatusOK, out, neg, req)
	return nil
}

// patchFunc reads a patch request's body and returns the function that
// applies it to a JSON document, by the request's Content-Type: JSON merge
// patch, JSON patch, or strategic merge patch through smp. Server-side
// apply and other types get 415.
func (r *resource[T]) patchFunc(w http.ResponseWriter, req *http.Request, smp func(doc []byte, patch map[string]any) ([]byte, error)) (func([]byte) ([]byte, error), error) {
	ct := contentType(req)
	switch ct {
	case mediaMergePatch, mediaJSONPatch, mediaStrategicPatch:
	case mediaApplyPatch:
		return nil, newHTTPError(http.StatusUnsupportedMediaType, reasonUnsupportedMediaType,
			"server-side apply (application/apply-patch+yaml) is not supported by this server: use client-side apply (kubectl apply --server-side=false) or another patch type")
	default:
		return nil, errUnsupportedMedia(ct, mediaJSONPatch, mediaMergePatch, mediaStrategicPatch)
	}
	body, err := readBody(w, req, r.s.cfg.MaxRequestBodyBytes)
	if err != nil {
		return nil, err
	}
	switch ct {
	case mediaMergePatch:
		if _, err := decodeValue(body); err != nil {
			return nil, meta.NewBadRequest("the merge patch is not JSON: " + err.Error())
		}
		return func(doc []byte) ([]byte, error) { return store.MergePatch(doc, body) }, nil
	case mediaJSONPatch:
		ops, err := parseJSONPatch(body)
		if err != nil {
			return nil, err
		}
		return func(doc []byte) ([]byte, error) { return applyJSONPatch(doc, ops) }, nil
	}
	patch, err := parseStrategicPatch(body)
	if err != nil {
		return nil, err
	}
	return func(doc []byte) ([]byte, error) { return smp(doc, patch) }, nil
}

// patchObject applies a patch function to cur's JSON and decodes the
// result. A patched resourceVersion that differs from cur's is a
// precondition that fails with Conflict; a changed name or namespace is
// Invalid.
func (r *resource[T]) patchObject(cur T, apply func([]byte) ([]byte, error)) (T, error) {
	var zero T
	doc, err := json.Marshal(cur)
	if err != nil {
		return zero, meta.NewInternalError(err)
	}
	patched, err := apply(doc)
	if err != nil {
		return zero, err
	}
	n := r.t.New()
	if err := json.Unmarshal(patched, n); err != nil {
		return zero, meta.NewInvalid(r.t.GroupResource(), cur.GetObjectMeta().Name,
			meta.Cause{Type: meta.CauseTypeFieldValueInvalid, Message: "the patched object does not decode: " + err.Error()})
	}
	if r.t.Default != nil {
		r.t.Default(n)
	}
	nm, om := n.GetObjectMeta(), cur.GetObjectMeta()
	if nm.Name != om.Name || nm.Namespace != om.Namespace {
		return zero, meta.NewInvalid(r.t.GroupResource(), om.Name,
			meta.Cause{Field: "metadata.name", Type: meta.CauseTypeFieldValueInvalid, Message: "a patch may not change the name or namespace"})
	}
	if nm.ResourceVersion != "" && nm.ResourceVersion != om.ResourceVersion {
		return zero, meta.NewConflict(r.t.GroupResource(), om.Name,
			"the object has been modified; please apply your changes to the latest version and try again")
	}
	return n, nil
}

// deleteOptions is the body of a delete (meta/v1 DeleteOptions).
type deleteOptions struct {
	Kind               string              `json:"kind,omitempty"`
	APIVersion         string              `json:"apiVersion,omitempty"`
	GracePeriodSeconds *int64              `json:"gracePeriodSeconds,omitempty"`
	Preconditions      *meta.Preconditions `json:"preconditions,omitempty"`
	OrphanDependents   *bool               `json:"orphanDependents,omitempty"`
	PropagationPolicy  *string             `json:"propagationPolicy,omitempty"`
	DryRun             []string            `json:"dryRun,omitempty"`
}

// readDeleteOptions reads DeleteOptions from the body and the query.
func (r *resource[T]) readDeleteOptions(w http.ResponseWriter, req *http.Request) (*deleteOptions, error) {
	opts := &deleteOptions{}
	if req.ContentLength != 0 && req.Body != nil {
		if err := checkBodyType(req); err != nil {
			return nil, err
		}
		body, err := readBody(w, req, r.s.cfg.MaxRequestBodyBytes)
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, opts); err != nil {
				return nil, meta.NewBadRequest("the body is not a DeleteOptions: " + err.Error())
			}
			if opts.Kind != "" && opts.Kind != "DeleteOptions" {
				return nil, meta.NewBadRequest(fmt.Sprintf("the body has kind %q, not DeleteOptions", opts.Kind))
			}
		}
	}
	q := req.URL.Query()
	if v := q.Get("gracePeriodSeconds"); v != "" {
		var n int64
		if _, err := fmt.Sscan(v, &n); err != nil {
			return nil, meta.NewBadRequest(fmt.Sprintf("invalid gracePeriodSeconds %q", v))
		}
		opts.GracePeriodSeconds = &n
	}
	if v := q.Get("propagationPolicy"); v != "" {
		opts.PropagationPolicy = &v
	}
	if vals, ok := q["dryRun"]; ok {
		opts.DryRun = append(opts.DryRun, vals...)
	}
	var causes []meta.Cause
	if g := opts.GracePeriodSeconds; g != nil && *g < 0 {
		causes = append(causes, meta.Cause{Field: "gracePeriodSeconds", Type: meta.CauseTypeFieldValueInvalid, Message: "must be greater than or equal to 0"})
	}
	if p := opts.PropagationPolicy; p != nil {
		switch *p {
		case "Orphan", "Background", "Foreground":
		default:
			causes = append(causes, meta.Cause{Field: "propagationPolicy", Type: meta.CauseTypeFieldValueNotSupported,
				Message: fmt.Sprintf("Unsupported value: %q: supported values: \"Foreground\", \"Background\", \"Orphan\"", *p)})
		}
		if opts.OrphanDependents != nil {
			causes = append(causes, meta.Cause{Field: "propagationPolicy", Type: meta.CauseTypeFieldValueInvalid,
				Message: "orphanDependents and propagationPolicy cannot both be set"})
		}
	}
	for _, d := range opts.DryRun {
		if d != "All" {
			causes = append(causes, meta.Cause{Field: "dryRun", Type: meta.CauseTypeFieldValueNotSupported, Message: fmt.Sprintf("Unsupported value: %q: supported values: \"All\"", d)})
		}
	}
	if len(causes) > 0 {
		return nil, meta.NewInvalid("DeleteOptions", "", causes...)
	}
	return opts, nil
}

// propagation returns the store's policy for opts: the policy named, or
// Orphan for the legacy orphanDependents=true.
func (o *deleteOptions) propagation() meta.DeletionPropagation {
	switch {
	case o.PropagationPolicy != nil:
		return meta.DeletionPropagation(*o.PropagationPolicy)
	case o.OrphanDependents != nil && *o.OrphanDependents:
		return meta.DeletePropagationOrphan
	}
	return ""
}

func (r *resource[T]) delete(ctx context.Context, w http.ResponseWriter, req *http.Request, ri *requestInfo, neg negotiation) error {
	if ri.subresource != "" {
		return errMethodNotAllowed(req.Method)
	}
	opts, err := r.readDeleteOptions(w, req)
	if err != nil {
		return err
	}
	out, err := r.deleteOne(ctx, ri.namespace, ri.name, opts)
	if err != nil {
		return r.wire(err, ri.namespace, ri.name)
	}
	r.writeObject(w, http.StatusOK, out, neg, req)
	return nil
}

// deleteOne deletes one object under opts: preconditions, propagation
// (the store records Foreground and Orphan as finalizers for the garbage
// collector), and dry run.
func (r *resource[T]) deleteOne(ctx context.Context, namespace, name string, opts *deleteOptions) (T, error) {
	var zero T
	if len(opts.DryRun) > 0 {
		obj, err := r.st.Get(ctx, namespace, name)
		if err != nil {
			return zero, err
		}
		m := obj.GetObjectMeta()
		if p := opts.Preconditions; p != nil {
			if p.UID != nil && *p.UID != m.UID || p.ResourceVersion != nil && *p.ResourceVersion != m.ResourceVersion {
				return zero, meta.NewConflict(r.t.GroupResource(), name, "precondition failed: the uid or resourceVersion in the precondition does not match the stored object")
			}
		}
		return obj, nil
	}
	return r.st.Delete(ctx, namespace, name, meta.DeleteOptions{Preconditions: opts.Preconditions, PropagationPolicy: opts.propagation()})
}

func (r *resource[T]) deleteCollection(ctx context.Context, w http.ResponseWriter, req *http.Request, ri *requestInfo) error {
	opts, err := r.readDeleteOptions(w, req)
	if err != nil {
		return err
	}
	p, err := parseListParams(req.URL.Query(), ri.namespace, false)
	if err != nil {
		return err
	}
	if _, err := r.matcher(p.opts); err != nil {
		return err
	}
	l, err := r.st.List(ctx, meta.ListOptions{Namespace: ri.namespace, LabelSelector: p.opts.LabelSelector, FieldSelector: p.opts.FieldSelector})
	if err != nil {
		return r.wire(err, ri.namespace, "")
	}
	deleted := []T{}
	for _, o := range l.Items {
		m := o.GetObjectMeta()
		out, err := r.deleteOne(ctx, m.Namespace, m.Name, opts)
		if errors.Is(err, meta.ErrNotFound) {
			continue
		}
		if err != nil {
			return r.wire(err, m.Namespace, m.Name)
		}
		deleted = append(deleted, out)
	}
	writeJSON(w, http.StatusOK, listBody[T]{Kind: r.t.ListKind(), APIVersion: r.t.APIVersion(),
		Metadata: listMeta{ResourceVersion: l.ResourceVersion}, Items: deleted})
	return nil
}
