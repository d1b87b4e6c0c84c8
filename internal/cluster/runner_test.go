package cluster_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/cluster"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
)

// wait only turns a hang into a failure.
const wait = 30 * time.Second

// start has a fraction of a second, so rounds fall between whole seconds.
var start = time.Date(2026, 3, 1, 12, 0, 0, 123_456_000, time.UTC)

// eachCluster runs fn per dialect with n pools on one fresh migrated database, as n
// instances would have.
func eachCluster(t *testing.T, n int, fn func(t *testing.T, pools []*sql.DB)) {
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) {
			dbs, _ := dbtest.Instances(t, d, n)
			pools := make([]*sql.DB, len(dbs))
			for i, db := range dbs {
				pools[i] = db.SQL
			}
			fn(t, pools)
		})
	}
}

type run struct {
	holder string
	at     time.Time
}

type record struct {
	mu   sync.Mutex
	runs []run
}

func (r *record) job(name, holder string, every time.Duration, clock cluster.Clock) cluster.Job {
	return cluster.Job{Name: name, Every: every, Run: func(context.Context) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.runs = append(r.runs, run{holder, clock.Now()})
		return nil
	}}
}

func (r *record) get() []run {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]run(nil), r.runs...)
}

// runAll starts runner.Run in a goroutine; the returned stop cancels it and waits.
func runAll(t *testing.T, runner *cluster.Runner, jobs ...cluster.Job) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx, jobs...) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(wait):
			t.Error("Run did not return after cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

func blockUntil(t *testing.T, clock *cluster.ManualClock, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	if err := clock.BlockUntil(ctx, n); err != nil {
		t.Fatalf("waiting for %d sleepers (have %d): %v", n, clock.Waiters(), err)
	}
}

// Two instances run the same job: each round runs once, on one of them, at the round's
// time; a third instance starting mid-period does not run it again.
func TestJobRunsOncePerRound(t *testing.T) {
	eachCluster(t, 2, func(t *testing.T, pools []*sql.DB) {
		const every = time.Minute
		clock := cluster.NewManualClock(start)
		var rec record
		for i, holder := range []string{"a", "b"} {
			r := cluster.NewRunner(pools[i], cluster.Options{Holder: holder, Clock: clock})
			runAll(t, r, rec.job("retention", holder, every, clock))
		}
		blockUntil(t, clock, 2)
		for round := 1; round <= 10; round++ {
			if runs := rec.get(); len(runs) != round {
				t.Fatalf("round %d: %d runs: %v", round, len(runs), runs)
			}
			if got := rec.get()[round-1].at; !got.Equal(clock.Now()) {
				t.Fatalf("round %d ran at %v, want %v", round, got, clock.Now())
			}
			clock.Advance(every)
			blockUntil(t, clock, 2)
		}

		var holder string
		var last time.Time
		if err := pools[0].QueryRow(`SELECT holder, last_run_at FROM job_leases WHERE name = 'retention'`).Scan(&holder, &last); err != nil {
			t.Fatal(err)
		}
		if want := rec.get()[10].holder; holder != want || !last.Equal(clock.Now()) {
			t.Fatalf("lease held by %q, last run %v; want %q at %v", holder, last, want, clock.Now())
		}

		clock.Advance(every / 2)
		late := cluster.NewRunner(pools[0], cluster.Options{Holder: "c", Clock: clock})
		runAll(t, late, rec.job("retention", "c", every, clock))
		blockUntil(t, clock, 3)
		if runs := rec.get(); len(runs) != 11 {
			t.Fatalf("a late instance ran the job mid-period: %v", runs[10:])
		}
		clock.Advance(every / 2)
		blockUntil(t, clock, 3)
		if runs := rec.get(); len(runs) != 12 {
			t.Fatalf("next round: %d runs, want 12", len(runs))
		}
	})
}

// Many instances claiming one round at the same moment: exactly one wins, every round.
func TestClaimRace(t *testing.T) {
	eachCluster(t, 2, func(t *testing.T, pools []*sql.DB) {
		const claimers, rounds = 8, 20
		runners := make([]*cluster.Runner, claimers)
		for i := range runners {
			runners[i] = cluster.NewRunner(pools[i%len(pools)], cluster.Options{Holder: fmt.Sprint("r", i)})
		}
		for round := range rounds {
			now := start.Add(time.Duration(round) * time.Minute)
			var wg sync.WaitGroup
			wins := make([]bool, claimers)
			errs := make([]error, claimers)
			begin := make(chan struct{})
			for i, r := range runners {
				wg.Go(func() {
					<-begin
					wins[i], errs[i] = r.Claim(t.Context(), "race", now, time.Minute)
				})
			}
			close(begin)
			wg.Wait()
			won := 0
			for i := range claimers {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				if wins[i] {
					won++
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d winners", round, won)
			}
		}
	})
}

// A round is due at its time to the microsecond, not before, whatever the fraction of a
// second (SQLite compares the stored text).
func TestClaimDueExactly(t *testing.T) {
	eachCluster(t, 1, func(t *testing.T, pools []*sql.DB) {
		r := cluster.NewRunner(pools[0], cluster.Options{})
		base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		for i, offset := range []time.Duration{0, time.Microsecond, 500 * time.Millisecond, time.Second - time.Microsecond, 10 * time.Microsecond} {
			name := fmt.Sprint("job", i)
			now := base.Add(offset)
			for _, every := range []time.Duration{time.Second, 1500 * time.Millisecond, time.Microsecond * 7, time.Hour} {
				if won, err := r.Claim(t.Context(), name, now, every); err != nil || !won {
					t.Fatalf("%s at %v: won %v, %v", name, now, won, err)
				}
				next := now.Add(every)
				if won, err := r.Claim(t.Context(), name, next.Add(-time.Microsecond), every); err != nil || won {
					t.Fatalf("%s: claimed %v before %v (%v)", name, next.Add(-time.Microsecond), next, err)
				}
				now = next
			}
			// Local times name the same instants.
			if won, err := r.Claim(t.Context(), name, now.In(time.FixedZone("east", 5*3600)), time.Second); err != nil || !won {
				t.Fatalf("%s at %v in another zone: won %v, %v", name, now, won, err)
			}
		}
	})
}

// A failing or panicking job is logged and its next round comes as usual; a running job
// is cancelled when Run's context ends.
func TestJobFailuresAndStop(t *testing.T) {
	eachCluster(t, 1, func(t *testing.T, pools []*sql.DB) {
		clock := cluster.NewManualClock(start)
		var mu sync.Mutex
		calls := 0
		block := make(chan struct{})
		cancelled := make(chan error, 1)
		job := cluster.Job{Name: "flaky", Every: time.Hour, Run: func(ctx context.Context) error {
			mu.Lock()
			calls++
			n := calls
			mu.Unlock()
			switch n {
			case 1:
				return errors.New("boom")
			case 2:
				panic("bang")
			case 3:
				return nil
			default:
				close(block)
				<-ctx.Done()
				cancelled <- ctx.Err()
				return ctx.Err()
			}
		}}
		stop := runAll(t, cluster.NewRunner(pools[0], cluster.Options{Clock: clock}), job)
		for range 3 {
			blockUntil(t, clock, 1)
			clock.Advance(time.Hour)
		}
		select {
		case <-block:
		case <-time.After(wait):
			t.Fatalf("fourth round did not start (%d calls)", calls)
		}
		stop()
		if err := <-cancelled; !errors.Is(err, context.Canceled) {
			t.Fatalf("running job saw %v, want cancellation", err)
		}
	})
}

func TestBadJobs(t *testing.T) {
	r := cluster.NewRunner(nil, cluster.Options{})
	ok := func(context.Context) error { return nil }
	long := string(make([]byte, 101))
	for _, jobs := range [][]cluster.Job{
		{{Name: "", Every: time.Second, Run: ok}},
		{{Name: long, Every: time.Second, Run: ok}},
		{{Name: "a", Every: 0, Run: ok}},
		{{Name: "a", Every: time.Second}},
		{{Name: "a", Every: time.Second, Run: ok}, {Name: "a", Every: time.Minute, Run: ok}},
	} {
		if err := r.Run(t.Context(), jobs...); !errors.Is(err, cluster.ErrBadJob) {
			t.Errorf("%v: got %v, want ErrBadJob", jobs[len(jobs)-1].Name, err)
		}
	}
}

func TestManualClock(t *testing.T) {
	c := cluster.NewManualClock(start)
	select {
	case <-c.After(0):
	default:
		t.Fatal("After(0) did not fire at once")
	}
	soon, later := c.After(time.Second), c.After(time.Minute)
	if c.Waiters() != 2 {
		t.Fatalf("%d waiters", c.Waiters())
	}
	c.Advance(time.Second)
	select {
	case at := <-soon:
		if !at.Equal(start.Add(time.Second)) {
			t.Fatalf("fired with %v", at)
		}
	default:
		t.Fatal("due waiter did not fire")
	}
	select {
	case <-later:
		t.Fatal("waiter fired early")
	default:
	}
	if c.Waiters() != 1 || !c.Now().Equal(start.Add(time.Second)) {
		t.Fatalf("%d waiters at %v", c.Waiters(), c.Now())
	}
}
