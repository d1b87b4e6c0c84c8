package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"entgo.io/ent/dialect"

	"github.com/rhizoflex/rhizoflex/ent/migrate/migrations"
)

// migrationTable records which migration files have been applied.
const migrationTable = "rhizoflex_schema_migrations"

// advisoryLockID serialises migrations between several instances on PostgreSQL.
const advisoryLockID = 7_233_114_059

// Migrate applies the embedded migrations for the database's dialect. Applying twice is a
// no-op. It returns the versions it applied.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	sub := "sqlite"
	if db.Dialect == dialect.Postgres {
		sub = "postgres"
	}
	dir, err := fs.Sub(migrations.FS, sub)
	if err != nil {
		return nil, fmt.Errorf("migrations for %s: %w", sub, err)
	}
	return ApplyMigrations(ctx, db.SQL, db.Dialect, dir)
}

// ApplyMigrations applies the Atlas-format migration directory dir (with atlas.sum, checked
// before anything runs; see migrate_files.go) to pool. Each file runs in its own transaction. On SQLite, foreign keys are switched off on
// the connection before BEGIN (a PRAGMA inside a transaction is a no-op, and a table
// rebuild would otherwise cascade into child rows), checked with foreign_key_check before
// COMMIT, and switched back on afterwards.
func ApplyMigrations(ctx context.Context, pool *sql.DB, dialectName string, dir fs.FS) ([]string, error) {
	files, err := loadDir(dir)
	if err != nil {
		return nil, err
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: get connection: %w", err)
	}
	defer func() { _ = conn.Close() }()

	if dialectName == dialect.Postgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", advisoryLockID); err != nil {
			return nil, fmt.Errorf("migrate: take advisory lock: %w", err)
		}
		defer func() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", advisoryLockID)
		}()
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+migrationTable+
		` (version VARCHAR(64) PRIMARY KEY, description VARCHAR(255) NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`); err != nil {
		return nil, fmt.Errorf("migrate: create %s: %w", migrationTable, err)
	}
	done, err := appliedVersions(ctx, conn)
	if err != nil {
		return nil, err
	}
	var applied []string
	for _, f := range files {
		if done[f.version()] {
			continue
		}
		if err := applyFile(ctx, conn, dialectName, f); err != nil {
			return applied, err
		}
		slog.DebugContext(ctx, "migration applied", "version", f.version(), "description", f.desc())
		applied = append(applied, f.version())
	}
	return applied, nil
}

func appliedVersions(ctx context.Context, conn *sql.Conn) (map[string]bool, error) {
	rows, err := conn.QueryContext(ctx, "SELECT version FROM "+migrationTable)
	if err != nil {
		return nil, fmt.Errorf("migrate: read %s: %w", migrationTable, err)
	}
	defer func() { _ = rows.Close() }()
	done := map[string]bool{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("migrate: scan version: %w", err)
		}
		done[v] = true
	}
	return done, rows.Err()
}

// ErrForeignKeyViolation is returned when a migration leaves rows that break a foreign key.
var ErrForeignKeyViolation = errors.New("migration leaves foreign key violations")

func applyFile(ctx context.Context, conn *sql.Conn, dialectName string, f migrationFile) (err error) {
	stmts, err := splitStatements(string(f.data))
	if err != nil {
		return fmt.Errorf("migrate %s: split statements: %w", f.name, err)
	}
	sqlite := dialectName == dialect.SQLite
	if sqlite {
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
			return fmt.Errorf("migrate %s: foreign keys off: %w", f.name, err)
		}
		defer func() {
			if _, onErr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = on"); onErr != nil && err == nil {
				err = fmt.Errorf("migrate %s: foreign keys on: %w", f.name, onErr)
			}
		}()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate %s: begin: %w", f.name, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	for i, stmt := range stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migrate %s: statement %d: %w", f.name, i+1, err)
		}
	}
	if sqlite {
		if err := checkForeignKeys(ctx, tx); err != nil {
			return fmt.Errorf("migrate %s: %w", f.name, err)
		}
	}
	insert := "INSERT INTO " + migrationTable + " (version, description) VALUES (?, ?)"
	if dialectName == dialect.Postgres {
		insert = "INSERT INTO " + migrationTable + " (version, description) VALUES ($1, $2)"
	}
	if _, err := tx.ExecContext(ctx, insert, f.version(), f.desc()); err != nil {
		return fmt.Errorf("migrate %s: record version: %w", f.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate %s: commit: %w", f.name, err)
	}
	return nil
}

func checkForeignKeys(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return fmt.Errorf("foreign_key_check: %w", err)
	}
	defer func() { _ = rows.Close() }()
	if rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fkid int
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return fmt.Errorf("foreign_key_check: %w", err)
		}
		return fmt.Errorf("%w: table %s row %d references missing %s", ErrForeignKeyViolation, table, rowid.Int64, parent)
	}
	return rows.Err()
}
