// Package dbtest gives tests a fresh, migrated database on every dialect: a SQLite file in
// t.TempDir() and a PostgreSQL schema of its own on RHIZOFLEX_TEST_POSTGRES (default: the
// local server), dropped when the test ends. No mocks: real databases only.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/rhizoflex/rhizoflex/internal/database"
)

// DefaultPostgres is used when RHIZOFLEX_TEST_POSTGRES is unset.
const DefaultPostgres = "postgres://127.0.0.1:5432/test?sslmode=disable"

// PostgresURL is the PostgreSQL server the tests use.
func PostgresURL() string {
	if u := os.Getenv("RHIZOFLEX_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultPostgres
}

// Dialects are the subtest names Each runs.
var Dialects = []string{"sqlite", "postgres"}

// Each runs fn once per dialect as a subtest, each with a fresh migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a fresh migrated database of dialect d ("sqlite" or "postgres").
func Open(t testing.TB, d string) *database.DB {
	t.Helper()
	db := OpenEmpty(t, d)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db
}

// URL returns the database URL of a fresh, empty database of dialect d.
func URL(t testing.TB, d string) string {
	t.Helper()
	switch d {
	case "sqlite":
		return "sqlite:" + filepath.Join(t.TempDir(), "test.db")
	case "postgres":
		schema := NewSchema(t)
		u, err := url.Parse(PostgresURL())
		if err != nil {
			t.Fatalf("RHIZOFLEX_TEST_POSTGRES: %v", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	default:
		t.Fatalf("unknown dialect %q", d)
		return ""
	}
}

// OpenEmpty returns a fresh database of dialect d without migrating it.
func OpenEmpty(t testing.TB, d string) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), URL(t, d))
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// NewSchema creates a PostgreSQL schema with a random name and drops it after the test.
func NewSchema(t testing.TB) string {
	t.Helper()
	admin, err := sql.Open("postgres", PostgresURL())
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "rftest_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		_ = admin.Close()
		t.Fatalf("postgres at %s is required for tests (set RHIZOFLEX_TEST_POSTGRES): %v", database.Redact(PostgresURL()), err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
		_ = admin.Close()
	})
	return schema
}

// Instances opens n databases of dialect d on one fresh migrated database, each over its
// own pool, as n server instances would have. It also returns the database URL.
func Instances(t testing.TB, d string, n int) ([]*database.DB, string) {
	t.Helper()
	url := URL(t, d)
	dbs := make([]*database.DB, 0, n)
	for i := range n {
		db, err := database.Open(context.Background(), url)
		if err != nil {
			t.Fatalf("open %s: %v", d, err)
		}
		t.Cleanup(func() { _ = db.Close() })
		if i == 0 {
			if _, err := db.Migrate(context.Background()); err != nil {
				t.Fatalf("migrate %s: %v", d, err)
			}
		}
		dbs = append(dbs, db)
	}
	return dbs, url
}
