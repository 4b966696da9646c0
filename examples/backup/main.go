// Command backup is an operator written with Governor's builder: a Backup
// type that owns BackupJob children, with a finalizer, a status with
// conditions and observedGeneration, and Kubernetes Events. It runs on the
// embedded in-memory store (or, with -raft, on a 1-member Raft KV in a
// temporary directory), creates a Backup that asks for a copy every second,
// waits for two jobs, deletes the Backup, waits for the finalizer to clean
// up, prints the events and exits.
//
//	go run ./examples/backup
//	go run ./examples/backup -raft
//
// The operator is operator.go; its test, operator_test.go, drives it with
// reconciletest and a fake clock. README.md compares its size with the same
// operator written before the builder.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/event"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// demoTimeout bounds the whole demo.
const demoTimeout = time.Minute

func main() {
	useRaft := flag.Bool("raft", false, "run on a 1-member Raft KV in a temporary directory instead of the in-memory store")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *useRaft); err != nil {
		fmt.Fprintln(os.Stderr, "backup:", err)
		os.Exit(1)
	}
}

// run runs the demo, printing to out.
func run(ctx context.Context, out io.Writer, useRaft bool) (err error) {
	ctx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()
	backend, what, closeKV, err := openKV(ctx, useRaft)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeKV()) }()
	fmt.Fprintln(out, "store:", what)
	backups := store.New(backend, BackupResource())
	jobs := store.New(backend, BackupJobResource())
	events := store.New(backend, event.Resource)

	mgr, err := reconcile.NewManager(reconcile.ManagerOptions{Events: events})
	if err != nil {
		return err
	}
	if err := Setup(mgr, backups, jobs); err != nil {
		return err
	}
	mctx, stopMgr := context.WithCancel(ctx)
	defer stopMgr()
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	select {
	case <-mgr.Elected():
	case err := <-done:
		return err
	}
	if err := script(ctx, out, backups, jobs, events); err != nil {
		stopMgr()
		return errors.Join(err, <-done)
	}
	stopMgr()
	if err := <-done; err != nil {
		return err
	}
	fmt.Fprintln(out, "done")
	return nil
}

// script creates a Backup, waits for two of its jobs, deletes it and waits
// for it to go, then prints the events about it.
func script(ctx context.Context, out io.Writer, backups *store.Store[*Backup], jobs *store.Store[*BackupJob], events *store.Store[*event.Event]) error {
	b := &Backup{ObjectMeta: meta.ObjectMeta{Namespace: "demo", Name: "nightly"},
		Spec: BackupSpec{Source: "db", Every: meta.Duration{Duration: time.Second}}}
	if _, err := backups.Create(ctx, b); err != nil {
		return err
	}
	fmt.Fprintln(out, "created backup demo/nightly: a copy of db every 1s")
	for _, n := range []int{1, 2} {
		b, err := waitFor(ctx, backups, func(b *Backup) bool { return b != nil && b.Status.Jobs == n })
		if err != nil {
			return fmt.Errorf("waiting for job %d: %w", n, err)
		}
		c := meta.FindStatusCondition(b.Status.Conditions, "Scheduled")
		fmt.Fprintf(out, "status: jobs=%d observedGeneration=%d Scheduled=%s finalizers=%v\n",
			b.Status.Jobs, b.Status.ObservedGeneration, c.Status, b.Finalizers)
	}
	if _, err := backups.Delete(ctx, "demo", "nightly", meta.DeleteOptions{}); err != nil {
		return err
	}
	fmt.Fprintln(out, "deleted backup demo/nightly")
	if _, err := waitFor(ctx, backups, func(b *Backup) bool { return b == nil }); err != nil {
		return fmt.Errorf("waiting for the finalizer: %w", err)
	}
	left, err := jobs.List(ctx, meta.ListOptions{Namespace: "demo"})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "backup gone, jobs left: %d\n", len(left.Items))
	l, err := events.List(ctx, meta.ListOptions{Namespace: "demo"})
	if err != nil {
		return err
	}
	for _, ev := range l.Items {
		fmt.Fprintf(out, "event: %s %s %s (count %d)\n", ev.Type, ev.Reason, ev.InvolvedObject.Kind, ev.Count)
	}
	return nil
}

// waitFor watches demo/nightly until cond holds for it (nil once it is
// gone), and returns it.
func waitFor(ctx context.Context, backups *store.Store[*Backup], cond func(*Backup) bool) (*Backup, error) {
	opts := meta.ListOptions{Namespace: "demo", FieldSelector: "metadata.name=nightly"}
	l, err := backups.List(ctx, opts)
	if err != nil {
		return nil, err
	}
	var cur *Backup
	if len(l.Items) > 0 {
		cur = l.Items[0]
	}
	if cond(cur) {
		return cur, nil
	}
	// A watch from the list's revision sees every change after it, and
	// nothing before: a Backup already gone is not missed.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts.ResourceVersion = l.ResourceVersion
	ch, err := backups.Watch(wctx, opts)
	if err != nil {
		return nil, err
	}
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return nil, fmt.Errorf("watch ended: %w", context.Cause(ctx))
			}
			switch ev.Type {
			case meta.Error:
				return nil, ev.Err
			case meta.Deleted:
				cur = nil
			case meta.Bookmark:
				continue
			default:
				cur = ev.Object
			}
			if cond(cur) {
				return cur, nil
			}
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// openKV opens the demo's store, and says what it is: the in-memory
// engine, or a 1-member Raft KV in a temporary directory that close
// removes.
func openKV(ctx context.Context, useRaft bool) (kv.KV, string, func() error, error) {
	if !useRaft {
		engine := mvcc.New(mvcc.Options{})
		return engine, "embedded in-memory MVCC engine", engine.Close, nil
	}
	dir, err := os.MkdirTemp("", "backup-raft-")
	if err != nil {
		return nil, "", nil, err
	}
	n, err := raft.Open(ctx, raft.Config{ID: 1, Dir: dir, InitialCluster: []raft.Member{{ID: 1, PeerAddr: "127.0.0.1:0"}}})
	if err != nil {
		return nil, "", nil, errors.Join(err, os.RemoveAll(dir))
	}
	return n, "1-member Raft KV", func() error { return errors.Join(n.Close(), os.RemoveAll(dir)) }, nil
}
