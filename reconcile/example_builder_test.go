package reconcile_test

import (
	"context"
	"fmt"

	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// Backup asks for a backup; the controller runs a BackupJob for it.
type Backup struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
}

// BackupJob is the child a Backup owns.
type BackupJob struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
}

// backupReconciler keeps one BackupJob per Backup.
type backupReconciler struct {
	backups *reconcile.Client[*Backup]
	jobs    *reconcile.Client[*BackupJob]
	created chan<- string
}

func (r *backupReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	b, err := r.backups.Get(req.Namespace, req.Name)
	if err != nil {
		return reconcile.Done(), reconcile.IgnoreNotFound(err)
	}
	if len(r.jobs.ControlledBy(b)) > 0 {
		return reconcile.Done(), nil // the cache already has our own last write
	}
	job := &BackupJob{ObjectMeta: meta.ObjectMeta{Namespace: b.Namespace, Name: b.Name + "-job"}}
	if err := meta.SetControllerReference(b, job); err != nil { // b's kind, apiVersion and uid
		return reconcile.Done(), err
	}
	if _, err := r.jobs.Create(ctx, job); err != nil {
		return reconcile.Done(), err
	}
	reconcile.LoggerFrom(ctx).Info("created job", "job", job.Name) // carries controller= and request=
	fmt.Println("created", job.Name)
	r.created <- job.Name
	return reconcile.Done(), nil
}

// A manager runs a controller that owns children. NewController wires it
// in one call: the manager's informers (one per type, shared), clock,
// logger, metrics and read-your-own-writes tracking; For and Owns infer the
// types from the stores, and Owns takes the owner's kind from the Backup
// resource. Deleting the child brings the owner back to reconcile.
func Example() {
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	backups := store.New(engine, store.Resource[*Backup]{Name: "backups", Kind: "Backup", APIVersion: "example.io/v1", Namespaced: true})
	jobs := store.New(engine, store.Resource[*BackupJob]{Name: "backupjobs", Kind: "BackupJob", APIVersion: "example.io/v1", Namespaced: true})

	mgr, _ := reconcile.NewManager(reconcile.ManagerOptions{}) // errors go to stderr
	created := make(chan string, 1)
	r := &backupReconciler{created: created}
	r.backups, _ = reconcile.ClientFor(mgr, backups)
	r.jobs, _ = reconcile.ClientFor(mgr, jobs)
	if _, err := reconcile.NewController(mgr, "backup", r, reconcile.Options[reconcile.Request]{},
		reconcile.For(backups), reconcile.Owns(jobs)); err != nil {
		panic(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error)
	go func() { stopped <- mgr.Start(ctx) }()
	<-mgr.Elected()
	if _, err := backups.Create(ctx, &Backup{ObjectMeta: meta.ObjectMeta{Namespace: "demo", Name: "nightly"}}); err != nil {
		panic(err)
	}
	<-created
	if _, err := jobs.Delete(ctx, "demo", "nightly-job", meta.DeleteOptions{}); err != nil {
		panic(err)
	}
	<-created // the owner was reconciled again and recreated its job
	cancel()
	fmt.Println("stopped:", <-stopped)
	// Output:
	// created nightly-job
	// created nightly-job
	// stopped: <nil>
}
