package series

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/fault"
)

// Page sizes of Values.
const (
	DefaultPageSize = 100
	MaxPageSize     = 10000
)

// MaxSeriesPoints bounds the maxPoints argument of Series.
const MaxSeriesPoints = 100000

// Every read below is keyed by resource_id and a "timestamp" range, so it runs on the
// (resource_id, timestamp) index; TestQueriesUseIndex checks the plans on both databases.
// Integers are formatted into the SQL (typed int64, never user text) so that the same
// text is valid on both databases and PostgreSQL plans with the actual bounds.

const valueColumns = `id, "timestamp", num, text, data, content_type`

// LastValue returns the newest value of seq, or nil when it has none.
func LastValue(ctx context.Context, client *ent.Client, seq *ent.Resource) (*Value, error) {
	if err := requireSequence(seq); err != nil {
		return nil, err
	}
	vs, err := queryValues(ctx, client, lastValueSQL(seq.ID))
	if err != nil {
		return nil, fmt.Errorf("last value of %s: %w", seq.Path, err)
	}
	if len(vs) == 0 {
		return nil, nil
	}
	return &vs[0], nil
}

func lastValueSQL(rid int) string {
	return fmt.Sprintf(`SELECT %s FROM revisions WHERE resource_id = %d ORDER BY "timestamp" DESC, id DESC LIMIT 1`, valueColumns, rid)
}

// PageQuery selects a page of values in [From, To) (nil: unbounded), Relay style:
// First (with After) pages forward, Last (with Before) backward; neither means
// First = DefaultPageSize.
type PageQuery struct {
	From, To      *time.Time
	First, Last   int
	After, Before string
}

// Page is a page of values in time order.
type Page struct {
	Values          []Value
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     string // "" when Values is empty
	EndCursor       string
}

// pageWindow is a page query in stored units.
type pageWindow struct {
	rid           int
	lo, hi        int64   // "timestamp" range [lo, hi)
	after, before *cursor // exclusive keyset bounds
}

func (w pageWindow) where() string {
	s := fmt.Sprintf(`resource_id = %d AND "timestamp" >= (%d) AND "timestamp" < (%d)`, w.rid, w.lo, w.hi)
	if w.after != nil {
		s += fmt.Sprintf(` AND ("timestamp" > (%d) OR id > %d)`, w.after.ts, w.after.id)
	}
	if w.before != nil {
		s += fmt.Sprintf(` AND ("timestamp" < (%d) OR id < %d)`, w.before.ts, w.before.id)
	}
	return s
}

func pageSQL(w pageWindow, desc bool, limit int) string {
	order := `"timestamp", id`
	if desc {
		order = `"timestamp" DESC, id DESC`
	}
	return fmt.Sprintf(`SELECT %s FROM revisions WHERE %s ORDER BY %s LIMIT %d`, valueColumns, w.where(), order, limit)
}

func existsSQL(w pageWindow) string {
	return fmt.Sprintf(`SELECT id FROM revisions WHERE %s LIMIT 1`, w.where())
}

// Values returns a page of seq's values in time order with opaque cursors (Cursor).
func Values(ctx context.Context, client *ent.Client, seq *ent.Resource, q PageQuery) (*Page, error) {
	if err := requireSequence(seq); err != nil {
		return nil, err
	}
	switch {
	case q.First < 0 || q.Last < 0:
		return nil, fault.New(fault.BadInput, "first and last must not be negative")
	case q.First > 0 && q.Last > 0:
		return nil, fault.New(fault.BadInput, "give first or last, not both")
	case q.First > MaxPageSize || q.Last > MaxPageSize:
		return nil, fault.New(fault.BadInput, "at most %d values per page", MaxPageSize)
	case q.First == 0 && q.Last == 0:
		q.First = DefaultPageSize
	}
	lo, hi := bounds(q.From, q.To)
	w := pageWindow{rid: seq.ID, lo: lo, hi: hi}
	if q.After != "" {
		c, err := decodeCursor(q.After)
		if err != nil {
			return nil, err
		}
		w.after, w.lo = &c, max(w.lo, c.ts)
	}
	if q.Before != "" {
		c, err := decodeCursor(q.Before)
		if err != nil {
			return nil, err
		}
		w.before = &c
		if c.ts < w.hi {
			w.hi = c.ts + 1
		}
	}
	backward := q.Last > 0
	n := max(q.First, q.Last)
	vs, err := queryValues(ctx, client, pageSQL(w, backward, n+1))
	if err != nil {
		return nil, fmt.Errorf("values of %s: %w", seq.Path, err)
	}
	p := &Page{}
	more := len(vs) > n
	if more {
		vs = vs[:n]
	}
	if backward {
		slices.Reverse(vs)
		p.HasPreviousPage = more
		if w.before != nil {
			// Is there anything at or after the before cursor, inside [From, To)?
			rest := pageWindow{rid: seq.ID, lo: w.before.ts, hi: hi, after: &cursor{ts: w.before.ts, id: w.before.id - 1}}
			if p.HasNextPage, err = exists(ctx, client, rest); err != nil {
				return nil, fmt.Errorf("values of %s: %w", seq.Path, err)
			}
		}
	} else {
		p.HasNextPage = more
		if w.after != nil {
			prior := pageWindow{rid: seq.ID, lo: lo, hi: w.after.ts + 1, before: &cursor{ts: w.after.ts, id: w.after.id + 1}}
			if p.HasPreviousPage, err = exists(ctx, client, prior); err != nil {
				return nil, fmt.Errorf("values of %s: %w", seq.Path, err)
			}
		}
	}
	p.Values = vs
	if len(vs) > 0 {
		p.StartCursor, p.EndCursor = Cursor(vs[0]), Cursor(vs[len(vs)-1])
	}
	return p, nil
}

func exists(ctx context.Context, q queryer, w pageWindow) (bool, error) {
	if w.lo >= w.hi {
		return false, nil
	}
	rows, err := q.QueryContext(ctx, existsSQL(w))
	if err != nil {
		return false, fmt.Errorf("query: %w", err)
	}
	found := rows.Next()
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return false, fmt.Errorf("query: %w", err)
	}
	return found, nil
}

func queryValues(ctx context.Context, q queryer, query string) ([]Value, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []Value
	for rows.Next() {
		var (
			v     Value
			ts    int64
			num   sql.NullFloat64
			text  sql.NullString
			ctype sql.NullString
		)
		if err := rows.Scan(&v.ID, &ts, &num, &text, &v.Data, &ctype); err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		v.Time = TimeOf(ts)
		if num.Valid {
			v.Num = &num.Float64
		}
		if text.Valid {
			v.Text = &text.String
		}
		v.ContentType = ctype.String
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rows: %w", err)
	}
	return out, nil
}

// Bucket summarises the values of a numeric sequence in [Start, End).
type Bucket struct {
	Start, End time.Time
	Count      int64
	Min, Max   float64
	Mean       float64
}

// Series downsamples seq's values in [from, to) (nil: from the first / to after the last
// value) into at most maxPoints buckets of equal width, aggregated in the database:
// from the widest rollup that fits the bucket width, plus the raw values at the edges
// that rollup buckets only partly cover; from the raw values when buckets are narrower
// than the narrowest rollup. Empty buckets are left out. Widths that use rollups are
// whole multiples of the rollup width and start on a rollup boundary, so the bucket count
// can be below maxPoints.
func Series(ctx context.Context, client *ent.Client, seq *ent.Resource, from, to *time.Time, maxPoints int) ([]Bucket, error) {
	if err := requireNumeric(seq); err != nil {
		return nil, err
	}
	if maxPoints < 1 || maxPoints > MaxSeriesPoints {
		return nil, fault.New(fault.BadInput, "maxPoints must be between 1 and %d", MaxSeriesPoints)
	}
	lo, hi := bounds(from, to)
	if from == nil || to == nil {
		first, last, ok, err := extent(ctx, client, seq.ID)
		if err != nil || !ok {
			return nil, wrapf(err, "series of %s", seq.Path)
		}
		if from == nil {
			lo = first
		}
		if to == nil {
			hi = last + 1
		}
	}
	if lo >= hi {
		return nil, nil
	}
	return runPlan(ctx, client, seq, planSeries(seq.ID, lo, hi, maxPoints))
}

// SeriesAligned is Series with buckets exactly width wide from from, when a rollup fits:
// width a whole multiple of a rollup width and from on that rollup's boundary, at most
// MaxSeriesPoints buckets. ok false: no rollup fits (the caller reduces raw values).
func SeriesAligned(ctx context.Context, client *ent.Client, seq *ent.Resource, from, to time.Time, width time.Duration) (out []Bucket, ok bool, err error) {
	if err := requireNumeric(seq); err != nil {
		return nil, false, err
	}
	lo, hi := bounds(&from, &to)
	w := width.Microseconds()
	if w <= 0 || hi <= lo || (hi-lo)/w >= MaxSeriesPoints {
		return nil, false, nil
	}
	for _, s := range RollupSeconds {
		r := s * 1e6
		if w%r != 0 || lo%r != 0 {
			continue
		}
		p := seriesPlan{rid: seq.ID, lo: lo, hi: hi, origin: lo, width: w, rollup: s, inLo: lo, inHi: alignDown(hi, r)}
		if p.inLo >= p.inHi {
			p.rollup = 0
		}
		out, err := runPlan(ctx, client, seq, p)
		return out, err == nil, err
	}
	return nil, false, nil
}

func runPlan(ctx context.Context, client *ent.Client, seq *ent.Resource, plan seriesPlan) ([]Bucket, error) {
	lo, hi := plan.lo, plan.hi
	acc := map[int64]*rollupAgg{}
	for _, query := range plan.queries() {
		if err := accumulate(ctx, client, query, acc); err != nil {
			return nil, fmt.Errorf("series of %s: %w", seq.Path, err)
		}
	}
	ks := make([]int64, 0, len(acc))
	for k := range acc {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	out := make([]Bucket, len(ks))
	for i, k := range ks {
		a := acc[k]
		start := plan.origin + k*plan.width
		out[i] = Bucket{
			Start: TimeOf(max(start, lo)), End: TimeOf(min(start+plan.width, hi)),
			Count: a.count, Min: a.min, Max: a.max, Mean: a.sum / float64(a.count),
		}
	}
	return out, nil
}

// seriesPlan is how Series computes buckets of width µs starting at origin + k*width.
type seriesPlan struct {
	rid           int
	lo, hi        int64
	origin, width int64
	rollup        int64 // rollup bucket seconds; 0: raw values only
	inLo, inHi    int64 // rollup buckets in [inLo, inHi); raw values outside
}

func planSeries(rid int, lo, hi int64, maxPoints int) seriesPlan {
	span := hi - lo
	w := span / int64(maxPoints)
	if span%int64(maxPoints) != 0 {
		w++
	}
	p := seriesPlan{rid: rid, lo: lo, hi: hi, origin: lo, width: max(w, 1)}
	for _, s := range RollupSeconds {
		r := s * 1e6
		if r > w {
			continue
		}
		// Buckets start on a rollup boundary and are whole rollups wide, so every rollup
		// row falls into exactly one bucket; one extra rollup of width absorbs the
		// alignment of origin below lo.
		p.rollup = s
		p.width = alignUp(w, r)
		p.origin = alignDown(lo, r)
		if (hi-p.origin+p.width-1)/p.width > int64(maxPoints) {
			p.width += r
		}
		p.inLo, p.inHi = alignUp(lo, r), alignDown(hi, r)
		if p.inLo >= p.inHi {
			p.rollup = 0
		}
		break
	}
	return p
}

func (p seriesPlan) queries() []string {
	raw := func(a, b int64) string {
		return fmt.Sprintf(`SELECT ("timestamp" - (%d)) / %d AS k, count(*), sum(num), min(num), max(num)
 FROM revisions WHERE resource_id = %d AND "timestamp" >= (%d) AND "timestamp" < (%d) AND num IS NOT NULL
 GROUP BY k`, p.origin, p.width, p.rid, a, b)
	}
	if p.rollup == 0 {
		return []string{raw(p.lo, p.hi)}
	}
	qs := []string{fmt.Sprintf(`SELECT (bucket_start - (%d)) / %d AS k, sum("count"), sum("sum"), min("min"), max("max")
 FROM rollups WHERE resource_id = %d AND bucket_seconds = %d AND bucket_start >= (%d) AND bucket_start < (%d)
 GROUP BY k`, p.origin, p.width, p.rid, p.rollup, p.inLo, p.inHi)}
	if p.lo < p.inLo {
		qs = append(qs, raw(p.lo, p.inLo))
	}
	if p.inHi < p.hi {
		qs = append(qs, raw(p.inHi, p.hi))
	}
	return qs
}

func accumulate(ctx context.Context, q queryer, query string, acc map[int64]*rollupAgg) error {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var k, n int64
		var s, lo, hi float64
		if err := rows.Scan(&k, &n, &s, &lo, &hi); err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		if a := acc[k]; a != nil {
			a.count += n
			a.sum += s
			a.min = min(a.min, lo)
			a.max = max(a.max, hi)
		} else {
			acc[k] = &rollupAgg{count: n, sum: s, min: lo, max: hi}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read rows: %w", err)
	}
	return nil
}

func firstTsSQL(rid int, desc bool) string {
	order := `"timestamp"`
	if desc {
		order += " DESC"
	}
	return fmt.Sprintf(`SELECT "timestamp" FROM revisions WHERE resource_id = %d ORDER BY %s LIMIT 1`, rid, order)
}

// extent returns the first and last stored timestamps of a sequence (two index probes:
// SQLite optimises a lone min() or max(), not both in one query).
func extent(ctx context.Context, q queryer, rid int) (first, last int64, ok bool, err error) {
	if first, ok, err = scanOneInt(ctx, q, firstTsSQL(rid, false)); err != nil || !ok {
		return 0, 0, false, err
	}
	if last, _, err = scanOneInt(ctx, q, firstTsSQL(rid, true)); err != nil {
		return 0, 0, false, err
	}
	return first, last, true, nil
}

func scanOneInt(ctx context.Context, q queryer, query string) (int64, bool, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return 0, false, fmt.Errorf("query: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var v int64
	if !rows.Next() {
		return 0, false, wrapf(rows.Err(), "read rows")
	}
	if err := rows.Scan(&v); err != nil {
		return 0, false, fmt.Errorf("scan: %w", err)
	}
	return v, true, nil
}

// Point is one numeric value: µs since 1970 UTC and the number.
type Point struct {
	Micros int64
	Value  float64
}

// ReadChunk is the number of points ReadNumeric hands to its callback at a time.
const ReadChunk = 8192

func readChunkSQL(rid int, lo, hi int64, after *cursor, limit int) string {
	w := pageWindow{rid: rid, lo: lo, hi: hi, after: after}
	return fmt.Sprintf(`SELECT id, "timestamp", num FROM revisions WHERE %s AND num IS NOT NULL ORDER BY "timestamp", id LIMIT %d`,
		w.where(), limit)
}

// ReadNumeric streams the numeric values of seq in [from, to) (nil: unbounded) in
// time order to fn, ReadChunk points at a time, for the das stream endpoint. Each chunk
// is one short keyset query, so memory stays bounded and no read transaction is held
// while fn writes to a slow client. fn must not keep the slice; returning an error stops
// the read and is returned wrapped.
func ReadNumeric(ctx context.Context, client *ent.Client, seq *ent.Resource, from, to *time.Time, fn func(chunk []Point) error) error {
	if err := requireNumeric(seq); err != nil {
		return err
	}
	lo, hi := bounds(from, to)
	buf := make([]Point, 0, ReadChunk)
	var after *cursor
	for {
		buf = buf[:0]
		NumericChunkQueries.Add(1)
		last, err := readChunk(ctx, client, readChunkSQL(seq.ID, lo, hi, after, ReadChunk), &buf)
		if err != nil {
			return fmt.Errorf("read %s: %w", seq.Path, err)
		}
		if len(buf) > 0 {
			if err := fn(buf); err != nil {
				return fmt.Errorf("read %s: %w", seq.Path, err)
			}
		}
		if len(buf) < ReadChunk {
			return nil
		}
		after, lo = &last, last.ts
	}
}

func readChunk(ctx context.Context, q queryer, query string, buf *[]Point) (cursor, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return cursor{}, fmt.Errorf("query: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var c cursor
	var v float64
	for rows.Next() {
		if err := rows.Scan(&c.id, &c.ts, &v); err != nil {
			return cursor{}, fmt.Errorf("scan: %w", err)
		}
		*buf = append(*buf, Point{Micros: c.ts, Value: v})
	}
	return c, wrapf(rows.Err(), "read rows")
}
