package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	randv2 "math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
)

// Store keeps the objects of one [Resource] in a [kv.KV]. Its methods
// follow the Kubernetes API server's storage rules (see the package doc);
// every object they return is fresh, owned by the caller, and never the
// object the caller passed in. A Store is safe for concurrent use.
type Store[T meta.Object] struct {
	kv     kv.KV
	res    Resource[T]
	codec  Codec[T]
	shape  shape
	prefix string // "<prefix>/<resource>/"
	opts   Options
}

// Options configure a [Store]. The zero value gives the defaults.
type Options struct {
	// Clock stamps creationTimestamp and deletionTimestamp and paces
	// bookmarks. Nil means [clock.Real].
	Clock clock.Clock
	// BookmarkInterval is how often a Watch that allows bookmarks asks the
	// KV for a progress notification, which becomes a BOOKMARK event. Zero
	// means one minute, as in Kubernetes; a negative value leaves bookmarks
	// to the engine's own idle progress notifications.
	BookmarkInterval time.Duration
	// Logger receives events that reach no caller, such as a watch resumed
	// after its engine watch lagged. Nil discards them.
	Logger *slog.Logger
}

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.BookmarkInterval == 0 {
		o.BookmarkInterval = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// DefaultPrefix is the first key segment of a [Resource] with no Prefix.
const DefaultPrefix = "/registry"

// New returns a Store of the objects that r describes, kept in kv, with
// the default [Options].
func New[T meta.Object](kv kv.KV, r Resource[T]) *Store[T] {
	return NewWithOptions(kv, r, Options{})
}

// NewWithOptions returns a Store of the objects that r describes, kept in
// kv, configured by opts.
func NewWithOptions[T meta.Object](kv kv.KV, r Resource[T], opts Options) *Store[T] {
	prefix := r.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Store[T]{
		kv:     kv,
		res:    r,
		codec:  r.codec(),
		shape:  shapeOf[T](),
		prefix: strings.TrimSuffix(prefix, "/") + "/" + r.Name + "/",
		opts:   opts.withDefaults(),
	}
}

// Resource returns the descriptor the Store was made with.
func (s *Store[T]) Resource() Resource[T] { return s.res }

// Key returns the KV key of the named object.
func (s *Store[T]) Key(namespace, name string) string {
	if s.res.Namespaced {
		return s.prefix + namespace + "/" + name
	}
	return s.prefix + name
}

func (s *Store[T]) display(namespace, name string) string {
	if s.res.Namespaced && namespace != "" {
		return namespace + "/" + name
	}
	return name
}

// checkName checks the namespace and name that address an object.
func (s *Store[T]) checkName(namespace, name string) error {
	if s.res.Namespaced {
		if namespace == "" {
			return meta.NewBadRequest(fmt.Sprintf("%s is namespaced: a namespace is required", s.res.Name))
		}
		if msg := meta.CheckDNSLabel(namespace); msg != "" {
			return &meta.StatusError{Reason: meta.ReasonBadRequest, Resource: s.res.Name, Name: name,
				Message: fmt.Sprintf("invalid namespace %q: %s", namespace, msg)}
		}
	} else if namespace != "" {
		return meta.NewBadRequest(fmt.Sprintf("%s is cluster-scoped: namespace must be empty, not %q", s.res.Name, namespace))
	}
	if msg := checkPathSegment(name); msg != "" {
		return &meta.StatusError{Reason: meta.ReasonBadRequest, Resource: s.res.Name, Name: name,
			Message: fmt.Sprintf("invalid name %q: %s", name, msg)}
	}
	return nil
}

// checkPathSegment checks that a name can be one key segment, as
// Kubernetes' path-segment rule does.
func checkPathSegment(name string) string {
	switch {
	case name == "":
		return "must be non-empty"
	case name == "." || name == "..":
		return "may not be '.' or '..'"
	case len(name) > 253:
		return "must be no more than 253 characters"
	case strings.ContainsAny(name, "/%"):
		return "may not contain '/' or '%'"
	}
	for i := 0; i < len(name); i++ {
		if name[i] < 0x20 || name[i] == 0x7f {
			return "may not contain control characters"
		}
	}
	return ""
}

func (s *Store[T]) now() *meta.Time {
	t := meta.NewTime(s.opts.Clock.Now())
	return &t
}

// decode turns a stored key into a fresh object carrying its
// resourceVersion.
func (s *Store[T]) decode(item *kv.KeyValue) (T, error) {
	obj, err := s.res.Decode(item.Value)
	if err != nil {
		var zero T
		return zero, &meta.StatusError{Reason: meta.ReasonInternalError, Resource: s.res.Name, Err: err,
			Message: fmt.Sprintf("stored object %s is corrupt: %v", item.Key, err)}
	}
	obj.GetObjectMeta().ResourceVersion = meta.FormatResourceVersion(item.ModRevision)
	return obj, nil
}

// encode returns the bytes to store for obj: it is encoded without its
// resourceVersion, which the KV's ModRevision stands for.
func (s *Store[T]) encode(obj T) ([]byte, error) {
	m := obj.GetObjectMeta()
	rv := m.ResourceVersion
	m.ResourceVersion = ""
	data, err := s.res.Encode(obj)
	m.ResourceVersion = rv
	return data, err
}

func (s *Store[T]) kvErr(err error, namespace, name string) error {
	return FromKVError(err, s.res.Name, s.display(namespace, name))
}

func (s *Store[T]) invalid(namespace, name string, causes []meta.Cause) error {
	return meta.NewInvalid(s.res.Name, s.display(namespace, name), causes...)
}

// validate runs the metadata checks and the Resource's hooks.
func (s *Store[T]) validate(old, obj T, isUpdate bool) []meta.Cause {
	causes := validateMeta(obj.GetObjectMeta())
	if s.res.Validate != nil {
		causes = append(causes, s.res.Validate(obj)...)
	}
	if isUpdate && s.res.ValidateUpdate != nil {
		causes = append(causes, s.res.ValidateUpdate(old, obj)...)
	}
	return causes
}

// validateMeta checks labels, annotations, finalizers and owner references
// as Kubernetes does.
func validateMeta(m *meta.ObjectMeta) []meta.Cause {
	var causes []meta.Cause
	bad := func(field, msg string) {
		causes = append(causes, meta.Cause{Field: field, Message: msg, Type: meta.CauseTypeFieldValueInvalid})
	}
	for _, k := range sortedKeys(m.Labels) {
		if msg := meta.CheckLabelKey(k); msg != "" {
			bad("metadata.labels", fmt.Sprintf("invalid label key %q: %s", k, msg))
		}
		if msg := meta.CheckLabelValue(m.Labels[k]); msg != "" {
			bad("metadata.labels", fmt.Sprintf("invalid value %q of label %q: %s", m.Labels[k], k, msg))
		}
	}
	size := 0
	for _, k := range sortedKeys(m.Annotations) {
		size += len(k) + len(m.Annotations[k])
		if msg := meta.CheckLabelKey(k); msg != "" {
			bad("metadata.annotations", fmt.Sprintf("invalid annotation key %q: %s", k, msg))
		}
	}
	if size > 256*1024 {
		causes = append(causes, meta.Cause{Field: "metadata.annotations", Type: meta.CauseTypeFieldValueTooLong,
			Message: "annotations may not total more than 256 KiB"})
	}
	for i, f := range m.Finalizers {
		if msg := meta.CheckLabelKey(f); msg != "" {
			bad(fmt.Sprintf("metadata.finalizers[%d]", i), fmt.Sprintf("invalid finalizer %q: %s", f, msg))
		}
	}
	if slices.Contains(m.Finalizers, meta.FinalizerOrphanDependents) && slices.Contains(m.Finalizers, meta.FinalizerDeleteDependents) {
		bad("metadata.finalizers", fmt.Sprintf("finalizers %q and %q cannot be both set", meta.FinalizerOrphanDependents, meta.FinalizerDeleteDependents))
	}
	controllers := 0
	for i, r := range m.OwnerReferences {
		field := fmt.Sprintf("metadata.ownerReferences[%d]", i)
		for _, f := range []struct{ name, v string }{{"apiVersion", r.APIVersion}, {"kind", r.Kind}, {"name", r.Name}, {"uid", r.UID}} {
			if f.v == "" {
				causes = append(causes, meta.Cause{Field: field + "." + f.name, Message: "must be set", Type: meta.CauseTypeFieldValueRequired})
			}
		}
		if r.Controller != nil && *r.Controller {
			controllers++
		}
	}
	if controllers > 1 {
		bad("metadata.ownerReferences", "only one reference can have controller set to true")
	}
	return causes
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// newUID returns a random (version 4) UUID.
func newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// generateNameAttempts bounds the retries of a Create whose generated name
// is taken.
const generateNameAttempts = 8

func generateSuffix() string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 5)
	for i := range b {
		b[i] = alphabet[randv2.IntN(len(alphabet))]
	}
	return string(b)
}

// Create stores a new object and returns it as stored. It sets uid,
// creationTimestamp, generation 1 and resourceVersion; it makes a name from
// metadata.generateName when metadata.name is empty. The object must not
// carry a resourceVersion (BadRequest). An object whose name is taken fails
// with AlreadyExists; one that fails validation, with Invalid. obj itself
// is not modified.
func (s *Store[T]) Create(ctx context.Context, obj T) (T, error) {
	var zero T
	if isNil(obj) {
		return zero, meta.NewBadRequest(s.res.Name + ": cannot create a nil object")
	}
	o := meta.DeepCopy(obj)
	m := o.GetObjectMeta()
	if m.ResourceVersion != "" {
		return zero, meta.NewBadRequest(fmt.Sprintf("%s %q: resourceVersion should not be set on objects to be created", s.res.Name, m.Name))
	}
	if !s.res.Namespaced {
		m.Namespace = ""
	}
	generated := m.Name == "" && m.GenerateName != ""
	if m.Name == "" && !generated {
		return zero, s.invalid(m.Namespace, "", []meta.Cause{{Field: "metadata.name", Type: meta.CauseTypeFieldValueRequired,
			Message: "name or generateName is required"}})
	}
	if generated {
		if msg := checkPathSegment(m.GenerateName + "x"); msg != "" || len(m.GenerateName) > 253-5 {
			if msg == "" {
				msg = "must be no more than 248 characters"
			}
			return zero, s.invalid(m.Namespace, "", []meta.Cause{{Field: "metadata.generateName", Type: meta.CauseTypeFieldValueInvalid, Message: msg}})
		}
	}
	m.UID = newUID()
	m.CreationTimestamp = *s.now()
	m.Generation = 1
	m.DeletionTimestamp = nil
	m.DeletionGracePeriodSeconds = nil
	s.res.setTypeMeta(o)
	for attempt := 0; ; attempt++ {
		if generated {
			m.Name = m.GenerateName + generateSuffix()
		}
		if err := s.checkName(m.Namespace, m.Name); err != nil {
			return zero, err
		}
		if causes := s.validate(zero, o, false); len(causes) > 0 {
			return zero, s.invalid(m.Namespace, m.Name, causes)
		}
		data, err := s.encode(o)
		if err != nil {
			return zero, err
		}
		key := s.Key(m.Namespace, m.Name)
		resp, err := s.kv.Txn(ctx, kv.TxnRequest{
			Compare: []kv.Compare{{Key: key, Target: kv.CompareCreateRevision, Result: kv.Equal, Int: 0}},
			Success: []kv.Op{kv.OpPutKV(key, data)},
		})
		if err != nil {
			return zero, s.kvErr(err, m.Namespace, m.Name)
		}
		if !resp.Succeeded {
			if generated && attempt+1 < generateNameAttempts {
				continue
			}
			return zero, meta.NewAlreadyExists(s.res.Name, s.display(m.Namespace, m.Name))
		}
		m.ResourceVersion = meta.FormatResourceVersion(resp.Revision)
		return o, nil
	}
}

// Get returns the named object as it is now, or NotFound.
func (s *Store[T]) Get(ctx context.Context, namespace, name string) (T, error) {
	var zero T
	if err := s.checkName(namespace, name); err != nil {
		return zero, err
	}
	_, obj, err := s.read(ctx, namespace, name)
	return obj, err
}

// read returns the stored key of the named object and the object decoded
// from it, or NotFound.
func (s *Store[T]) read(ctx context.Context, namespace, name string) (*kv.KeyValue, T, error) {
	var zero T
	resp, err := s.kv.Range(ctx, kv.RangeRequest{Key: s.Key(namespace, name)})
	if err != nil {
		return nil, zero, s.kvErr(err, namespace, name)
	}
	if len(resp.KVs) == 0 {
		return nil, zero, meta.NewNotFound(s.res.Name, s.display(namespace, name))
	}
	cur := &resp.KVs[0]
	obj, err := s.decode(cur)
	if err != nil {
		return nil, zero, err
	}
	return cur, obj, nil
}

// updateMode says which parts of an incoming object an update takes.
type updateMode int

const (
	// modeMain takes everything but status and the metadata the server
	// owns (uid, creationTimestamp, deletionTimestamp, generation).
	modeMain updateMode = iota
	// modeStatus takes only status.
	modeStatus
)

// errRetry tells an update loop that the object changed between its read
// and its write.
var errRetry = &meta.StatusError{Reason: meta.ReasonConflict, Message: "retry"}

// Update replaces the stored object with obj, whose resourceVersion must be
// the stored one (Conflict otherwise). Status and the server-owned metadata
// (uid, creationTimestamp, deletionTimestamp, generation) are kept from the
// stored object: change status with [Store.UpdateStatus]. generation grows
// when anything but metadata and status changed. An update that changes
// nothing writes nothing and returns the object with its resourceVersion
// unchanged. Removing the last finalizer of an object that has a
// deletionTimestamp deletes it (the returned object carries the deleting
// revision). An empty resourceVersion is Invalid unless the Resource
// allows unconditional updates. A uid that does not match the stored one is
// a Conflict. obj itself is not modified.
func (s *Store[T]) Update(ctx context.Context, obj T) (T, error) {
	return s.updateObject(ctx, obj, modeMain)
}

// UpdateStatus replaces the status of the stored object with obj's and
// keeps everything else, under the same resourceVersion rules as
// [Store.Update]. A type without a status field gets BadRequest.
func (s *Store[T]) UpdateStatus(ctx context.Context, obj T) (T, error) {
	if !s.shape.hasStatus() {
		var zero T
		return zero, meta.NewBadRequest(s.res.Name + " has no status")
	}
	return s.updateObject(ctx, obj, modeStatus)
}

func (s *Store[T]) updateObject(ctx context.Context, obj T, mode updateMode) (T, error) {
	var zero T
	if isNil(obj) {
		return zero, meta.NewBadRequest(s.res.Name + ": cannot update a nil object")
	}
	m := obj.GetObjectMeta()
	ns := m.Namespace
	if !s.res.Namespaced {
		ns = ""
	}
	if err := s.checkName(ns, m.Name); err != nil {
		return zero, err
	}
	var want int64
	if m.ResourceVersion == "" {
		if !s.res.AllowUnconditionalUpdate {
			return zero, s.invalid(ns, m.Name, []meta.Cause{{Field: "metadata.resourceVersion", Type: meta.CauseTypeFieldValueInvalid,
				Message: "must be specified for an update"}})
		}
	} else {
		rv, err := meta.ParseResourceVersion(m.ResourceVersion)
		if err != nil {
			return zero, err
		}
		want = rv
	}
	for {
		cur, old, err := s.read(ctx, ns, m.Name)
		if err != nil {
			return zero, err
		}
		if want != 0 && cur.ModRevision != want {
			return zero, s.conflict(ns, m.Name)
		}
		out, err := s.apply(ctx, cur, old, meta.DeepCopy(obj), mode)
		if err == errRetry {
			if want != 0 {
				return zero, s.conflict(ns, m.Name)
			}
			continue
		}
		return out, err
	}
}

func (s *Store[T]) conflict(namespace, name string) error {
	return meta.NewConflict(s.res.Name, s.display(namespace, name),
		"the object has been modified; please apply your changes to the latest version and try again")
}

// apply writes the update of old (stored as cur) to n, both private
// objects, if cur is still current. It returns errRetry if it is not.
func (s *Store[T]) apply(ctx context.Context, cur *kv.KeyValue, old, n T, mode updateMode) (T, error) {
	var zero T
	om := old.GetObjectMeta()
	if mode == modeStatus {
		// Everything but status comes from the stored object; old stays
		// as it was for ValidateUpdate.
		next := meta.DeepCopy(old)
		s.shape.moveStatus(next, n)
		n = next
	} else {
		nm := n.GetObjectMeta()
		if nm.UID != "" && nm.UID != om.UID {
			return zero, meta.NewConflict(s.res.Name, s.display(om.Namespace, om.Name),
				fmt.Sprintf("precondition failed: uid in object %s does not match stored uid %s", nm.UID, om.UID))
		}
		nm.Name, nm.Namespace, nm.GenerateName = om.Name, om.Namespace, om.GenerateName
		nm.UID = om.UID
		nm.CreationTimestamp = om.CreationTimestamp
		nm.DeletionTimestamp = om.DeletionTimestamp
		nm.DeletionGracePeriodSeconds = om.DeletionGracePeriodSeconds
		if om.DeletionTimestamp != nil {
			for _, f := range nm.Finalizers {
				if !slices.Contains(om.Finalizers, f) {
					return zero, s.invalid(om.Namespace, om.Name, []meta.Cause{{Field: "metadata.finalizers",
						Type: meta.CauseTypeFieldValueForbidden, Message: fmt.Sprintf("no new finalizers can be added if the object is being deleted, found new finalizer %q", f)}})
				}
			}
		}
		s.shape.moveStatus(n, old) // status comes from the stored object
		nm.Generation = om.Generation
		if !s.shape.specEqual(old, n) {
			nm.Generation++
		}
	}
	nm := n.GetObjectMeta()
	nm.ResourceVersion = om.ResourceVersion
	s.res.setTypeMeta(n)
	if causes := s.validate(old, n, true); len(causes) > 0 {
		return zero, s.invalid(nm.Namespace, nm.Name, causes)
	}
	data, err := s.encode(n)
	if err != nil {
		return zero, err
	}
	if bytes.Equal(data, cur.Value) {
		return n, nil // nothing changed: nothing to write
	}
	compare := []kv.Compare{{Key: cur.Key, Target: kv.CompareModRevision, Result: kv.Equal, Int: cur.ModRevision}}
	op := kv.OpPutKV(cur.Key, data)
	if nm.DeletionTimestamp != nil && len(nm.Finalizers) == 0 {
		op = kv.OpDeleteKey(cur.Key)
	}
	resp, err := s.kv.Txn(ctx, kv.TxnRequest{Compare: compare, Success: []kv.Op{op}})
	if err != nil {
		return zero, s.kvErr(err, nm.Namespace, nm.Name)
	}
	if !resp.Succeeded {
		return zero, errRetry
	}
	nm.ResourceVersion = meta.FormatResourceVersion(resp.Revision)
	return n, nil
}

// GuaranteedUpdate reads the named object, passes a private copy to mutate,
// and writes what mutate returns under [Store.Update]'s rules, retrying
// with a fresh read whenever another writer got there first. It returns
// mutate's error as it is, and writes nothing when mutate returns an object
// that changes nothing. mutate may run several times; it may modify and
// return the object it is given. The resourceVersion of the returned
// object is ignored.
func (s *Store[T]) GuaranteedUpdate(ctx context.Context, namespace, name string, mutate func(T) (T, error)) (T, error) {
	return s.guaranteedUpdate(ctx, namespace, name, mutate, modeMain)
}

// GuaranteedUpdateStatus is [Store.GuaranteedUpdate] for the status: only
// the status of what mutate returns is written.
func (s *Store[T]) GuaranteedUpdateStatus(ctx context.Context, namespace, name string, mutate func(T) (T, error)) (T, error) {
	if !s.shape.hasStatus() {
		var zero T
		return zero, meta.NewBadRequest(s.res.Name + " has no status")
	}
	return s.guaranteedUpdate(ctx, namespace, name, mutate, modeStatus)
}

func (s *Store[T]) guaranteedUpdate(ctx context.Context, namespace, name string, mutate func(T) (T, error), mode updateMode) (T, error) {
	var zero T
	if err := s.checkName(namespace, name); err != nil {
		return zero, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return zero, s.kvErr(err, namespace, name)
		}
		cur, old, err := s.read(ctx, namespace, name)
		if err != nil {
			return zero, err
		}
		n, err := mutate(meta.DeepCopy(old))
		if err != nil {
			return zero, err
		}
		if isNil(n) {
			return zero, meta.NewBadRequest(s.res.Name + ": mutate returned a nil object")
		}
		out, err := s.apply(ctx, cur, old, n, mode)
		if err == errRetry {
			continue
		}
		return out, err
	}
}

// Patch applies a JSON merge patch (RFC 7386) to the named object and
// writes the result under [Store.Update]'s rules, so status changes in the
// patch are ignored (see [Store.PatchStatus]). A patch that sets
// metadata.resourceVersion makes it a precondition (Conflict if stale);
// otherwise Patch retries on concurrent writes. A patch that changes the
// name or namespace is Invalid; one that is not JSON is BadRequest. The
// patch applies to the object's encoding/json form, whatever the
// Resource's codec.
func (s *Store[T]) Patch(ctx context.Context, namespace, name string, mergePatch []byte) (T, error) {
	return s.patch(ctx, namespace, name, mergePatch, modeMain)
}

// PatchStatus is [Store.Patch] for the status: only the status of the
// patched object is written.
func (s *Store[T]) PatchStatus(ctx context.Context, namespace, name string, mergePatch []byte) (T, error) {
	if !s.shape.hasStatus() {
		var zero T
		return zero, meta.NewBadRequest(s.res.Name + " has no status")
	}
	return s.patch(ctx, namespace, name, mergePatch, modeStatus)
}

func (s *Store[T]) patch(ctx context.Context, namespace, name string, mergePatch []byte, mode updateMode) (T, error) {
	var zero T
	if err := s.checkName(namespace, name); err != nil {
		return zero, err
	}
	for {
		cur, old, err := s.read(ctx, namespace, name)
		if err != nil {
			return zero, err
		}
		doc, err := jsonMarshal(old)
		if err != nil {
			return zero, err
		}
		patched, err := MergePatch(doc, mergePatch)
		if err != nil {
			return zero, err
		}
		n := s.res.newObject()
		if err := jsonUnmarshal(patched, n); err != nil {
			return zero, decodeError(s.res.Name, err)
		}
		nm := n.GetObjectMeta()
		om := old.GetObjectMeta()
		if nm.Name != om.Name || nm.Namespace != om.Namespace {
			return zero, s.invalid(namespace, name, []meta.Cause{{Field: "metadata.name", Type: meta.CauseTypeFieldValueInvalid,
				Message: "a patch may not change the name or namespace"}})
		}
		precondition := nm.ResourceVersion != om.ResourceVersion
		if precondition {
			if _, err := meta.ParseResourceVersion(nm.ResourceVersion); err != nil {
				return zero, err
			}
			return zero, s.conflict(namespace, name)
		}
		out, err := s.apply(ctx, cur, old, n, mode)
		if err == errRetry {
			if patchHasResourceVersion(mergePatch) {
				return zero, s.conflict(namespace, name)
			}
			continue
		}
		return out, err
	}
}

// patchHasResourceVersion reports whether a merge patch sets
// metadata.resourceVersion, which makes it a precondition.
func patchHasResourceVersion(patch []byte) bool {
	v, err := decodeJSONValue(patch)
	if err != nil {
		return false
	}
	m, _ := v.(map[string]any)
	meta, _ := m["metadata"].(map[string]any)
	rv, ok := meta["resourceVersion"]
	return ok && rv != nil
}
