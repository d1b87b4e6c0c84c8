// Package cluster runs periodic background jobs (retention, trimming, watchdog) once per
// cluster instead of once per instance: every instance runs a Runner with the same jobs,
// and for each round of a job exactly one of them wins the round's lease in the
// job_leases table and runs it.
//
// The package may import the standard library only; it reaches job_leases through raw SQL
// on a *sql.DB (SQLite or PostgreSQL, the same statements on both) and knows nothing of
// the jobs it runs.
package cluster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
)

// Job is a periodic background job.
type Job struct {
	// Name identifies the job across the cluster (the job_leases row): 1 to 100 bytes.
	Name string
	// Every is the time between the starts of two rounds.
	Every time.Duration
	// Timeout bounds one run (default Every). A run longer than Every may overlap the
	// next round on another instance, so jobs should be idempotent.
	Timeout time.Duration
	// Run does the work of one round. An error or panic is logged; the next round comes
	// as usual.
	Run func(ctx context.Context) error
}

// Options configure a Runner.
type Options struct {
	// Holder names this instance in job_leases.holder (default host name and process id).
	Holder string
	// Clock tells the time (default the system clock); tests pass a ManualClock.
	Clock Clock
	// MaxWait bounds the sleep between two looks at a job's lease (default 1 minute), so
	// a lease moved by another instance (with another period, say) is noticed.
	MaxWait time.Duration
	// Logger receives job failures (default slog.Default()).
	Logger *slog.Logger
}

// Runner runs jobs once per cluster. Every instance makes its own over the shared
// database.
type Runner struct {
	db      *sql.DB
	holder  string
	clock   Clock
	maxWait time.Duration
	log     *slog.Logger
}

// NewRunner returns a Runner over db, which must hold the job_leases table.
func NewRunner(db *sql.DB, opts Options) *Runner {
	if opts.Holder == "" {
		host, _ := os.Hostname()
		opts.Holder = host + ":" + strconv.Itoa(os.Getpid())
	}
	if len(opts.Holder) > 200 {
		opts.Holder = opts.Holder[:200]
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Runner{db: db, holder: opts.Holder, clock: opts.Clock, maxWait: opts.MaxWait, log: opts.Logger}
}

// ErrBadJob reports a job Run cannot schedule.
var ErrBadJob = errors.New("cluster: bad job")

// Run runs jobs until ctx ends, each in a goroutine of its own, and returns when all of
// them have stopped (a running job's context is cancelled). A job whose lease is due when
// Run starts (or has no lease yet) runs at once.
func (r *Runner) Run(ctx context.Context, jobs ...Job) error {
	names := make(map[string]bool, len(jobs))
	for _, j := range jobs {
		switch {
		case j.Name == "" || len(j.Name) > 100:
			return fmt.Errorf("%w: name %q must have 1 to 100 bytes", ErrBadJob, j.Name)
		case names[j.Name]:
			return fmt.Errorf("%w: %q twice", ErrBadJob, j.Name)
		case j.Every <= 0:
			return fmt.Errorf("%w: %q needs a positive period", ErrBadJob, j.Name)
		case j.Run == nil:
			return fmt.Errorf("%w: %q has no Run function", ErrBadJob, j.Name)
		}
		names[j.Name] = true
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() { r.loop(ctx, j) })
	}
	wg.Wait()
	return nil
}

func (r *Runner) loop(ctx context.Context, job Job) {
	for ctx.Err() == nil {
		wait := r.round(ctx, job)
		select {
		case <-ctx.Done():
			return
		case <-r.clock.After(wait):
		}
	}
}

// retryAfterError is the pause after a failed look at a lease (database unreachable).
const retryAfterError = 10 * time.Second

// round claims the job's current round if it is due and nobody else has, runs it if
// claimed, and returns how long to sleep before the next look.
func (r *Runner) round(ctx context.Context, job Job) time.Duration {
	now := r.clock.Now()
	won, err := r.claim(ctx, job.Name, now, job.Every)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("cluster: cannot claim job", "job", job.Name, "err", err)
		}
		return min(retryAfterError, r.maxWait)
	}
	next := now.Add(job.Every)
	if won {
		r.run(ctx, job)
	} else if next, err = r.nextRun(ctx, job.Name); err != nil {
		if ctx.Err() == nil {
			r.log.Warn("cluster: cannot read job lease", "job", job.Name, "err", err)
		}
		return min(retryAfterError, r.maxWait)
	}
	wait := next.Sub(r.clock.Now())
	if wait <= 0 && !won {
		// Due, yet another instance holds the round: its clock runs ahead of ours.
		wait = time.Second
	}
	return min(max(wait, 0), r.maxWait)
}

// claimSQL moves the job's lease to the next round if the current one is due, creating
// the lease on first use: one statement, so of several instances claiming the same round
// at once exactly one changes the row (PostgreSQL re-checks the WHERE on the locked row;
// SQLite runs writers one at a time). It is the same text on SQLite and PostgreSQL.
const claimSQL = `INSERT INTO job_leases (name, holder, next_run_at, last_run_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, next_run_at = excluded.next_run_at, last_run_at = excluded.last_run_at
WHERE job_leases.next_run_at <= excluded.last_run_at`

// claim reports whether this instance won the round of job due at now.
func (r *Runner) claim(ctx context.Context, name string, now time.Time, every time.Duration) (bool, error) {
	now = dbTime(now)
	res, err := r.db.ExecContext(ctx, claimSQL, name, r.holder, dbTime(now.Add(every)), now)
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", name, err)
	}
	return n == 1, nil
}

// dbTime is t as stored: UTC (SQLite compares the text the driver writes, which orders
// correctly only within one zone) to the microsecond (PostgreSQL's precision).
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func (r *Runner) nextRun(ctx context.Context, name string) (time.Time, error) {
	var next time.Time
	err := r.db.QueryRowContext(ctx, `SELECT next_run_at FROM job_leases WHERE name = $1`, name).Scan(&next)
	if err != nil {
		return time.Time{}, fmt.Errorf("read lease %s: %w", name, err)
	}
	return next, nil
}

// run runs one round of job, logging its failure.
func (r *Runner) run(ctx context.Context, job Job) {
	timeout := job.Timeout
	if timeout <= 0 {
		timeout = job.Every
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("cluster: job panicked", "job", job.Name, "panic", p, "stack", string(debug.Stack()))
		}
	}()
	if err := job.Run(ctx); err != nil {
		r.log.Error("cluster: job failed", "job", job.Name, "err", err)
	}
}
