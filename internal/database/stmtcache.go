package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"reflect"
	"strings"
)

// The statement cache: every pooled connection keeps the statements it prepared for
// parameterized queries and reuses them when the same query text comes again. The hot
// paths (looking a resource up by path, a key by hash, the grants of a resource) are a
// handful of query texts with different arguments; without the cache SQLite parses each
// one on every call (the largest single CPU item of a single-value write) and PostgreSQL
// (lib/pq) spends a round trip preparing it. Queries without arguments (the literal
// multi-row statements of the ingest path) and scripts are not cached.

// maxCachedStmts bounds the statements one connection keeps; past it the cache starts over.
const maxCachedStmts = 128

// maxCachedQuery is the longest query text cached (longer ones are generated batches).
const maxCachedQuery = 4096

// cachingConnector opens connections of drv that cache their statements.
type cachingConnector struct {
	drv  driver.Driver
	dsn  string
	conn driver.Connector // drv's own connector, when it has one
	gate *writeGate       // SQLite: transactions queue here (writegate.go)
}

func newCachingConnector(drv driver.Driver, dsn string, gate *writeGate) (*cachingConnector, error) {
	c := &cachingConnector{drv: drv, dsn: dsn, gate: gate}
	if dc, ok := drv.(driver.DriverContext); ok {
		conn, err := dc.OpenConnector(dsn)
		if err != nil {
			return nil, err //nolint:wrapcheck // the caller wraps
		}
		c.conn = conn
	}
	return c, nil
}

func (c *cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	var conn driver.Conn
	var err error
	if c.conn != nil {
		conn, err = c.conn.Connect(ctx)
	} else {
		conn, err = c.drv.Open(c.dsn)
	}
	if err != nil {
		return nil, err //nolint:wrapcheck // database/sql reports it as the driver's
	}
	return &cachingConn{Conn: conn, stmts: map[string]*cachedStmt{}, gate: c.gate}, nil
}

func (c *cachingConnector) Driver() driver.Driver { return c.drv }

// cachingConn is one connection with its statements. database/sql uses a connection from
// one goroutine at a time, so it needs no lock.
type cachingConn struct {
	driver.Conn
	stmts map[string]*cachedStmt
	gate  *writeGate
}

type cachedStmt struct {
	stmt driver.Stmt
	busy bool // rows of it are open: a second use at once gets its own statement
	gone bool // evicted while busy: close when its rows close
}

var (
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
	_ driver.NamedValueChecker  = (*cachingConn)(nil)
)

func cacheable(query string, args []driver.NamedValue) bool {
	return len(args) > 0 && len(query) <= maxCachedQuery && !strings.Contains(query, ";")
}

// stmt returns the cached statement of query, preparing it on first use; nil when it is
// in use (the caller runs the query uncached).
func (c *cachingConn) stmt(ctx context.Context, query string) (*cachedStmt, error) {
	if s := c.stmts[query]; s != nil {
		if s.busy {
			return nil, nil
		}
		return s, nil
	}
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if len(c.stmts) >= maxCachedStmts {
		c.evictAll()
	}
	s := &cachedStmt{stmt: st}
	c.stmts[query] = s
	return s, nil
}

func (c *cachingConn) evictAll() {
	for q, s := range c.stmts {
		if s.busy {
			s.gone = true
		} else {
			_ = s.stmt.Close()
		}
		delete(c.stmts, q)
	}
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if cacheable(query, args) {
		s, err := c.stmt(ctx, query)
		if err != nil {
			return nil, err
		}
		if s != nil {
			if sq, ok := s.stmt.(driver.StmtQueryContext); ok {
				rows, err := sq.QueryContext(ctx, args)
				if err != nil {
					return nil, err //nolint:wrapcheck // the driver's error, as without the cache
				}
				s.busy = true
				return &cachedRows{Rows: rows, s: s}, nil
			}
		}
	}
	if q, ok := c.Conn.(driver.QueryerContext); ok {
		return q.QueryContext(ctx, query, args) //nolint:wrapcheck // as without the cache
	}
	return nil, driver.ErrSkip
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if cacheable(query, args) {
		s, err := c.stmt(ctx, query)
		if err != nil {
			return nil, err
		}
		if s != nil {
			if se, ok := s.stmt.(driver.StmtExecContext); ok {
				return se.ExecContext(ctx, args) //nolint:wrapcheck // as without the cache
			}
		}
	}
	if e, ok := c.Conn.(driver.ExecerContext); ok {
		return e.ExecContext(ctx, query, args) //nolint:wrapcheck // as without the cache
	}
	return nil, driver.ErrSkip
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query) //nolint:wrapcheck // the driver's error
	}
	return c.Prepare(query) //nolint:wrapcheck // the driver's error
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.gate == nil || opts.ReadOnly { // a read-only one begins DEFERRED: no write lock
		return c.begin(ctx, opts)
	}
	entered, err := c.gate.enter(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := c.begin(ctx, opts)
	if !entered {
		return tx, err
	}
	if err != nil {
		c.gate.leave()
		return nil, err
	}
	return &gatedTx{Tx: tx, leave: c.gate.leave}, nil
}

func (c *cachingConn) begin(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts) //nolint:wrapcheck // the driver's error
	}
	return c.Begin() //nolint:wrapcheck,staticcheck // drivers without BeginTx
}

func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx) //nolint:wrapcheck // the driver's error
	}
	return nil
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx) //nolint:wrapcheck // the driver's error
	}
	return nil
}

func (c *cachingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *cachingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if v, ok := c.Conn.(driver.NamedValueChecker); ok {
		return v.CheckNamedValue(nv) //nolint:wrapcheck // the driver's answer
	}
	return driver.ErrSkip
}

func (c *cachingConn) Close() error {
	var errs []error
	for q, s := range c.stmts {
		errs = append(errs, s.stmt.Close())
		delete(c.stmts, q)
	}
	errs = append(errs, c.Conn.Close())
	return errors.Join(errs...)
}

// cachedRows frees its statement for the next use when closed.
type cachedRows struct {
	driver.Rows
	s *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.s.busy = false
	if r.s.gone {
		err = errors.Join(err, r.s.stmt.Close())
	}
	return err //nolint:wrapcheck // the driver's error
}

// The column type interfaces of the driver's rows, with database/sql's answers where the
// driver has none.

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *cachedRows) ColumnTypeNullable(i int) (bool, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}
