// Package database opens the rhizoflex database (embedded SQLite or PostgreSQL, chosen by
// the database URL), applies the versioned migrations and hands out the ent client.
// It may import ent, ent/migrate/migrations and the database drivers; nothing of ours above.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/lib/pq"  // PostgreSQL driver "postgres"
	_ "modernc.org/sqlite" // pure-Go SQLite driver "sqlite"

	"github.com/rhizoflex/rhizoflex/ent"
)

// DB is an open database: the raw pool, its dialect and the ent client over it.
type DB struct {
	SQL     *sql.DB
	Dialect string // dialect.SQLite or dialect.Postgres
	Client  *ent.Client

	checkpoints *checkpointer // SQLite: the background WAL checkpointer
}

// ErrBadURL reports a database URL rhizoflex cannot use.
var ErrBadURL = errors.New("bad database URL")

// sqlitePragmas are set on every SQLite connection: WAL for concurrent readers, foreign
// keys on, IMMEDIATE transactions so that two writers queue (at the write gate,
// writegate.go, and across processes on the generous busy timeout) instead of failing on
// a read-to-write lock upgrade, and checkpoints left to the background (checkpoint.go).
const sqlitePragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate" +
	"&_pragma=wal_autocheckpoint(10000)"

// Open connects to the database named by rawURL:
//
//	sqlite:PATH              a SQLite file (parent directories are created)
//	sqlite:file:NAME?...     a SQLite URI passed through (e.g. mode=memory)
//	postgres://... or postgresql://...   PostgreSQL through lib/pq
//
// It does not migrate; call Migrate.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	driverName, dsn, dialectName, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	probe, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialectName, err)
	}
	drvOf := probe.Driver()
	_ = probe.Close() // it never connected: only its driver is wanted
	var gate *writeGate
	if dialectName == dialect.SQLite {
		gate = newWriteGate()
	}
	connector, err := newCachingConnector(drvOf, dsn, gate)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialectName, err)
	}
	pool := sql.OpenDB(connector)
	if dialectName == dialect.SQLite {
		// One writer at a time anyway; a small pool keeps readers concurrent under WAL.
		pool.SetMaxOpenConns(8)
		pool.SetMaxIdleConns(8)
	} else {
		pool.SetMaxOpenConns(32)
		pool.SetMaxIdleConns(16)
		pool.SetConnMaxIdleTime(5 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.PingContext(pingCtx); err != nil {
		_ = pool.Close()
		return nil, fmt.Errorf("connect to %s database %s: %w", dialectName, Redact(rawURL), err)
	}
	drv := entsql.OpenDB(dialectName, pool)
	db := &DB{SQL: pool, Dialect: dialectName, Client: ent.NewClient(ent.Driver(drv))}
	if dialectName == dialect.SQLite {
		db.checkpoints = startCheckpointer(pool)
	}
	return db, nil
}

// Close closes the ent client and the pool.
func (db *DB) Close() error {
	db.checkpoints.Stop()
	if err := db.Client.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.SQL.PingContext(ctx) }

func parseURL(rawURL string) (driverName, dsn, dialectName string, err error) {
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		if _, err := url.Parse(rawURL); err != nil {
			return "", "", "", fmt.Errorf("%w: %w", ErrBadURL, err)
		}
		return "postgres", rawURL, dialect.Postgres, nil
	case strings.HasPrefix(rawURL, "sqlite:"):
		rest := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite:"), "//")
		if rest == "" {
			return "", "", "", fmt.Errorf("%w: %q names no SQLite file", ErrBadURL, rawURL)
		}
		if !strings.HasPrefix(rest, "file:") {
			if dir := filepath.Dir(rest); dir != "." {
				if err := os.MkdirAll(dir, 0o750); err != nil {
					return "", "", "", fmt.Errorf("create database directory: %w", err)
				}
			}
			rest = "file:" + rest
		}
		sep := "?"
		if strings.Contains(rest, "?") {
			sep = "&"
		}
		return "sqlite", rest + sep + sqlitePragmas, dialect.SQLite, nil
	default:
		return "", "", "", fmt.Errorf("%w: %q (use sqlite:PATH or postgres://...)", ErrBadURL, Redact(rawURL))
	}
}

// Redact hides the password of a database URL for logs and errors.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
