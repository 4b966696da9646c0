package gcresource_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/client"
	"github.com/governor-io/governor/examples/cluster/client/gcresource"
	"github.com/governor-io/governor/reconcile/gc"
	"github.com/governor-io/governor/store/meta"
)

// The tests in this file check each method of the Resource against the
// API server, without a collector.

func TestInfoNamesTheResourceAndItsKind(t *testing.T) {
	cl := newServer(t)
	got := gcresource.For(cl.rss).Info()
	if want := (gc.Info{Resource: "replicasets", APIVersion: "apps/v1", Kind: "ReplicaSet", Namespaced: true}); got != want {
		t.Fatalf("Info() = %+v, want %+v", got, want)
	}
}

func TestListWatchAndGetReadMetadata(t *testing.T) {
	cl := newServer(t)
	rs, _ := cl.replicaSet(t, "web", "web-1")
	pods := gcresource.For(cl.pods)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	l, err := pods.ListerWatcher().List(ctx, meta.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 1 || l.Items[0].Name != "web-1" || l.Items[0].Kind != "Pod" || l.Items[0].APIVersion != "v1" ||
		len(l.Items[0].OwnerReferences) != 1 || l.Items[0].OwnerReferences[0].UID != rs.UID {
		t.Fatalf("list: %+v", l.Items)
	}
	events, err := pods.ListerWatcher().Watch(ctx, meta.ListOptions{ResourceVersion: l.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.pods.Delete(ctx, "default", "web-1", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	ev := <-events
	if ev.Type != meta.Deleted || ev.Object.Name != "web-1" || ev.Object.UID != l.Items[0].UID {
		t.Fatalf("watch event %s %+v, want the deletion of web-1", ev.Type, ev.Object)
	}

	got, err := gcresource.For(cl.rss).Get(ctx, "default", "web")
	if err != nil || got.UID != rs.UID || got.Kind != "ReplicaSet" {
		t.Fatalf("Get: %+v, %v", got, err)
	}
	if _, err := pods.Get(ctx, "default", "web-1"); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("Get of a deleted pod: %v, want NotFound", err)
	}
}

func TestDeleteHonoursThePreconditions(t *testing.T) {
	cl := newServer(t)
	rs, _ := cl.replicaSet(t, "web")
	rss := gcresource.For(cl.rss)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stale := rs.ResourceVersion
	rs, err := cl.rss.Patch(ctx, "default", "web", client.MergePatch, []byte(`{"metadata":{"labels":{"touched":"yes"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	other := "another-uid"
	for _, p := range []meta.Preconditions{{UID: &other}, {UID: &rs.UID, ResourceVersion: &stale}} {
		err := rss.Delete(ctx, "default", "web", meta.DeleteOptions{Preconditions: &p})
		if !errors.Is(err, meta.ErrConflict) {
			t.Fatalf("delete with preconditions %v: %v, want Conflict", p, err)
		}
	}
	err = rss.Delete(ctx, "default", "web", meta.DeleteOptions{
		Preconditions:     &meta.Preconditions{UID: &rs.UID, ResourceVersion: &rs.ResourceVersion},
		PropagationPolicy: meta.DeletePropagationOrphan,
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := cl.rss.Get(ctx, "default", "web")
	if err != nil || got.DeletionTimestamp == nil || !slices.Contains(got.Finalizers, meta.FinalizerOrphanDependents) {
		t.Fatalf("after an orphan delete: %+v, %v", got, err)
	}
	if err := rss.Delete(ctx, "default", "db", meta.DeleteOptions{}); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("delete of nothing: %v, want NotFound", err)
	}
}

func TestUpdateMetadata(t *testing.T) {
	cl := newServer(t)
	rs, _ := cl.replicaSet(t, "web", "web-1", "web-2")
	pods := gcresource.For(cl.pods)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	get := func(name string) *meta.PartialObjectMetadata {
		t.Helper()
		p, err := pods.Get(ctx, "default", name)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	dropRefs := func(m *meta.ObjectMeta) bool {
		had := len(m.OwnerReferences) > 0
		m.OwnerReferences = nil
		return had
	}

	t.Run("a mutation that changes nothing writes nothing", func(t *testing.T) {
		before := get("web-1")
		if err := pods.UpdateMetadata(ctx, "default", "web-1", before.UID, func(*meta.ObjectMeta) bool { return false }); err != nil {
			t.Fatal(err)
		}
		if after := get("web-1"); after.ResourceVersion != before.ResourceVersion {
			t.Fatalf("resourceVersion %s -> %s", before.ResourceVersion, after.ResourceVersion)
		}
	})

	t.Run("another uid is NotFound", func(t *testing.T) {
		err := pods.UpdateMetadata(ctx, "default", "web-1", "another-uid", dropRefs)
		if !errors.Is(err, meta.ErrNotFound) {
			t.Fatalf("got %v, want NotFound", err)
		}
		if refs := get("web-1").OwnerReferences; len(refs) != 1 {
			t.Fatalf("the namesake's references changed: %v", refs)
		}
		if err := pods.UpdateMetadata(ctx, "default", "nothing", "x", dropRefs); !errors.Is(err, meta.ErrNotFound) {
			t.Fatalf("no object: %v, want NotFound", err)
		}
	})

	t.Run("a write between the read and the patch is retried on", func(t *testing.T) {
		p := get("web-1")
		calls := 0
		err := pods.UpdateMetadata(ctx, "default", "web-1", p.UID, func(m *meta.ObjectMeta) bool {
			calls++
			if calls == 1 {
				// Another writer changes the pod after this read.
				if _, err := cl.pods.Patch(ctx, "default", "web-1", client.MergePatch,
					[]byte(`{"metadata":{"labels":{"touched":"yes"}}}`)); err != nil {
					t.Error(err)
				}
			}
			m.Finalizers = append(m.Finalizers, "example.io/hold")
			return dropRefs(m)
		})
		if err != nil || calls != 2 {
			t.Fatalf("UpdateMetadata: %v after %d mutations, want nil after 2", err, calls)
		}
		got, err := cl.pods.Get(ctx, "default", "web-1")
		if err != nil {
			t.Fatal(err)
		}
		if len(got.OwnerReferences) != 0 || !slices.Equal(got.Finalizers, []string{"example.io/hold"}) ||
			got.Labels["touched"] != "yes" || got.Spec.Containers[0].Image != "nginx" {
			t.Fatalf("after the update: refs %v, finalizers %v, labels %v, spec %+v: want no refs, the finalizer, and the other write and the spec kept",
				got.OwnerReferences, got.Finalizers, got.Labels, got.Spec)
		}
	})

	t.Run("a conflict every time gives up after UpdateAttempts", func(t *testing.T) {
		p := get("web-2")
		calls := 0
		err := pods.UpdateMetadata(ctx, "default", "web-2", p.UID, func(m *meta.ObjectMeta) bool {
			calls++
			if _, err := cl.pods.Patch(ctx, "default", "web-2", client.MergePatch,
				[]byte(`{"metadata":{"labels":{"n":"`+string(rune('a'+calls))+`"}}}`)); err != nil {
				t.Error(err)
			}
			return dropRefs(m)
		})
		if !errors.Is(err, meta.ErrConflict) || calls != gcresource.UpdateAttempts {
			t.Fatalf("UpdateMetadata: %v after %d mutations, want Conflict after %d", err, calls, gcresource.UpdateAttempts)
		}
		if refs := get("web-2").OwnerReferences; len(refs) != 1 || refs[0].UID != rs.UID {
			t.Fatalf("references after the conflicts: %v", refs)
		}
	})

	t.Run("removing the last finalizer of a deleted object deletes it", func(t *testing.T) {
		p := get("web-1")
		if err := pods.Delete(ctx, "default", "web-1", meta.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		err := pods.UpdateMetadata(ctx, "default", "web-1", p.UID, func(m *meta.ObjectMeta) bool {
			m.Finalizers = nil
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pods.Get(ctx, "default", "web-1"); !errors.Is(err, meta.ErrNotFound) {
			t.Fatalf("after its last finalizer went: %v, want NotFound", err)
		}
	})
}
