package database_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
)

// Commits do not copy the WAL back into a SQLite file; the background checkpointer does,
// within a second or so, and closing the database stops it.
func TestSQLiteCheckpointsInTheBackground(t *testing.T) {
	url := dbtest.URL(t, "sqlite")
	file := strings.TrimPrefix(url, "sqlite:")
	db, err := database.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() }) // when the test stops before its own Close
	ctx := t.Context()
	if _, err := db.SQL.ExecContext(ctx, `CREATE TABLE ckpt (id integer PRIMARY KEY, v text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	// About 2 MB in 20 commits: far below the 40 MB at which a commit checkpoints itself.
	// Each write waits out the ticks it can (checking the file right after the writes
	// would race with a checkpoint already running).
	payload := strings.Repeat("x", 1000)
	for c := range 20 {
		tx, err := db.SQL.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO ckpt (id, v) VALUES ($1, $2)`, c*100+i, payload); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	size := func() int64 {
		st, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	deadline := time.Now().Add(10 * time.Second)
	for size() < 2_000_000 {
		if time.Now().After(deadline) {
			t.Fatalf("the database file holds %d bytes 10 s after 2 MB were committed: nothing checkpointed the WAL", size())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var n int
	if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM ckpt`).Scan(&n); err != nil || n != 2000 {
		t.Fatalf("rows after the checkpoint: %d, %v; want 2000", n, err)
	}
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return: the checkpointer did not stop")
	}
}
