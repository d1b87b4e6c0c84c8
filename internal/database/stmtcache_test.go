package database_test

import (
	"fmt"
	"testing"

	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
)

// Cached statements give the same answers as fresh ones: the same query text with other
// arguments, the same text again while its rows are still open (nested, in one
// transaction, so on one connection; SQLite only) and more distinct texts than a
// connection keeps.
func TestStatementCacheAnswersLikeFreshStatements(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		tx, err := db.SQL.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback() }()
		if _, err := tx.ExecContext(ctx, `CREATE TABLE cache_probe (id integer PRIMARY KEY, v text NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO cache_probe (id, v) VALUES ($1, $2)`, i, fmt.Sprint("v", i)); err != nil {
				t.Fatal(err)
			}
		}
		const q = `SELECT v FROM cache_probe WHERE id >= $1 ORDER BY id`
		nested := db.Dialect == "sqlite" // lib/pq reads one result at a time per connection
		outer, err := tx.QueryContext(ctx, q, 18)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for outer.Next() {
			var v string
			if err := outer.Scan(&v); err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
			if !nested {
				continue
			}
			// The same text while the outer rows are open: its own statement.
			inner, err := tx.QueryContext(ctx, q, 19)
			if err != nil {
				t.Fatal(err)
			}
			for inner.Next() {
				var w string
				if err := inner.Scan(&w); err != nil {
					t.Fatal(err)
				}
				got = append(got, "inner:"+w)
			}
			if err := inner.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if err := outer.Close(); err != nil {
			t.Fatal(err)
		}
		want := "[v18 inner:v19 v19 inner:v19]"
		if !nested {
			want = "[v18 v19]"
		}
		if fmt.Sprint(got) != want {
			t.Fatalf("nested use of one statement: %v, want %s", got, want)
		}
		// More distinct texts than a connection keeps, each asked twice.
		for round := range 2 {
			for i := range 300 {
				var v string
				if err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT v FROM cache_probe WHERE id = $1 AND %d = %d`, i, i), i%20).Scan(&v); err != nil {
					t.Fatal(err)
				}
				if v != fmt.Sprint("v", i%20) {
					t.Fatalf("round %d query %d: %s", round, i, v)
				}
			}
		}
	})
}

// Outside a transaction the pool's connections each keep their statements; reads of the
// same text with different arguments see their own arguments, and a failing statement
// does not disturb the next ones.
func TestStatementCacheAcrossPool(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		for i := range 200 {
			var n int
			if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE id > $1`, -i).Scan(&n); err != nil {
				t.Fatal(err)
			}
			var s string
			if err := db.SQL.QueryRowContext(ctx, `SELECT CAST($1 AS text) || 'x'`, fmt.Sprint(i)).Scan(&s); err != nil {
				t.Fatal(err)
			}
			if s != fmt.Sprint(i, "x") {
				t.Fatalf("query %d answered %q", i, s)
			}
			if err := db.SQL.QueryRowContext(ctx, `SELECT id FROM no_such_table WHERE id = $1`, i).Scan(&n); err == nil {
				t.Fatal("a query of a missing table answered")
			}
		}
	})
}

// Cached statements hold no read transaction between uses: SQLite can still checkpoint
// the whole WAL (a statement left unreset would pin it and let the WAL grow).
func TestStatementCacheLeavesNoReadTransactionOpen(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	ctx := t.Context()
	if _, err := db.SQL.ExecContext(ctx, `CREATE TABLE wal_probe (id integer PRIMARY KEY, v text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if _, err := db.SQL.ExecContext(ctx, `INSERT INTO wal_probe (id, v) VALUES ($1, $2)`, i, "x"); err != nil {
			t.Fatal(err)
		}
		var v string
		if err := db.SQL.QueryRowContext(ctx, `SELECT v FROM wal_probe WHERE id = $1`, i).Scan(&v); err != nil {
			t.Fatal(err)
		}
		rows, err := db.SQL.QueryContext(ctx, `SELECT id FROM wal_probe WHERE id <= $1`, i)
		if err != nil {
			t.Fatal(err)
		}
		rows.Next() // read one row only, then close
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if err := db.SQL.QueryRowContext(ctx, `SELECT v FROM wal_probe WHERE id = $1`, -1).Scan(&v); err == nil {
			t.Fatal("a missing row was found")
		}
	}
	var busy, logFrames, checkpointed int
	if err := db.SQL.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed); err != nil {
		t.Fatal(err)
	}
	if busy != 0 || logFrames != 0 {
		t.Fatalf("checkpoint blocked: busy %d, %d frames in the WAL, %d checkpointed", busy, logFrames, checkpointed)
	}
}
