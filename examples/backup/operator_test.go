package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/governor-io/governor/reconcile/reconciletest"
	"github.com/governor-io/governor/store/event"
	"github.com/governor-io/governor/store/meta"
)

// operatorEnv runs the Backup controller, as Setup wires it, in an Env.
func operatorEnv(t *testing.T) (*reconciletest.Env, *reconciletest.Informer[*Backup], *reconciletest.Informer[*BackupJob]) {
	env := reconciletest.New(t)
	backups := reconciletest.AddInformer(env, BackupResource())
	jobs := reconciletest.AddInformer(env, BackupJobResource())
	if err := Setup(env.Manager, backups.Store, jobs.Store); err != nil {
		t.Fatal(err)
	}
	env.Start()
	return env, backups, jobs
}

func jobNames(t *testing.T, jobs *reconciletest.Informer[*BackupJob], owner *Backup) []string {
	t.Helper()
	l, err := jobs.Store.List(context.Background(), meta.ListOptions{Namespace: "ns"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, j := range l.Items {
		if !meta.IsControlledBy(j, owner) {
			t.Errorf("job %s is not controlled by %s: %+v", j.Name, owner.Name, j.OwnerReferences)
		}
		names = append(names, j.Name)
	}
	return names
}

func events(t *testing.T, env *reconciletest.Env) map[string]int32 {
	t.Helper()
	l, err := env.Events.List(context.Background(), meta.ListOptions{Namespace: "ns"})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int32{}
	for _, ev := range l.Items {
		if ev.Type != event.TypeNormal || ev.InvolvedObject.Kind != "Backup" || ev.Source.Component != "backup" {
			t.Errorf("event %+v: want a Normal one about a Backup from backup", ev)
		}
		counts[ev.Reason+": "+ev.Message] += ev.Count
	}
	return counts
}

func TestBackupRunsAJobEveryPeriodAndCleansUp(t *testing.T) {
	env, backups, jobs := operatorEnv(t)
	ctx := context.Background()
	b, err := backups.Store.Create(ctx, &Backup{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "nightly"},
		Spec: BackupSpec{Source: "db", Every: meta.Duration{Duration: time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	env.Settle()
	first := fmt.Sprintf("nightly-%d", reconciletest.Epoch.Unix())
	if got := jobNames(t, jobs, b); len(got) != 1 || got[0] != first {
		t.Fatalf("jobs = %v, want [%s]", got, first)
	}
	b, err = backups.Store.Get(ctx, "ns", "nightly")
	if err != nil {
		t.Fatal(err)
	}
	if !meta.ContainsFinalizer(b, Finalizer) {
		t.Errorf("finalizers = %v, want %s", b.Finalizers, Finalizer)
	}
	c := meta.FindStatusCondition(b.Status.Conditions, "Scheduled")
	if b.Status.ObservedGeneration != 1 || b.Status.Jobs != 1 || b.Status.LastJob != first ||
		c == nil || c.Status != meta.ConditionTrue || c.ObservedGeneration != 1 || !c.LastTransitionTime.Equal(reconciletest.Epoch) {
		t.Errorf("status = %+v, want generation 1 observed, 1 job, Scheduled=True since the epoch", b.Status)
	}

	// Not yet due: nothing new.
	env.Step(59 * time.Minute)
	if got := jobNames(t, jobs, b); len(got) != 1 {
		t.Fatalf("jobs after 59m = %v, want still 1", got)
	}
	// Due: the requeue fires and a second job runs.
	env.Step(time.Minute)
	second := fmt.Sprintf("nightly-%d", reconciletest.Epoch.Add(time.Hour).Unix())
	if got := jobNames(t, jobs, b); len(got) != 2 || got[1] != second {
		t.Fatalf("jobs after 1h = %v, want [%s %s]", got, first, second)
	}
	b, _ = backups.Store.Get(ctx, "ns", "nightly")
	if b.Status.Jobs != 2 || b.Status.LastJob != second {
		t.Errorf("status = %+v, want 2 jobs, last %s", b.Status, second)
	}
	want := map[string]int32{"JobCreated: created backup job " + first: 1, "JobCreated: created backup job " + second: 1}
	if got := events(t, env); !maps.Equal(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}

	// A spec change is observed in the status.
	if _, err := backups.Store.GuaranteedUpdate(ctx, "ns", "nightly", func(b *Backup) (*Backup, error) {
		b.Spec.Source = "db-replica"
		return b, nil
	}); err != nil {
		t.Fatal(err)
	}
	env.Settle()
	b, _ = backups.Store.Get(ctx, "ns", "nightly")
	if b.Generation != 2 || b.Status.ObservedGeneration != 2 || meta.FindStatusCondition(b.Status.Conditions, "Scheduled").ObservedGeneration != 2 {
		t.Errorf("after a spec change: generation %d, status %+v; want 2 observed", b.Generation, b.Status)
	}

	// Deleted: the finalizer deletes the jobs, then lets the Backup go.
	if _, err := backups.Store.Delete(ctx, "ns", "nightly", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	env.Settle()
	if _, err := backups.Store.Get(ctx, "ns", "nightly"); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("backup after delete: %v, want NotFound", err)
	}
	if got := jobNames(t, jobs, b); len(got) != 0 {
		t.Fatalf("jobs after delete = %v, want none", got)
	}
	want["CleanedUp: deleted 2 backup jobs"] = 1
	if got := events(t, env); !maps.Equal(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
}

// A job deleted behind the controller's back is not recreated before it is
// due (the controller counts what it owns), and the status follows.
func TestBackupStatusFollowsItsJobs(t *testing.T) {
	env, backups, jobs := operatorEnv(t)
	ctx := context.Background()
	b, err := backups.Store.Create(ctx, &Backup{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "nightly"},
		Spec: BackupSpec{Source: "db", Every: meta.Duration{Duration: time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	env.Settle()
	env.Step(time.Hour)
	names := jobNames(t, jobs, b)
	if len(names) != 2 {
		t.Fatalf("jobs = %v, want 2", names)
	}
	if _, err := jobs.Store.Delete(ctx, "ns", names[0], meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	env.Settle() // Owns: the job's deletion reconciles its Backup
	if b, _ = backups.Store.Get(ctx, "ns", "nightly"); b.Status.Jobs != 1 {
		t.Errorf("status jobs = %d after one was deleted, want 1", b.Status.Jobs)
	}
	if got := jobNames(t, jobs, b); len(got) != 1 {
		t.Errorf("jobs = %v, want the newest only", got)
	}
}

func TestBackupRefusesAPeriodUnderASecond(t *testing.T) {
	env := reconciletest.New(t)
	backups := reconciletest.AddInformer(env, BackupResource())
	_, err := backups.Store.Create(context.Background(), &Backup{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "b"},
		Spec: BackupSpec{Every: meta.Duration{Duration: time.Millisecond}}})
	if !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("create with every=1ms: %v, want Invalid", err)
	}
}
