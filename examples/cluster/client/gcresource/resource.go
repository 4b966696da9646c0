package gcresource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/examples/cluster/client"
	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/reconcile/gc"
	"github.com/governor-io/governor/store/meta"
)

// UpdateAttempts bounds the reads and patches one UpdateMetadata makes
// while the object keeps changing under it (client-go's retry.DefaultRetry
// makes as many); then it returns the Conflict, and the collector retries
// the object later, with backoff.
const UpdateAttempts = 5

// For returns the [gc.Resource] of the resource r serves, named and kinded
// by r's [api.Type]. Only r's client and type are used: the objects are
// read as [meta.PartialObjectMetadata], whatever T is.
func For[T meta.Object](r *client.Resource[T]) gc.Resource {
	t := r.Type()
	return New(r.Client(), gc.Info{Resource: t.Resource, APIVersion: t.APIVersion(), Kind: t.Kind, Namespaced: t.Namespaced})
}

// New returns the [gc.Resource] of the resource info names, served by the
// API server c talks to: info.APIVersion and info.Resource give its URL
// (/apis/GROUP/VERSION/RESOURCE, /api/v1/RESOURCE for the core group), so
// any resource the server serves, custom ones included, can be collected
// without a Go type of its own.
func New(c *client.Client, info gc.Info) gc.Resource {
	group, version := "", info.APIVersion
	if i := strings.LastIndexByte(version, '/'); i >= 0 {
		group, version = version[:i], version[i+1:]
	}
	t := api.Type[*meta.PartialObjectMetadata]{
		Group: group, Version: version, Kind: info.Kind, Resource: info.Resource, Namespaced: info.Namespaced,
		New: func() *meta.PartialObjectMetadata { return new(meta.PartialObjectMetadata) },
	}
	return &resource{info: info, r: client.For(c, t)}
}

type resource struct {
	info gc.Info
	r    *client.Resource[*meta.PartialObjectMetadata]
}

func (r *resource) Info() gc.Info { return r.info }

func (r *resource) ListerWatcher() informer.ListerWatcher[*meta.PartialObjectMetadata] { return r.r }

func (r *resource) Get(ctx context.Context, namespace, name string) (*meta.PartialObjectMetadata, error) {
	return r.r.Get(ctx, namespace, name)
}

func (r *resource) Delete(ctx context.Context, namespace, name string, opts meta.DeleteOptions) error {
	_, err := r.r.Delete(ctx, namespace, name, opts)
	return err
}

// metadataPatch is the body of UpdateMetadata's merge patch. A field set
// to nil is sent as null, which removes it; a field left out of the map is
// not sent, and stays as stored.
type metadataPatch struct {
	Metadata map[string]any `json:"metadata"`
}

func (r *resource) UpdateMetadata(ctx context.Context, namespace, name, uid string, mutate func(*meta.ObjectMeta) bool) error {
	for attempt := 1; ; attempt++ {
		cur, err := r.r.Get(ctx, namespace, name)
		if err != nil {
			return err
		}
		if cur.UID != uid {
			return fmt.Errorf("gcresource: update %s: %w", r.info, meta.NewNotFound(r.info.String(),
				meta.NamespacedName{Namespace: namespace, Name: name}.String()+" with uid "+uid))
		}
		m := meta.DeepCopy(cur).ObjectMeta // mutate may write into cur's slices
		if !mutate(&m) {
			return nil
		}
		patch := metadataPatch{Metadata: map[string]any{"resourceVersion": cur.ResourceVersion}}
		if !reflect.DeepEqual(m.OwnerReferences, cur.OwnerReferences) {
			patch.Metadata["ownerReferences"] = nilIfEmpty(m.OwnerReferences)
		}
		if !reflect.DeepEqual(m.Finalizers, cur.Finalizers) {
			patch.Metadata["finalizers"] = nilIfEmpty(m.Finalizers)
		}
		if len(patch.Metadata) == 1 {
			return nil // mutate reported a change to nothing it may change
		}
		body, err := json.Marshal(patch)
		if err != nil {
			return fmt.Errorf("gcresource: update %s: %w", r.info, err)
		}
		_, err = r.r.Patch(ctx, namespace, name, client.MergePatch, body)
		if errors.Is(err, meta.ErrConflict) && attempt < UpdateAttempts && ctx.Err() == nil {
			continue
		}
		return err
	}
}

// nilIfEmpty returns s, or nil (null in JSON, which a merge patch reads
// as "remove") when s is empty.
func nilIfEmpty[E any](s []E) any {
	if len(s) == 0 {
		return nil
	}
	return s
}
