package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/event"
	"github.com/governor-io/governor/store/meta"
)

// Finalizer keeps a deleted Backup in the store until the controller has
// deleted its jobs (and, in a real operator, the copies they made).
const Finalizer = "backup.example.io/cleanup"

// Reconciler is the Backup controller: it keeps a finalizer on every
// Backup, creates a BackupJob owned by it every Spec.Every, reports in its
// status and events, and on deletion deletes its jobs before letting it go.
type Reconciler struct {
	backups *reconcile.Client[*Backup]
	jobs    *reconcile.Client[*BackupJob]
	events  *event.Recorder
	clock   clock.Clock
}

// Setup adds the Backup controller to mgr, watching backups and the jobs
// they own.
func Setup(mgr *reconcile.Manager, backups *store.Store[*Backup], jobs *store.Store[*BackupJob]) error {
	r := &Reconciler{events: mgr.EventRecorder("backup"), clock: mgr.Clock()}
	var err1, err2 error
	r.backups, err1 = reconcile.ClientFor(mgr, backups)
	r.jobs, err2 = reconcile.ClientFor(mgr, jobs)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	_, err := reconcile.NewController(mgr, "backup", r, reconcile.Options[reconcile.Request]{},
		reconcile.For(backups), reconcile.Owns(jobs))
	return err
}

// Reconcile brings one Backup and its jobs to what its spec asks for.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	b, err := r.backups.Get(req.Namespace, req.Name)
	if err != nil {
		return reconcile.Done(), reconcile.IgnoreNotFound(err)
	}
	jobs := r.jobs.ControlledBy(b) // oldest first
	b, deleting, err := reconcile.Finalize(ctx, r.backups, b, Finalizer, func(ctx context.Context, b *Backup) error {
		return r.deleteJobs(ctx, b, jobs)
	})
	if deleting || err != nil {
		return reconcile.Done(), err
	}
	now := r.clock.Now()
	if len(jobs) == 0 || !now.Before(jobs[len(jobs)-1].CreationTimestamp.Add(b.Spec.Every.Duration)) {
		job := &BackupJob{ObjectMeta: meta.ObjectMeta{Namespace: b.Namespace, Name: fmt.Sprintf("%s-%d", b.Name, now.Unix())},
			Spec: BackupJobSpec{Source: b.Spec.Source}}
		if err := meta.SetControllerReference(b, job); err != nil {
			return reconcile.Done(), err
		}
		if job, err = r.jobs.Create(ctx, job); err != nil {
			return reconcile.Done(), err
		}
		jobs = append(jobs, job)
		reconcile.LoggerFrom(ctx).Info("created backup job", "job", job.Name)
		_, _ = r.events.Eventf(ctx, b, event.TypeNormal, "JobCreated", "created backup job %s", job.Name)
	}
	last := jobs[len(jobs)-1]
	_, err = r.backups.MutateStatus(ctx, b, func(b *Backup) error {
		b.Status.ObservedGeneration, b.Status.LastJob, b.Status.Jobs = b.Generation, last.Name, len(jobs)
		meta.SetStatusCondition(&b.Status.Conditions, meta.Condition{Type: "Scheduled", Status: meta.ConditionTrue,
			ObservedGeneration: b.Generation, Reason: "JobCreated", Message: "last job " + last.Name}, now)
		return nil
	})
	return reconcile.RequeueAfter(last.CreationTimestamp.Add(b.Spec.Every.Duration).Sub(now)), err
}

// deleteJobs deletes a deleted Backup's jobs: the cleanup that its
// finalizer waits for.
func (r *Reconciler) deleteJobs(ctx context.Context, b *Backup, jobs []*BackupJob) error {
	for _, j := range jobs {
		if _, err := r.jobs.Delete(ctx, j.Namespace, j.Name, meta.DeleteOptions{}); reconcile.IgnoreNotFound(err) != nil {
			return err
		}
	}
	_, _ = r.events.Eventf(ctx, b, event.TypeNormal, "CleanedUp", "deleted %d backup jobs", len(jobs))
	return nil
}
