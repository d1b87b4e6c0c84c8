package series

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
)

// ReadChunk is the number of points ReadNumeric hands to its callback at a time.
const ReadChunk = 8192

// Parallel reading: ReadNumeric cuts a long range into windows of about windowPoints
// values (planned from the hourly rollup counts) and reads up to readWorkers windows at
// once, each on its own connection, handing the chunks to its callback in time order.
// Decoding rows is the cost of a das stream (the database's per-row work, not the
// writer's), so a second core doubles it.
const (
	windowPoints  = 8 * ReadChunk
	planBucketSec = 3600
	maxReadWorker = 4
)

// readChunkSQL selects the next chunk of numeric values in [lo, hi). A sequence has at
// most one value per timestamp (the unique index on resource_id, "timestamp"), so the
// timestamp alone is the keyset and the index gives the order without a sort.
func readChunkSQL(rid int, lo, hi int64, limit int) string {
	return fmt.Sprintf(`SELECT "timestamp", num FROM revisions WHERE resource_id = %d AND "timestamp" >= (%d) AND "timestamp" < (%d) AND num IS NOT NULL ORDER BY "timestamp" LIMIT %d`,
		rid, lo, hi, limit)
}

// planSQL counts the values per hour in [lo, hi) from the rollups.
func planSQL(rid int, lo, hi int64) string {
	if lo > math.MinInt64+planBucketSec*1e6 { // aligning the unbounded start would overflow
		lo = alignDown(lo, planBucketSec*1e6)
	}
	return fmt.Sprintf(`SELECT bucket_start, "count" FROM rollups WHERE resource_id = %d AND bucket_seconds = %d AND bucket_start >= (%d) AND bucket_start < (%d) ORDER BY bucket_start`,
		rid, planBucketSec, lo, hi)
}

// ReadNumeric streams the numeric values of seq in [from, to) (nil: unbounded) in
// time order to fn, at most ReadChunk points at a time, for the das stream endpoint. Each
// chunk is one short keyset query, so no read transaction is held while fn writes to a
// slow client, and memory stays bounded (a few chunks per reading worker). Chunks are
// read ahead while fn handles earlier ones. fn must not keep the slice; returning an error
// stops the read and is returned wrapped. When ctx ends, the queries in flight are
// canceled and ReadNumeric returns ctx's error.
func ReadNumeric(ctx context.Context, client *ent.Client, seq *ent.Resource, from, to *time.Time, fn func(chunk []Point) error) error {
	if err := requireNumeric(seq); err != nil {
		return err
	}
	lo, hi := bounds(from, to)
	windows, err := planWindows(ctx, client, seq.ID, lo, hi, windowPoints)
	if err != nil {
		return fmt.Errorf("read %s: %w", seq.Path, err)
	}
	if err := readWindows(ctx, client, seq.ID, windows, fn); err != nil {
		return fmt.Errorf("read %s: %w", seq.Path, err)
	}
	return nil
}

// window is a part [lo, hi) of the requested range and the chunks read from it, in order.
type window struct {
	lo, hi int64
	chunks chan readResult
}

type readResult struct {
	points []Point
	err    error
}

// planWindows cuts [lo, hi) into contiguous windows of about target values by the
// hourly rollup counts. The rollups only shape the plan: the windows always cover the
// whole range, so values the rollups do not count yet are still read.
func planWindows(ctx context.Context, q queryer, rid int, lo, hi, target int64) ([]window, error) {
	rows, err := q.QueryContext(ctx, planSQL(rid, lo, hi))
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var windows []window
	start, inWindow := lo, int64(0)
	var bucket int64
	var count int64
	for rows.Next() {
		if err := rows.Scan((*int64Col)(&bucket), (*int64Col)(&count)); err != nil {
			return nil, fmt.Errorf("plan: %w", err)
		}
		if inWindow >= target && bucket > start {
			windows = append(windows, window{lo: start, hi: bucket})
			start, inWindow = bucket, 0
		}
		inWindow += count
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	return append(windows, window{lo: start, hi: hi}), nil
}

// readWindows reads the windows with up to maxReadWorker workers (never more than the
// cores) and hands their chunks to fn in window order.
func readWindows(ctx context.Context, q queryer, rid int, windows []window, fn func([]Point) error) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }() // every reader has stopped when this returns
	workers := min(len(windows), max(2, min(runtime.GOMAXPROCS(0), maxReadWorker)))
	// ordered holds the windows handed out, oldest first; its capacity bounds how far
	// the readers run ahead of fn.
	ordered := make(chan *window, workers)
	work := make(chan *window)
	pool := sync.Pool{New: func() any { return make([]Point, 0, ReadChunk) }}
	wg.Go(func() {
		defer close(ordered)
		defer close(work)
		for i := range windows {
			w := &windows[i]
			w.chunks = make(chan readResult, 2)
			select {
			case ordered <- w:
			case <-ctx.Done():
				return
			}
			select {
			case work <- w:
			case <-ctx.Done():
				return
			}
		}
	})
	for range workers {
		wg.Go(func() {
			for w := range work {
				readWindow(ctx, q, rid, w, &pool)
			}
		})
	}
	for w := range ordered {
		for c := range w.chunks {
			if c.err != nil {
				return c.err
			}
			if err := fn(c.points); err != nil {
				return err
			}
			pool.Put(c.points[:0]) //nolint:staticcheck // a slice header; the backing array is what is reused
		}
	}
	return ctx.Err()
}

// readWindow reads w in chunks into w.chunks and closes it.
func readWindow(ctx context.Context, q queryer, rid int, w *window, pool *sync.Pool) {
	defer close(w.chunks)
	lo := w.lo
	for {
		buf := pool.Get().([]Point)[:0]
		NumericChunkQueries.Add(1)
		err := readChunk(ctx, q, readChunkSQL(rid, lo, w.hi, ReadChunk), &buf)
		if err == nil && len(buf) == 0 {
			return
		}
		select {
		case w.chunks <- readResult{buf, err}:
		case <-ctx.Done():
			return
		}
		if err != nil || len(buf) < ReadChunk {
			return
		}
		lo = buf[len(buf)-1].Micros + 1
	}
}

// readChunk appends the rows of query ("timestamp", num) to buf. The columns are scanned
// through sql.Scanner types: database/sql's generic conversion goes through reflection,
// which cost more than the driver's own decoding here.
func readChunk(ctx context.Context, q queryer, query string, buf *[]Point) error {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var p Point
	ts, num := (*int64Col)(&p.Micros), (*float64Col)(&p.Value)
	for rows.Next() {
		if err := rows.Scan(ts, num); err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		*buf = append(*buf, p)
	}
	return wrapf(rows.Err(), "read rows")
}

// int64Col scans an integer column without reflection.
type int64Col int64

func (c *int64Col) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*c = int64Col(v)
	case []byte:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return fmt.Errorf("integer column: %w", err)
		}
		*c = int64Col(n)
	default:
		return fmt.Errorf("integer column holds %T", src)
	}
	return nil
}

// float64Col scans a floating-point column without reflection.
type float64Col float64

func (c *float64Col) Scan(src any) error {
	switch v := src.(type) {
	case float64:
		*c = float64Col(v)
	case int64:
		*c = float64Col(v)
	case []byte:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return fmt.Errorf("number column: %w", err)
		}
		*c = float64Col(f)
	default:
		return fmt.Errorf("number column holds %T", src)
	}
	return nil
}
