//go:build ignore

// plan writes a new versioned migration for each dialect when the ent schema has changed:
//
//	go run ent/migrate/plan.go [NAME]
//
// SQLite is planned against an in-memory database; PostgreSQL against a throw-away database
// on RHIZOFLEX_DEV_POSTGRES (default postgres://127.0.0.1:5432/test?sslmode=disable).
// Existing files are replayed first, so only the difference is written.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"net/url"
	"os"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"

	"github.com/rhizoflex/rhizoflex/ent/migrate"
)

func main() {
	name := "change"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	ctx := context.Background()
	if err := plan(ctx, dialect.SQLite, "sqlite", "file:plan?mode=memory&cache=shared&_pragma=foreign_keys(1)", "ent/migrate/migrations/sqlite", name); err != nil {
		log.Fatalf("plan sqlite: %v", err)
	}
	pgURL := os.Getenv("RHIZOFLEX_DEV_POSTGRES")
	if pgURL == "" {
		pgURL = "postgres://127.0.0.1:5432/test?sslmode=disable"
	}
	admin, err := sql.Open("postgres", pgURL)
	if err != nil {
		log.Fatalf("plan postgres: %v", err)
	}
	defer admin.Close()
	devDB := fmt.Sprintf("rf_plan_%d", time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+devDB); err != nil {
		log.Fatalf("plan postgres: create dev database: %v", err)
	}
	defer admin.ExecContext(ctx, "DROP DATABASE "+devDB)
	devURL, err := url.Parse(pgURL)
	if err != nil {
		log.Fatalf("plan postgres: %v", err)
	}
	devURL.Path = "/" + devDB
	if err := plan(ctx, dialect.Postgres, "postgres", devURL.String(), "ent/migrate/migrations/postgres", name); err != nil {
		log.Fatalf("plan postgres: %v", err)
	}
}

func plan(ctx context.Context, dialectName, driver, dsn, dirPath, name string) error {
	pool, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	pool.SetMaxOpenConns(1)
	dir, err := atlasmigrate.NewLocalDir(dirPath)
	if err != nil {
		return err
	}
	m := migrate.NewSchema(entsql.OpenDB(dialectName, pool))
	return m.NamedDiff(ctx, name,
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(dialectName),
		schema.WithFormatter(atlasmigrate.DefaultFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
	)
}
