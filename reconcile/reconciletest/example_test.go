package reconciletest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/reconcile/reconciletest"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/event"
	"github.com/governor-io/governor/store/meta"
)

// Backup asks for an hourly backup.
type Backup struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
}

// BackupJob is one backup, owned by its Backup.
type BackupJob struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
}

// hourlyBackups creates a BackupJob for each Backup every hour, on the
// hour.
type hourlyBackups struct {
	backups *reconcile.Client[*Backup]
	jobs    *reconcile.Client[*BackupJob]
	events  *event.Recorder
	clock   interface{ Now() time.Time }
}

func (r *hourlyBackups) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	b, err := r.backups.Get(req.Namespace, req.Name)
	if errors.Is(err, meta.ErrNotFound) {
		return reconcile.Done(), nil
	}
	hour := r.clock.Now().Truncate(time.Hour)
	next := reconcile.RequeueAfter(hour.Add(time.Hour).Sub(r.clock.Now()))
	name := fmt.Sprintf("%s-%d", b.Name, hour.Unix())
	if _, err := r.jobs.Get(b.Namespace, name); err == nil {
		return next, nil // this hour's job exists
	}
	job := &BackupJob{ObjectMeta: meta.ObjectMeta{Namespace: b.Namespace, Name: name}}
	if err := meta.SetControllerReference(b, job); err != nil {
		return reconcile.Done(), err
	}
	if _, err := r.jobs.Create(ctx, job); err != nil {
		return reconcile.Done(), err
	}
	_, _ = r.events.Event(ctx, b, event.TypeNormal, "JobCreated", "created a backup job")
	return next, nil
}

// exampleT is an Example's [reconciletest.TB]: an Example has no
// *testing.T, so it prints failures (which fail the Example's Output) and
// runs the cleanups when the Example calls done.
type exampleT struct{ cleanups []func() }

func (t *exampleT) Helper()                           {}
func (t *exampleT) Errorf(format string, args ...any) { fmt.Printf("FAIL: "+format+"\n", args...) }
func (t *exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (t *exampleT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }

func (t *exampleT) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

// A controller test: an Env with a store and informer per type, a
// controller that owns children wired by the builder, then create, settle,
// step the fake clock and assert on the children and the events. In a
// test, pass the test's *testing.T to New instead of an exampleT.
func Example() {
	t := &exampleT{}
	defer t.done()
	env := reconciletest.New(t)
	backups := reconciletest.AddInformer(env, store.Resource[*Backup]{Name: "backups", Kind: "Backup", APIVersion: "example.io/v1", Namespaced: true})
	jobs := reconciletest.AddInformer(env, store.Resource[*BackupJob]{Name: "backupjobs", Kind: "BackupJob", APIVersion: "example.io/v1", Namespaced: true})
	r := &hourlyBackups{backups: backups.Client(env), jobs: jobs.Client(env), events: env.Manager.EventRecorder("backup"), clock: env.Clock}
	reconciletest.NewController(env, "backup", r, reconcile.Options[reconcile.Request]{},
		reconcile.For(backups.Store), reconcile.Owns(jobs.Store))
	env.Start()

	ctx := context.Background()
	if _, err := backups.Store.Create(ctx, &Backup{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "nightly"}}); err != nil {
		t.Fatalf("create: %v", err)
	}
	env.Settle()
	count := func() int {
		l, err := jobs.Store.List(ctx, meta.ListOptions{Namespace: "ns"})
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		return len(l.Items)
	}
	fmt.Println("jobs:", count())
	env.Step(time.Hour) // the requeue after an hour fires
	fmt.Println("jobs after an hour:", count())
	evs, err := env.Events.List(ctx, meta.ListOptions{Namespace: "ns"})
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	for _, ev := range evs.Items {
		fmt.Println("event:", ev.Reason, ev.InvolvedObject.Name, "count", ev.Count)
	}
	// Output:
	// jobs: 1
	// jobs after an hour: 2
	// event: JobCreated nightly count 2
}
