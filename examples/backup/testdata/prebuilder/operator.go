package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/informer"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store"
)

// Finalizer keeps a deleted Backup in the store until the controller has
// deleted its jobs.
const Finalizer = "backup.example.io/cleanup"

// Reconciler is the Backup controller, as it had to be written against the
// API before the builder (commit 9f4023c).
type Reconciler struct {
	backups *reconcile.Client[*Backup]
	jobs    *reconcile.Client[*BackupJob]
	events  *store.Store[*Event]
	clock   clock.Clock
	log     *slog.Logger
}

// Setup adds the Backup controller to mgr: informers, caches, clients, the
// controller and its two watches, each by hand.
func Setup(mgr *reconcile.Manager, backups *store.Store[*Backup], jobs *store.Store[*BackupJob], events *store.Store[*Event]) error {
	met, err := informer.NewMetrics(mgr.Registry())
	if err != nil {
		return err
	}
	backupInf := informer.New[*Backup](backups, informer.Options[*Backup]{Name: "backups", Clock: mgr.Clock(), Logger: mgr.Logger(), Metrics: met})
	jobInf := informer.New[*BackupJob](jobs, informer.Options[*BackupJob]{Name: "backupjobs", Clock: mgr.Clock(), Logger: mgr.Logger(), Metrics: met})
	if err := errors.Join(mgr.AddCache("backups", backupInf), mgr.AddCache("backupjobs", jobInf)); err != nil {
		return err
	}
	r := &Reconciler{events: events, clock: mgr.Clock(), log: mgr.Logger().With("controller", "backup")}
	var err1, err2 error
	r.backups, err1 = reconcile.NewClient(backups, backupInf, mgr.Freshness())
	r.jobs, err2 = reconcile.NewClient(jobs, jobInf, mgr.Freshness())
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	c, err := reconcile.New[reconcile.Request](r, reconcile.Options[reconcile.Request]{Name: "backup", Logger: mgr.Logger(),
		Metrics: mgr.Metrics(), QueueMetrics: mgr.QueueMetrics(), Freshness: mgr.Freshness()})
	if err != nil {
		return err
	}
	return errors.Join(
		c.Watch(reconcile.FromInformer(backupInf, reconcile.OwnKey[*Backup](),
			reconcile.InformerOptions[*Backup]{Name: "backup", LowPriorityInitialList: true})),
		c.Watch(reconcile.FromInformer(jobInf, reconcile.ControllerOwner[*BackupJob](APIVersion, "Backup"),
			reconcile.InformerOptions[*BackupJob]{Name: "backup", LowPriorityInitialList: true})),
		mgr.Add(c))
}

// Reconcile brings one Backup and its jobs to what its spec asks for.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	log := r.log.With("request", req)
	b, err := r.backups.Get(req.Namespace, req.Name)
	if errors.Is(err, store.ErrNotFound) {
		return reconcile.Done(), nil
	} else if err != nil {
		return reconcile.Done(), err
	}
	jobs, err := r.jobs.List(b.Namespace, "")
	if err != nil {
		return reconcile.Done(), err
	}
	var owned []*BackupJob
	var last *BackupJob
	for _, j := range jobs {
		if controlledBy(j, b) {
			owned = append(owned, j)
			if last == nil || j.CreationTimestamp.After(last.CreationTimestamp.Time) {
				last = j
			}
		}
	}
	if b.DeletionTimestamp != nil {
		return reconcile.Done(), r.cleanup(ctx, b, owned)
	}
	if b, err = setFinalizer(ctx, r.backups, b, Finalizer, true); err != nil {
		return reconcile.Done(), err
	}
	now := r.clock.Now()
	if last == nil || !now.Before(last.CreationTimestamp.Add(b.Spec.Every.Duration)) {
		yes := true
		job := &BackupJob{ObjectMeta: store.ObjectMeta{Namespace: b.Namespace, Name: fmt.Sprintf("%s-%d", b.Name, now.Unix()),
			OwnerReferences: []store.OwnerReference{{APIVersion: APIVersion, Kind: "Backup", Name: b.Name, UID: b.UID,
				Controller: &yes, BlockOwnerDeletion: &yes}}},
			Spec: BackupJobSpec{Source: b.Spec.Source}}
		if last, err = r.jobs.Create(ctx, job); err != nil {
			return reconcile.Done(), err
		}
		owned = append(owned, last)
		log.Info("created backup job", "job", last.Name)
		_ = recordEvent(ctx, r.events, now, b, "Normal", "JobCreated", "created backup job "+last.Name)
	}
	err = updateStatus(ctx, r.backups, b, func(b *Backup) {
		b.Status.ObservedGeneration, b.Status.LastJob, b.Status.Jobs = b.Generation, last.Name, len(owned)
		setCondition(&b.Status.Conditions, Condition{Type: "Scheduled", Status: "True",
			ObservedGeneration: b.Generation, Reason: "JobCreated", Message: "last job " + last.Name}, now)
	})
	return reconcile.RequeueAfter(last.CreationTimestamp.Add(b.Spec.Every.Duration).Sub(now)), err
}

// cleanup deletes a deleted Backup's jobs, then removes its finalizer so
// that the store deletes it.
func (r *Reconciler) cleanup(ctx context.Context, b *Backup, jobs []*BackupJob) error {
	if !hasFinalizer(b, Finalizer) {
		return nil
	}
	for _, j := range jobs {
		if _, err := r.jobs.Delete(ctx, j.Namespace, j.Name, store.DeleteOptions{}); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	_ = recordEvent(ctx, r.events, r.clock.Now(), b, "Normal", "CleanedUp", fmt.Sprintf("deleted %d backup jobs", len(jobs)))
	_, err := setFinalizer(ctx, r.backups, b, Finalizer, false)
	return err
}
