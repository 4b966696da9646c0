package replicaset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store/meta"
)

// Reconciler makes the pods of each [ReplicaSet] match its spec. It reads
// from the informers' caches through [reconcile.Client]s, so its next
// reconcile of a set sees the pods it just created (read your own writes).
type Reconciler struct {
	Sets *reconcile.Client[*ReplicaSet]
	Pods *reconcile.Client[*Pod]
	// Out receives one line per action; nil discards them.
	Out io.Writer

	mu sync.Mutex
}

func (r *Reconciler) printf(format string, args ...any) {
	if r.Out == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.Out, format+"\n", args...)
}

// Reconcile brings the pods of req's ReplicaSet to its replica count, keeps
// its status, and on deletion removes its pods before its finalizer.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	set, err := r.Sets.Get(req.Namespace, req.Name)
	if errors.Is(err, meta.ErrNotFound) {
		return reconcile.Done(), nil // gone; its pods went first
	}
	if err != nil {
		return reconcile.Done(), err
	}
	pods, err := r.ownedPods(set)
	if err != nil {
		return reconcile.Done(), err
	}
	if set.DeletionTimestamp != nil {
		return r.finalize(ctx, set, pods)
	}
	if !slices.Contains(set.Finalizers, Finalizer) {
		set = meta.DeepCopy(set)
		set.Finalizers = append(set.Finalizers, Finalizer)
		if _, err := r.Sets.Update(ctx, set); err != nil {
			return reconcile.Done(), err
		}
		r.printf("  [controller] %s: added finalizer %s", req, Finalizer)
		return reconcile.Done(), nil // the update brings us back
	}

	want := int(set.Spec.Replicas)
	// Create the missing pods under the lowest free indexes, delete the
	// surplus from the highest, so that names stay small and stable.
	taken := map[int]bool{}
	for _, p := range pods {
		taken[podIndex(set.Name, p.Name)] = true
	}
	for i := 0; len(pods) < want; i++ {
		if taken[i] {
			continue
		}
		pod, err := r.Pods.Create(ctx, r.newPod(set, i))
		if err != nil {
			return reconcile.Done(), fmt.Errorf("create pod %d of %s: %w", i, req, err)
		}
		r.printf("  [controller] %s: created pod %s", req, pod.Name)
		pods = append(pods, pod)
	}
	slices.SortFunc(pods, func(a, b *Pod) int { return podIndex(set.Name, a.Name) - podIndex(set.Name, b.Name) })
	for len(pods) > want {
		p := pods[len(pods)-1]
		if _, err := r.Pods.Delete(ctx, p.Namespace, p.Name, meta.DeleteOptions{}); err != nil && !errors.Is(err, meta.ErrNotFound) {
			return reconcile.Done(), fmt.Errorf("delete pod %s: %w", p.Name, err)
		}
		r.printf("  [controller] %s: deleted pod %s", req, p.Name)
		pods = pods[:len(pods)-1]
	}

	if set.Status.Replicas != int32(len(pods)) || set.Status.ObservedGeneration != set.Generation {
		set = meta.DeepCopy(set)
		set.Status.Replicas = int32(len(pods))
		set.Status.ObservedGeneration = set.Generation
		if _, err := r.Sets.UpdateStatus(ctx, set); err != nil {
			return reconcile.Done(), err
		}
		r.printf("  [controller] %s: status replicas=%d (generation %d)", req, len(pods), set.Generation)
	}
	return reconcile.Done(), nil
}

// finalize deletes the pods of a set being deleted, then releases it.
func (r *Reconciler) finalize(ctx context.Context, set *ReplicaSet, pods []*Pod) (reconcile.Result, error) {
	req := reconcile.RequestOf(set)
	for _, p := range pods {
		if _, err := r.Pods.Delete(ctx, p.Namespace, p.Name, meta.DeleteOptions{}); err != nil && !errors.Is(err, meta.ErrNotFound) {
			return reconcile.Done(), fmt.Errorf("delete pod %s: %w", p.Name, err)
		}
		r.printf("  [controller] %s: being deleted: deleted pod %s", req, p.Name)
	}
	if !slices.Contains(set.Finalizers, Finalizer) {
		return reconcile.Done(), nil
	}
	set = meta.DeepCopy(set)
	set.Finalizers = slices.DeleteFunc(set.Finalizers, func(f string) bool { return f == Finalizer })
	if _, err := r.Sets.Update(ctx, set); err != nil && !errors.Is(err, meta.ErrNotFound) {
		return reconcile.Done(), err
	}
	r.printf("  [controller] %s: pods gone, removed finalizer", req)
	return reconcile.Done(), nil
}

// ownedPods returns the cached pods whose controller is set.
func (r *Reconciler) ownedPods(set *ReplicaSet) ([]*Pod, error) {
	all, err := r.Pods.List(set.Namespace, "")
	if err != nil {
		return nil, err
	}
	var out []*Pod
	for _, p := range all {
		if ref := meta.ControllerOf(p); ref != nil && ref.UID == set.UID && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

func (r *Reconciler) newPod(set *ReplicaSet, i int) *Pod {
	yes := true
	return &Pod{
		ObjectMeta: meta.ObjectMeta{
			Namespace: set.Namespace,
			Name:      set.Name + "-" + strconv.Itoa(i),
			Labels:    map[string]string{"replicaset": set.Name},
			OwnerReferences: []meta.OwnerReference{{
				APIVersion: APIVersion, Kind: "ReplicaSet", Name: set.Name, UID: set.UID,
				Controller: &yes, BlockOwnerDeletion: &yes,
			}},
		},
		Spec: set.Spec.Template,
	}
}

// podIndex returns i of a pod named "<set>-<i>", or a large number.
func podIndex(set, pod string) int {
	if i, err := strconv.Atoi(strings.TrimPrefix(pod, set+"-")); err == nil && strings.HasPrefix(pod, set+"-") {
		return i
	}
	return 1 << 30
}
