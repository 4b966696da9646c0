package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/mvcc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The demo runs with no flags on the embedded store, and with -raft on a
// 1-member Raft KV, and ends by itself. It runs on the wall clock: a job
// every second, so each run takes about a second.
func TestDemoRunsAndEnds(t *testing.T) {
	for _, useRaft := range []bool{false, true} {
		var out bytes.Buffer
		if err := run(context.Background(), &out, useRaft); err != nil {
			t.Fatalf("raft=%v: %v\n%s", useRaft, err, out.String())
		}
		if !useRaft {
			readme, err := os.ReadFile("README.md")
			if err != nil {
				t.Fatal(err)
			}
			_, shown, _ := strings.Cut(string(readme), "The demo prints:\n\n```\n")
			shown, _, _ = strings.Cut(shown, "```")
			if out.String() != shown {
				t.Errorf("the demo printed\n%s\nREADME.md shows\n%s", out.String(), shown)
			}
		}
		for _, want := range []string{
			"status: jobs=2 observedGeneration=1 Scheduled=True finalizers=[backup.example.io/cleanup]",
			"backup gone, jobs left: 0",
			"event: Normal CleanedUp Backup (count 1)",
			"done",
		} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("raft=%v: output lacks %q:\n%s", useRaft, want, out.String())
			}
		}
	}
}

// The demo waits for the Backup to go after deleting it; the controller may
// have let it go before the wait starts. A wait that only watched would
// see no event for an object already gone, and hang.
func TestWaitForSeesABackupAlreadyGone(t *testing.T) {
	engine := mvcc.New(mvcc.Options{})
	defer func() { _ = engine.Close() }()
	backups := store.New(engine, BackupResource())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if b, err := waitFor(ctx, backups, func(b *Backup) bool { return b == nil }); err != nil || b != nil {
		t.Fatalf("waitFor(gone) = %v, %v; want at once", b, err)
	}
}
