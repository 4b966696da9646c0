package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/governor-io/governor/store/meta"
)

// Subresource is the client of one subresource of a [Resource], such as
// pods' "binding" and "eviction" or deployments' "scale". Its bodies are
// of their own types (a Binding, a Scale), so its calls take and fill any
// JSON-encodable value, sent as it encodes (set its kind and apiVersion
// when the server wants them). Make one with [Resource.Subresource].
// "status" is better reached through [Resource.UpdateStatus] and
// [Resource.PatchStatus], which keep the object's type.
type Subresource struct {
	name  string
	group string // for errors, "pods"
	path  func(namespace, name string) (string, error)
	c     *Client
}

// Subresource returns the client of the subresource sub of r.
func (r *Resource[T]) Subresource(sub string) *Subresource {
	return &Subresource{
		name:  sub,
		group: r.typ.GroupResource(),
		path:  func(namespace, name string) (string, error) { return r.objectPath(namespace, name, sub) },
		c:     r.c,
	}
}

// Get reads the subresource of namespace/name into out (GET), as a scale
// is read.
func (s *Subresource) Get(ctx context.Context, namespace, name string, out any) error {
	return s.call(ctx, "get", http.MethodGet, namespace, name, nil, "", out, nil, true)
}

// Create posts in to the subresource of namespace/name (POST), as a
// binding or an eviction is made, and decodes the answer into out (nil:
// discarded). A Success Status answer leaves out as it is.
func (s *Subresource) Create(ctx context.Context, namespace, name string, in, out any, opts ...WriteOption) error {
	return s.call(ctx, "create", http.MethodPost, namespace, name, in, "", out, opts, false)
}

// Update puts in to the subresource of namespace/name (PUT), as a scale is
// changed, and decodes the answer into out (nil: discarded).
func (s *Subresource) Update(ctx context.Context, namespace, name string, in, out any, opts ...WriteOption) error {
	return s.call(ctx, "update", http.MethodPut, namespace, name, in, "", out, opts, true)
}

// Patch applies a patch of type pt to the subresource of namespace/name
// and decodes the answer into out (nil: discarded).
func (s *Subresource) Patch(ctx context.Context, namespace, name string, pt PatchType, data []byte, out any, opts ...WriteOption) error {
	return s.call(ctx, "patch", http.MethodPatch, namespace, name, json.RawMessage(data), pt, out, opts, pt.idempotent())
}

func (s *Subresource) call(ctx context.Context, verb, method, namespace, name string, in any, pt PatchType, out any, opts []WriteOption, idempotent bool) error {
	fail := func(err error) error {
		return fmt.Errorf("client: %s %s %s/%s: %w", verb, s.group, meta.NamespacedName{Namespace: namespace, Name: name}, s.name, err)
	}
	p, err := s.path(namespace, name)
	if err != nil {
		return fail(err)
	}
	req := &request{method: method, path: p, query: writeQuery(opts), idempotent: idempotent}
	if in != nil {
		if raw, ok := in.(json.RawMessage); ok {
			req.body = raw
		} else if req.body, err = json.Marshal(in); err != nil {
			return fail(meta.NewBadRequest(fmt.Sprintf("encode body: %v", err)))
		}
		req.contentType = "application/json"
		if pt != "" {
			req.contentType = string(pt)
		}
	}
	_, body, err := s.c.do(ctx, req)
	if err != nil {
		return fail(err)
	}
	if out == nil || isStatus(body) {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fail(meta.NewInternalError(fmt.Errorf("decode answer: %w", err)))
	}
	return nil
}
