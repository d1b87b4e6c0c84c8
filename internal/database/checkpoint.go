package database

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"
)

// SQLite in WAL mode copies the log back into the database file (a checkpoint) when the
// log passes wal_autocheckpoint pages, and it does so inside the commit that crossed the
// mark: that commit, and every write waiting behind SQLite's one writer, waits for the
// copy and its fsync. Under a steady write load that is a stall every fraction of a
// second (docs/BENCHMARKS.md: p99 of paced single writes 10.3–10.9 ms with it, 6.2–6.5 ms
// with the checkpoints in the background). So commits checkpoint only when the log is
// large (wal_autocheckpoint 10000 pages, about 40 MB: a safety net), and a goroutine
// checkpoints on a pooled connection every checkpointEvery; PASSIVE does not wait for
// readers or block writers.

// checkpointEvery is how often the background checkpointer runs.
const checkpointEvery = 500 * time.Millisecond

// checkpointer runs PRAGMA wal_checkpoint(PASSIVE) on pool until stopped.
type checkpointer struct {
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func startCheckpointer(pool *sql.DB) *checkpointer {
	c := &checkpointer{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
			}
			if err := checkpoint(pool); err != nil {
				slog.Warn("database: background WAL checkpoint failed; commits checkpoint when the log is large",
					"err", err)
			}
		}
	}()
	return c
}

func checkpoint(pool *sql.DB) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var busy, logPages, copied int
	// The three columns: 1 if it could not run (busy), WAL pages, pages copied.
	return pool.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logPages, &copied)
}

// Stop ends the checkpointer and waits for a checkpoint in progress.
func (c *checkpointer) Stop() {
	if c == nil {
		return
	}
	c.once.Do(func() {
		close(c.stop)
		<-c.done
	})
}
