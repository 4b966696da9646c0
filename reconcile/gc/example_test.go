package gc_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/reconcile/gc"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// Backup owns the Jobs that run it.
type Backup struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
}

// Job is one run of a Backup.
type Job struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
}

// A collector over two stores: deleting a Backup in the foreground deletes
// its Jobs first, then the Backup.
func Example() {
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	backups := store.New(engine, store.Resource[*Backup]{Name: "backups", Kind: "Backup", APIVersion: "example.io/v1", Namespaced: true})
	jobs := store.New(engine, store.Resource[*Job]{Name: "jobs", Kind: "Job", APIVersion: "example.io/v1", Namespaced: true})

	mgr, err := reconcile.NewManager(reconcile.ManagerOptions{})
	if err != nil {
		panic(err)
	}
	if _, err := gc.New(mgr, gc.Options{}, gc.ForStore(backups), gc.ForStore(jobs)); err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(run) }()

	backup, err := backups.Create(ctx, &Backup{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: "nightly"}})
	if err != nil {
		panic(err)
	}
	var last string
	for _, name := range []string{"nightly-1", "nightly-2"} {
		job := &Job{ObjectMeta: meta.ObjectMeta{Namespace: "ns", Name: name}}
		if err := meta.SetControllerReference(backup, job); err != nil { // blockOwnerDeletion too
			panic(err)
		}
		created, err := jobs.Create(ctx, job)
		if err != nil {
			panic(err)
		}
		last = created.ResourceVersion
	}

	// Watch both from here on, then delete the Backup in the foreground.
	jobEvents, err := jobs.Watch(ctx, meta.ListOptions{ResourceVersion: last})
	if err != nil {
		panic(err)
	}
	backupEvents, err := backups.Watch(ctx, meta.ListOptions{ResourceVersion: last})
	if err != nil {
		panic(err)
	}
	deleting, err := backups.Delete(ctx, "ns", "nightly", meta.DeleteOptions{PropagationPolicy: meta.DeletePropagationForeground})
	if err != nil {
		panic(err)
	}
	fmt.Println("backup finalizers while its jobs go:", deleting.Finalizers)

	var gone []string
	for ev := range jobEvents {
		if ev.Type == meta.Deleted {
			gone = append(gone, ev.Object.Name)
		}
		if len(gone) == 2 {
			break
		}
	}
	slices.Sort(gone)
	fmt.Println("jobs deleted:", gone)
	for ev := range backupEvents {
		if ev.Type == meta.Deleted {
			fmt.Println("then the backup:", ev.Object.Name)
			break
		}
	}

	stop()
	if err := <-done; err != nil {
		panic(err)
	}
	// Output:
	// backup finalizers while its jobs go: [foregroundDeletion]
	// jobs deleted: [nightly-1 nightly-2]
	// then the backup: nightly
}
