package database

import (
	"context"
	"database/sql/driver"
	"sync"
	"time"
)

// SQLite has one writer, and every rhizoflex transaction on SQLite begins IMMEDIATE (it
// takes the write lock at BEGIN). A transaction that finds the lock taken waits in
// SQLite's busy handler, which sleeps 1, 2, 5, 10 ms and more between tries: with a few
// writers at once the lock sat free for milliseconds while they slept (4 clients
// uploading batches got no more through than one). The write gate queues a process's
// transactions in Go instead, and hands the lock over the moment it is released. Other
// processes on the same file, and statements outside transactions, still meet the busy
// handler as before.

// gateWait bounds the wait at the gate; then BEGIN goes ahead and SQLite's busy timeout
// (10 s) decides, as without the gate. So a transaction opened while the same goroutine
// holds another (which would wait on itself) fails as it did before, not forever.
const gateWait = 10 * time.Second

// writeGate admits one transaction at a time.
type writeGate struct{ slot chan struct{} }

func newWriteGate() *writeGate { return &writeGate{slot: make(chan struct{}, 1)} }

// enter waits for the gate; false when it gave up (gateWait) without entering. It fails
// only when ctx ends.
func (g *writeGate) enter(ctx context.Context) (bool, error) {
	select {
	case g.slot <- struct{}{}:
		return true, nil
	default:
	}
	t := time.NewTimer(gateWait)
	defer t.Stop()
	select {
	case g.slot <- struct{}{}:
		return true, nil
	case <-t.C:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

func (g *writeGate) leave() { <-g.slot }

// gatedTx leaves the gate when the transaction ends.
type gatedTx struct {
	driver.Tx
	once  sync.Once
	leave func()
}

func (t *gatedTx) Commit() error {
	defer t.done()
	return t.Tx.Commit() //nolint:wrapcheck // the driver's error
}

func (t *gatedTx) Rollback() error {
	defer t.done()
	return t.Tx.Rollback() //nolint:wrapcheck // the driver's error
}

func (t *gatedTx) done() { t.once.Do(t.leave) }
