package series

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// RollupSeconds are the bucket widths of the rollups kept for numeric sequences, widest
// first. Series reads the widest one that fits its bucket width.
var RollupSeconds = []int64{86400, 3600, 60}

type rollupKey struct {
	rid     int
	seconds int64
	start   int64
}

type rollupAgg struct {
	count         int64
	sum, min, max float64
}

// aggregate folds numeric rows into one aggregate per rollup bucket, in key order.
func aggregate(rows []row) ([]rollupKey, []rollupAgg) {
	if len(rows) == 0 {
		return nil, nil
	}
	m := map[rollupKey]*rollupAgg{}
	for _, r := range rows {
		for _, s := range RollupSeconds {
			k := rollupKey{rid: r.rid, seconds: s, start: alignDown(r.ts, s*1e6)}
			a := m[k]
			if a == nil {
				m[k] = &rollupAgg{count: 1, sum: r.num, min: r.num, max: r.num}
				continue
			}
			a.count++
			a.sum += r.num
			a.min = min(a.min, r.num)
			a.max = max(a.max, r.num)
		}
	}
	keys := make([]rollupKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b rollupKey) int {
		return cmp.Or(cmp.Compare(a.rid, b.rid), cmp.Compare(a.seconds, b.seconds), cmp.Compare(a.start, b.start))
	})
	aggs := make([]rollupAgg, len(keys))
	for i, k := range keys {
		aggs[i] = *m[k]
	}
	return keys, aggs
}

// rollupConflict adds an inserted aggregate to the stored one of its bucket. The CASE
// expressions do what min()/max() (SQLite) and LEAST/GREATEST (PostgreSQL) do, in SQL
// both accept.
const rollupConflict = ` ON CONFLICT (resource_id, bucket_seconds, bucket_start) DO UPDATE SET
 "count" = rollups."count" + excluded."count",
 "sum" = rollups."sum" + excluded."sum",
 "min" = CASE WHEN excluded."min" < rollups."min" THEN excluded."min" ELSE rollups."min" END,
 "max" = CASE WHEN excluded."max" > rollups."max" THEN excluded."max" ELSE rollups."max" END`

// upsertRollups adds the aggregates to the stored rollups, one statement per chunk (the
// SQLite path; PostgreSQL uses storeNumericPostgres).
func upsertRollups(ctx context.Context, q queryer, keys []rollupKey, aggs []rollupAgg) error {
	var b strings.Builder
	for start := 0; start < len(keys); start += rollupChunk {
		end := min(start+rollupChunk, len(keys))
		b.Reset()
		b.WriteString(`INSERT INTO rollups (resource_id, bucket_seconds, bucket_start, "count", "sum", "min", "max") VALUES `)
		for i := start; i < end; i++ {
			if i > start {
				b.WriteByte(',')
			}
			k, a := keys[i], aggs[i]
			b.WriteByte('(')
			litInt(&b, int64(k.rid))
			b.WriteByte(',')
			litInt(&b, k.seconds)
			b.WriteByte(',')
			litInt(&b, k.start)
			b.WriteByte(',')
			litInt(&b, a.count)
			b.WriteByte(',')
			litFloat(&b, a.sum)
			b.WriteByte(',')
			litFloat(&b, a.min)
			b.WriteByte(',')
			litFloat(&b, a.max)
			b.WriteByte(')')
		}
		b.WriteString(rollupConflict)
		if _, err := q.ExecContext(ctx, b.String()); err != nil {
			return fmt.Errorf("upsert %d rollups: %w", end-start, err)
		}
	}
	return nil
}

// rebuildRollups recomputes, from the stored values, every rollup bucket that overlaps
// [lo, hi) of sequence rid (lo and hi are stored timestamps, so nothing overflows): after a delete, the buckets inside the range vanish and the
// partly covered ones at its edges are recomputed.
func rebuildRollups(ctx context.Context, q queryer, rid int, lo, hi int64) error {
	if lo >= hi {
		return nil
	}
	for _, s := range RollupSeconds {
		w := s * 1e6
		a, b := alignDown(lo, w), alignUp(hi, w)
		if _, err := q.ExecContext(ctx,
			`DELETE FROM rollups WHERE resource_id = $1 AND bucket_seconds = $2 AND bucket_start >= $3 AND bucket_start < $4`,
			rid, s, a, b); err != nil {
			return fmt.Errorf("delete rollups: %w", err)
		}
		var sb strings.Builder
		// Only literals from strconv: the bucket expression must read the same in the
		// select list and GROUP BY on PostgreSQL, which parameters would not.
		fmt.Fprintf(&sb, `INSERT INTO rollups (resource_id, bucket_seconds, bucket_start, "count", "sum", "min", "max")
 SELECT %d, %d, (%d) + g.k * %d, g.c, g.s, g.mn, g.mx FROM (
  SELECT ("timestamp" - (%d)) / %d AS k, count(*) AS c, sum(num) AS s, min(num) AS mn, max(num) AS mx
  FROM revisions WHERE resource_id = %d AND "timestamp" >= (%d) AND "timestamp" < (%d) AND num IS NOT NULL
  GROUP BY ("timestamp" - (%d)) / %d) g`, rid, s, a, w, a, w, rid, a, b, a, w)
		if _, err := q.ExecContext(ctx, sb.String()); err != nil {
			return fmt.Errorf("rebuild %d s rollups: %w", s, err)
		}
	}
	return nil
}
