package series

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lib/pq"

	"github.com/rhizoflex/rhizoflex/ent"
)

// ServerTime returns the time the server gives a value stored without one: the wall
// clock in microseconds, but never the same microsecond twice in this process, so two
// values written at once are two values, not one replacing the other.
func ServerTime() time.Time { return TimeOf(serverClock.next()) }

var serverClock monotonicMicros

// monotonicMicros hands out strictly increasing microsecond timestamps that follow the
// wall clock.
type monotonicMicros struct{ last atomic.Int64 }

func (c *monotonicMicros) next() int64 {
	now := time.Now().UnixMicro()
	for {
		last := c.last.Load()
		ts := max(now, last+1)
		if c.last.CompareAndSwap(last, ts) {
			return ts
		}
	}
}

// lastWins keeps, of rows with the same (sequence, timestamp), only the last one: what
// storing them one after the other would leave. The order of the kept rows is kept.
func lastWins(rows []row) []row {
	type key struct {
		rid int
		ts  int64
	}
	if increasing(rows) {
		return rows // the usual upload: each sequence's times rise, so none repeats
	}
	var seen map[key]int
	dup := false
	for i, r := range rows {
		if !r.given {
			continue
		}
		if seen == nil {
			seen = make(map[key]int, len(rows))
		}
		k := key{r.rid, r.ts}
		if _, ok := seen[k]; ok {
			dup = true
		}
		seen[k] = i
	}
	if !dup {
		return rows
	}
	kept := rows[:0:0]
	for i, r := range rows {
		if r.given && seen[key{r.rid, r.ts}] != i {
			continue
		}
		kept = append(kept, r)
	}
	return kept
}

// span is a range [lo, hi] of stored timestamps of one sequence.
type span struct {
	rid    int
	lo, hi int64
}

// deleteReplaced deletes the stored values that rows with a given time replace, in one
// statement, and returns per sequence the span of replaced timestamps (whose rollups
// must be recomputed). Rows with server times cannot collide and are not looked up, nor
// are rows newer than their sequence's newest stored value (last_revision_at, as read
// with the sequence), so appending pays nothing. If a concurrent writer stored a later
// value meanwhile, a row at exactly its time meets the unique index and the write fails
// with CONFLICT: never a value stored twice.
func deleteReplaced(ctx context.Context, q queryer, rows []row, seqs map[int]*ent.Resource, pg bool) ([]span, error) {
	var given []row
	for _, r := range rows {
		if !r.given {
			continue
		}
		if s := seqs[r.rid]; s != nil && (s.LastRevisionAt == nil || r.ts > Micros(*s.LastRevisionAt)) {
			continue // after everything stored: nothing to replace
		}
		given = append(given, r)
	}
	if len(given) == 0 {
		return nil, nil
	}
	byRID := map[int]*span{}
	for start := 0; start < len(given); start += numericChunk {
		chunk := given[start:min(start+numericChunk, len(given))]
		if err := deleteChunk(ctx, q, chunk, pg, byRID); err != nil {
			return nil, err
		}
	}
	out := make([]span, 0, len(byRID))
	for _, s := range byRID {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b span) int { return a.rid - b.rid })
	return out, nil
}

// deleteChunk deletes the stored values at the keys of chunk and adds what it deleted to
// byRID. PostgreSQL gets the keys as two array literals (cheap to parse), SQLite as a
// VALUES list of row values.
func deleteChunk(ctx context.Context, q queryer, chunk []row, pg bool, byRID map[int]*span) error {
	var b strings.Builder
	b.Grow(96 + 32*len(chunk))
	if pg {
		b.WriteString(`DELETE FROM revisions r USING unnest(`)
		pgArray(&b, len(chunk), func(i int) { litInt(&b, int64(chunk[i].rid)) }, "bigint")
		b.WriteByte(',')
		pgArray(&b, len(chunk), func(i int) { litInt(&b, chunk[i].ts) }, "bigint")
		b.WriteString(`) AS u(rid, ts) WHERE r.resource_id = u.rid AND r."timestamp" = u.ts RETURNING r.resource_id, r."timestamp"`)
	} else {
		b.WriteString(`DELETE FROM revisions WHERE (resource_id, "timestamp") IN (VALUES `)
		for i, r := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			litInt(&b, int64(r.rid))
			b.WriteByte(',')
			litInt(&b, r.ts)
			b.WriteByte(')')
		}
		b.WriteString(`) RETURNING resource_id, "timestamp"`)
	}
	rs, err := q.QueryContext(ctx, b.String())
	if err != nil {
		return fmt.Errorf("replace stored values: %w", err)
	}
	for rs.Next() {
		var rid int
		var ts int64
		if err := rs.Scan(&rid, &ts); err != nil {
			_ = rs.Close()
			return fmt.Errorf("replace stored values: %w", err)
		}
		if s := byRID[rid]; s != nil {
			s.lo, s.hi = min(s.lo, ts), max(s.hi, ts)
		} else {
			byRID[rid] = &span{rid: rid, lo: ts, hi: ts}
		}
	}
	if err := errors.Join(rs.Err(), rs.Close()); err != nil {
		return fmt.Errorf("replace stored values: %w", err)
	}
	return nil
}

// rebuildReplaced recomputes the rollups over each span of replaced values: store added
// the new values to them, but the replaced ones are still counted there.
func rebuildReplaced(ctx context.Context, q queryer, spans []span) error {
	for _, s := range spans {
		if err := rebuildRollups(ctx, q, s.rid, s.lo, s.hi+1); err != nil {
			return err
		}
	}
	return nil
}

// isUniqueViolation reports whether err is a unique-constraint violation on either
// database.
func isUniqueViolation(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// increasing reports whether the given times of each sequence rise strictly in the order
// of rows (then no time repeats).
func increasing(rows []row) bool {
	last := map[int]int64{}
	for _, r := range rows {
		if !r.given {
			continue
		}
		if t, ok := last[r.rid]; ok && r.ts <= t {
			return false
		}
		last[r.rid] = r.ts
	}
	return true
}
