package event_test

import (
	"context"
	"fmt"
	"time"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/event"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// A controller records events about the objects it reconciles; repeats of
// one event add to its count instead of filling the store.
func ExampleRecorder() {
	ctx := context.Background()
	clk := clocktest.New(epoch)
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	events := store.New(engine, event.Resource)
	rec := event.NewRecorder(events, event.Options{Component: "backup-controller", Clock: clk})

	b := newBackup("default", "nightly", "uid-1")
	for range 3 {
		_, _ = rec.Event(ctx, b, event.TypeWarning, "BackupFailed", "bucket not found")
		clk.Step(30 * time.Second)
	}
	l, _ := events.List(ctx, meta.ListOptions{})
	for _, ev := range l.Items {
		fmt.Println(ev.InvolvedObject.Kind, ev.InvolvedObject.Name, ev.Type, ev.Reason, ev.Count,
			ev.LastTimestamp.Sub(ev.FirstTimestamp.Time))
	}
	// Output:
	// Backup nightly Warning BackupFailed 3 1m0s
}
