package database_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
)

func openSQLiteFile(t *testing.T) *database.DB {
	t.Helper()
	db := dbtest.OpenEmpty(t, "sqlite")
	for _, q := range []string{`CREATE TABLE counter (id integer PRIMARY KEY, n integer NOT NULL)`, `INSERT INTO counter (id, n) VALUES (1, 0)`} {
		if _, err := db.SQL.ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// Many writers at once on SQLite: every read-modify-write transaction commits, none is
// lost and none fails busy.
func TestSQLiteWritersQueueAtTheGate(t *testing.T) {
	db := openSQLiteFile(t)
	ctx := t.Context()
	const writers, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for range writers {
		wg.Go(func() {
			for range each {
				if err := increment(ctx, db.SQL); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a writer failed: %v", err)
	}
	var n int
	if err := db.SQL.QueryRowContext(ctx, `SELECT n FROM counter WHERE id = 1`).Scan(&n); err != nil || n != writers*each {
		t.Fatalf("counter = %d (%v), want %d", n, err, writers*each)
	}
}

// A rolled-back or committed transaction opens the gate for the next at once; a writer
// waiting at the gate gives up when its context ends; read-only transactions do not queue.
func TestSQLiteGateOpensAndGivesUp(t *testing.T) {
	db := openSQLiteFile(t)
	ctx := t.Context()
	for _, end := range []string{"rollback", "commit"} {
		tx, err := db.SQL.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if end == "rollback" {
			err = tx.Rollback()
		} else {
			err = tx.Commit()
		}
		if err != nil {
			t.Fatal(err)
		}
		quick, cancel := context.WithTimeout(ctx, 2*time.Second)
		next, err := db.SQL.BeginTx(quick, nil)
		cancel()
		if err != nil {
			t.Fatalf("after a %s the next transaction did not begin: %v", end, err)
		}
		_ = next.Rollback()
	}

	held, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = held.Rollback() }()
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = db.SQL.BeginTx(short, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("a writer behind a held transaction: %v after %v; want the context's deadline", err, time.Since(start))
	}
	ro, err := db.SQL.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatalf("a read-only transaction behind a writer: %v", err)
	}
	var n int
	if err := ro.QueryRowContext(ctx, `SELECT n FROM counter WHERE id = 1`).Scan(&n); err != nil {
		t.Fatalf("read in a read-only transaction: %v", err)
	}
	_ = ro.Rollback()
}

func increment(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT n FROM counter WHERE id = 1`).Scan(&n); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE counter SET n = $1 WHERE id = 1`, n+1); err != nil {
		return err
	}
	return tx.Commit()
}
