package server

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/ent/sourcehealth"
	"github.com/rhizoflex/rhizoflex/internal/cluster"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fixture"
)

// The reader self-check (issue 16) runs once per cluster: two instances on one database,
// each running the App's source-selfcheck job the way Serve does (a cluster.Runner over
// its own pool, here on a manual clock), run the check once per round between them, not
// once each. The reader counts its own runs (one per output format per check).
func TestSelfcheckRunsOncePerCluster(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	counting := filepath.Join(dir, "counting-reader")
	script := "#!/bin/sh\necho run >> '" + runs + "'\nexec '" + exampleReader(t) + "' \"$@\"\n"
	if err := os.WriteFile(counting, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "sources")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	def := "description = 'Counted waves'\nreader = '" + counting + " waveform'\ndas2Stream = 1\n" +
		"techContact = 'T <t@example.com>'\nexampleRange_00 = '2024-01-01T00:00 to 2024-01-01T00:01 UTC'\n"
	if err := os.WriteFile(filepath.Join(src, "Counted.dsdf"), []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	readerRuns := func() int {
		raw, err := os.ReadFile(runs)
		if errors.Is(err, fs.ErrNotExist) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(raw), "run\n")
	}
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) {
			_ = os.Remove(runs)
			dbs, _ := dbtest.Instances(t, d, 2)
			fixture.Build(t, dbs[0])
			t.Chdir(t.TempDir())
			const every = time.Hour
			clock := cluster.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, len(dbs))
			t.Cleanup(func() {
				cancel()
				for range dbs {
					if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
						t.Errorf("runner: %v", err)
					}
				}
			})
			for i, db := range dbs {
				cfg, err := loadConfig("", nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				cfg.Password, cfg.SourcesDir, cfg.SelfcheckInterval, cfg.CacheDir = fixture.FastPasswords, src, every, t.TempDir()
				app := NewApp(cfg, db, testBlobs(t), newLogger(io.Discard, "info", "text"))
				var job *cluster.Job
				for _, j := range app.jobs() {
					if j.Name == "source-selfcheck" {
						job = &j
					}
				}
				if job == nil || job.Every != every {
					t.Fatalf("instance %d: no source-selfcheck job every %s: %+v", i, every, job)
				}
				r := cluster.NewRunner(db.SQL, cluster.Options{Holder: "instance-" + string(rune('a'+i)), Clock: clock, Logger: app.log})
				go func() { done <- r.Run(ctx, *job) }()
			}
			formats := 5 // selfcheck.Formats: das2, das2 text, das3, das3 text, CSV
			for round := 1; round <= 3; round++ {
				// Both runners asleep again: this round's check (if any) has finished.
				wait, stop := context.WithTimeout(ctx, time.Minute)
				err := clock.BlockUntil(wait, len(dbs))
				stop()
				if err != nil {
					t.Fatalf("round %d: the runners did not go back to sleep: %v", round, err)
				}
				if n := readerRuns(); n != round*formats {
					t.Fatalf("round %d: the reader ran %d times, want %d (one check per round)", round, n, round*formats)
				}
				h, err := dbs[1].Client.SourceHealth.Query().Where(sourcehealth.SourceEQ("Counted")).Only(ctx)
				if err != nil || !h.Ok {
					t.Fatalf("round %d: health %+v, %v", round, h, err)
				}
				var holder string
				if err := dbs[1].SQL.QueryRowContext(ctx, `SELECT holder FROM job_leases WHERE name = 'source-selfcheck'`).Scan(&holder); err != nil ||
					!strings.HasPrefix(holder, "instance-") {
					t.Fatalf("round %d: lease holder %q, %v", round, holder, err)
				}
				clock.Advance(every)
			}
		})
	}
}
