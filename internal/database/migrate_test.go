package database_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"ariga.io/atlas/sql/migrate"
	entsql "entgo.io/ent/dialect/sql"

	entmigrate "github.com/rhizoflex/rhizoflex/ent/migrate"
	"github.com/rhizoflex/rhizoflex/ent/migrate/migrations"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
)

func TestMigrationsApplyFromEmptyAndTwiceIsNoOp(t *testing.T) {
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := t.Context()
			db := dbtest.OpenEmpty(t, d)
			applied, err := db.Migrate(ctx)
			if err != nil {
				t.Fatalf("first migrate: %v", err)
			}
			if len(applied) == 0 {
				t.Fatal("first migrate applied nothing on an empty database")
			}
			again, err := db.Migrate(ctx)
			if err != nil {
				t.Fatalf("second migrate: %v", err)
			}
			if len(again) != 0 {
				t.Fatalf("second migrate applied %v, want nothing", again)
			}
			// Drift: the schema the migrations built is exactly the ent schema.
			var buf bytes.Buffer
			if err := entmigrate.NewSchema(entsql.OpenDB(db.Dialect, db.SQL)).WriteTo(ctx, &buf); err != nil {
				t.Fatalf("schema diff: %v", err)
			}
			if diff := strings.TrimSpace(stripComments(buf.String())); diff != "" {
				t.Fatalf("migrations drift from the ent schema; run 'make generate':\n%s", diff)
			}
		})
	}
}

func stripComments(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		l := strings.TrimSpace(line)
		if l == "" || strings.HasPrefix(l, "--") || l == "BEGIN;" || l == "COMMIT;" {
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// migrationDir builds an Atlas-format directory (with a valid atlas.sum) in memory.
func migrationDir(t *testing.T, files map[string]string) fstest.MapFS {
	t.Helper()
	mem := migrate.OpenMemDir(t.Name())
	t.Cleanup(func() { _ = mem.Close() })
	fsys := fstest.MapFS{}
	for name, body := range files {
		if err := mem.WriteFile(name, []byte(body)); err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	sum, err := mem.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	b, err := sum.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	fsys[migrate.HashFileName] = &fstest.MapFile{Data: b}
	return fsys
}

// A table rebuild (how Atlas alters SQLite tables) must keep child foreign keys: with
// foreign keys on inside the transaction, DROP TABLE would run ON DELETE SET NULL.
func TestSQLiteTableRebuildKeepsForeignKeys(t *testing.T) {
	ctx := context.Background()
	db := dbtest.OpenEmpty(t, "sqlite")
	base := map[string]string{
		"1_base.sql": "CREATE TABLE parents (id integer PRIMARY KEY, name text NOT NULL);\n" +
			"CREATE TABLE children (id integer PRIMARY KEY, parent_id integer NULL REFERENCES parents (id) ON DELETE SET NULL);\n" +
			"INSERT INTO parents (id, name) VALUES (1, 'p');\n" +
			"INSERT INTO children (id, parent_id) VALUES (10, 1);\n",
	}
	if _, err := database.ApplyMigrations(ctx, db.SQL, db.Dialect, migrationDir(t, base)); err != nil {
		t.Fatalf("base: %v", err)
	}
	rebuild := map[string]string{
		"1_base.sql": base["1_base.sql"],
		"2_rebuild.sql": "PRAGMA foreign_keys = off;\n" +
			"CREATE TABLE new_parents (id integer PRIMARY KEY, name text NOT NULL, note text NULL);\n" +
			"INSERT INTO new_parents (id, name) SELECT id, name FROM parents;\n" +
			"DROP TABLE parents;\n" +
			"ALTER TABLE new_parents RENAME TO parents;\n" +
			"PRAGMA foreign_keys = on;\n",
	}
	applied, err := database.ApplyMigrations(ctx, db.SQL, db.Dialect, migrationDir(t, rebuild))
	if err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	if len(applied) != 1 || applied[0] != "2" {
		t.Fatalf("applied %v, want [2]", applied)
	}
	var parentID *int
	if err := db.SQL.QueryRowContext(ctx, "SELECT parent_id FROM children WHERE id = 10").Scan(&parentID); err != nil {
		t.Fatal(err)
	}
	if parentID == nil || *parentID != 1 {
		t.Fatalf("child lost its parent in the rebuild: parent_id = %v", parentID)
	}
	var fk int
	if err := db.SQL.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		t.Fatal(err)
	}
	if fk != 1 {
		t.Fatal("foreign keys were left off after migrating")
	}
}

func TestSQLiteMigrationWithDanglingReferenceIsRolledBack(t *testing.T) {
	ctx := context.Background()
	db := dbtest.OpenEmpty(t, "sqlite")
	dir := migrationDir(t, map[string]string{
		"1_bad.sql": "CREATE TABLE parents (id integer PRIMARY KEY);\n" +
			"CREATE TABLE children (id integer PRIMARY KEY, parent_id integer REFERENCES parents (id));\n" +
			"INSERT INTO children (id, parent_id) VALUES (1, 99);\n",
	})
	_, err := database.ApplyMigrations(ctx, db.SQL, db.Dialect, dir)
	if err == nil || !strings.Contains(err.Error(), "foreign key") {
		t.Fatalf("want a foreign key violation error, got %v", err)
	}
	var n int
	if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = 'children'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("the failed migration was not rolled back")
	}
}

func TestEditedMigrationIsRefused(t *testing.T) {
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) {
			db := dbtest.OpenEmpty(t, d)
			dir := migrationDir(t, map[string]string{"1_a.sql": "CREATE TABLE a (id integer PRIMARY KEY);\n"})
			dir["1_a.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE b (id integer PRIMARY KEY);\n")}
			_, err := database.ApplyMigrations(context.Background(), db.SQL, db.Dialect, dir)
			if err == nil || !strings.Contains(err.Error(), "atlas.sum") {
				t.Fatalf("want checksum error, got %v", err)
			}
		})
	}
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	for _, u := range []string{"mysql://x", "", "sqlite:"} {
		if _, err := database.Open(context.Background(), u); err == nil {
			t.Errorf("Open(%q) succeeded", u)
		}
	}
}

func TestRedactHidesPassword(t *testing.T) {
	got := database.Redact("postgres://u:secret@h/db")
	if strings.Contains(got, "secret") {
		t.Fatalf("password not redacted: %s", got)
	}
}

// The migration that makes (resource, timestamp) unique keeps the newest of duplicate
// values (what a repeated write now does) and rebuilds the rollups of the sequences it
// touched from the values that remain.
func TestUniqueRevisionMigrationDeduplicates(t *testing.T) {
	const uniqueMigration = "bus_jobs_unique_revisions"
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := t.Context()
			db := dbtest.OpenEmpty(t, d)
			sub := "sqlite"
			if d == "postgres" {
				sub = "postgres"
			}
			all, err := fs.ReadDir(migrations.FS, sub)
			if err != nil {
				t.Fatal(err)
			}
			before, later := map[string]string{}, false
			for _, e := range all {
				if !strings.HasSuffix(e.Name(), ".sql") {
					continue
				}
				if strings.Contains(e.Name(), uniqueMigration) {
					later = true
				}
				if later {
					continue
				}
				b, err := fs.ReadFile(migrations.FS, sub+"/"+e.Name())
				if err != nil {
					t.Fatal(err)
				}
				before[e.Name()] = string(b)
			}
			if !later {
				t.Fatalf("no migration named %s", uniqueMigration)
			}
			if _, err := database.ApplyMigrations(ctx, db.SQL, db.Dialect, migrationDir(t, before)); err != nil {
				t.Fatal(err)
			}
			org := db.Client.Organization.Create().SetName("lab").SaveX(ctx)
			folder := db.Client.Resource.Create().SetName("lab").SetPath("/lab").SetType("organization_folder").SetOrganizationID(org.ID).SaveX(ctx)
			seq := db.Client.Resource.Create().SetName("t").SetPath("/lab/t").SetType("sequence").SetParentID(folder.ID).SetOrganizationID(org.ID).SaveX(ctx)
			exec := func(q string) {
				t.Helper()
				if _, err := db.SQL.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			id := fmt.Sprint(seq.ID)
			// Two writes at µs 60,000,000 (the retry stored 5 again, then 7), one at 60,000,001.
			exec(`INSERT INTO revisions (resource_id, "timestamp", num, size) VALUES (` + id + `, 60000000, 5, 8), (` + id + `, 60000000, 7, 8), (` + id + `, 60000001, 1, 8)`)
			exec(`INSERT INTO rollups (resource_id, bucket_seconds, bucket_start, "count", "sum", "min", "max") VALUES (` + id + `, 60, 60000000, 3, 13, 1, 7), (` + id + `, 3600, 0, 3, 13, 1, 7), (` + id + `, 86400, 0, 3, 13, 1, 7)`)
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatalf("migrate over duplicates: %v", err)
			}
			var n int
			var sum float64
			if err := db.SQL.QueryRowContext(ctx, `SELECT count(*), sum(num) FROM revisions WHERE resource_id = `+id).Scan(&n, &sum); err != nil {
				t.Fatal(err)
			}
			if n != 2 || sum != 8 {
				t.Fatalf("after migration: %d values summing to %v, want 2 summing to 8 (newest duplicate kept)", n, sum)
			}
			rows, err := db.SQL.QueryContext(ctx, `SELECT bucket_seconds, bucket_start, "count", "sum", "min", "max" FROM rollups WHERE resource_id = `+id+` ORDER BY bucket_seconds`)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = rows.Close() }()
			var got []string
			for rows.Next() {
				var s, b, c int64
				var su, mi, ma float64
				if err := rows.Scan(&s, &b, &c, &su, &mi, &ma); err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%d@%d:%d/%g/%g/%g", s, b, c, su, mi, ma))
			}
			want := "60@60000000:2/8/1/7 3600@0:2/8/1/7 86400@0:2/8/1/7"
			if strings.Join(got, " ") != want {
				t.Fatalf("rollups %v, want %s", got, want)
			}
		})
	}
}
