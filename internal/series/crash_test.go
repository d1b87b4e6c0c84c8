package series_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/ent/revision"
	"github.com/rhizoflex/rhizoflex/ent/rollup"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

const (
	crashDBEnv  = "RHIZOFLEX_SERIES_CRASH_DB"
	crashSeqEnv = "RHIZOFLEX_SERIES_CRASH_SEQ"
	crashBatch  = 250
)

// TestCrashSafety runs crashChild in a child process that appends batches and prints
// each batch's last timestamp after its commit, SIGKILLs it mid-stream, and checks that
// every acknowledged value survived and that the rollups match the stored values.
func TestCrashSafety(t *testing.T) {
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := t.Context()
			url := dbtest.URL(t, d)
			db, err := database.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			newOrg(t, db.Client)
			seq := newSeq(t, db.Client, "crash", tree.Numeric, nil)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			cmd := exec.CommandContext(ctx, os.Args[0])
			cmd.Env = append(os.Environ(), crashDBEnv+"="+url, crashSeqEnv+"="+strconv.Itoa(seq.ID))
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var acked []int64
			sc := bufio.NewScanner(out)
			for len(acked) < 40 && sc.Scan() {
				if ts, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
					v, err := strconv.ParseInt(ts, 10, 64)
					if err != nil {
						t.Fatal(err)
					}
					acked = append(acked, v)
				}
			}
			if err := cmd.Process.Kill(); err != nil { // SIGKILL: no deferred cleanup runs
				t.Fatal(err)
			}
			_ = cmd.Wait()
			if len(acked) < 40 {
				t.Fatalf("child acknowledged only %d batches (%v)", len(acked), sc.Err())
			}

			db, err = database.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			c := db.Client
			for _, ts := range acked {
				n, err := c.Revision.Query().Where(revision.ResourceID(seq.ID), revision.Timestamp(ts)).Count(ctx)
				if err != nil || n != 1 {
					t.Fatalf("acknowledged value at %d: %d rows (%v)", ts, n, err)
				}
			}
			total, err := c.Revision.Query().Where(revision.ResourceID(seq.ID)).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if total < len(acked)*crashBatch || total%crashBatch != 0 {
				t.Fatalf("%d values stored for %d acknowledged batches of %d", total, len(acked), crashBatch)
			}
			var counted int64
			rs, err := c.Rollup.Query().Where(rollup.ResourceID(seq.ID), rollup.BucketSeconds(60)).All(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				counted += r.Count
			}
			if counted != int64(total) {
				t.Fatalf("rollups count %d values, %d stored", counted, total)
			}
		})
	}
}

// TestMain turns the test binary into TestCrashSafety's child process when that test
// starts it (the environment names the database); otherwise it runs the tests as usual.
func TestMain(m *testing.M) {
	if url := os.Getenv(crashDBEnv); url != "" {
		crashChild(url)
		return
	}
	m.Run()
}

// crashChild appends batches until it is killed, printing each batch's last timestamp
// after its commit. Failures panic, which ends the child with a non-zero status.
func crashChild(url string) {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	rid, err := strconv.Atoi(os.Getenv(crashSeqEnv))
	must(err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := database.Open(ctx, url)
	must(err)
	seq, err := db.Client.Resource.Get(ctx, rid)
	must(err)
	for b := 0; ctx.Err() == nil; b++ {
		items := numItems(seq, base.Add(time.Duration(b*crashBatch)*time.Second), time.Second, crashBatch,
			func(i int) float64 { return float64(b*crashBatch + i) })
		if errs, err := series.UpdateMany(ctx, db.Client, items); err != nil {
			panic(fmt.Sprint(errs, err))
		}
		_, err := fmt.Fprintf(os.Stdout, "ack %d\n", series.Micros(*items[len(items)-1].Time))
		must(err)
	}
}
