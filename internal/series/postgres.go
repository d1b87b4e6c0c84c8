package series

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"weak"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/rhizoflex/rhizoflex/ent"
)

// pgNumericChunk bounds the rows of one PostgreSQL revision statement (about 40 bytes of
// SQL each).
const pgNumericChunk = 10000

var errDialectProbe = errors.New("dialect probe")

// pgClients caches isPostgres per client; an entry goes when its client is collected.
var pgClients sync.Map // weak.Pointer[ent.Client] -> bool

// isPostgres reports whether c talks to PostgreSQL, without a round trip: ent hands the
// query's selector, which knows the dialect, to the predicate, and the error the
// predicate adds stops the query before it reaches the database. The answer is cached,
// since building the probe costs microseconds a single-value SQLite update would feel.
func isPostgres(ctx context.Context, c *ent.Client) bool {
	k := weak.Make(c)
	if v, ok := pgClients.Load(k); ok {
		return v.(bool) //nolint:forcetypeassert // only bools are stored
	}
	var d string
	_, _ = c.Resource.Query().Where(func(s *entsql.Selector) {
		d = s.Dialect()
		s.AddError(errDialectProbe)
	}).All(ctx)
	pg := d == dialect.Postgres
	if d != "" {
		if _, loaded := pgClients.LoadOrStore(k, pg); !loaded {
			runtime.AddCleanup(c, func(k weak.Pointer[ent.Client]) { pgClients.Delete(k) }, k)
		}
	}
	return pg
}

// storeNumericPostgres inserts the numeric rows, upserts their rollups and advances
// last_revision_at of the sequences ids (sorted) in one simple-protocol round trip: one
// script of statements that carry the columns as array literals expanded by unnest, so
// the server parses a few constants instead of a VALUES list of thousands of
// expressions. The statements run in the same order as on SQLite (rollup keys and ids
// sorted), which keeps concurrent writers from deadlocking. Only strconv and time
// formatting reach the SQL text.
func storeNumericPostgres(ctx context.Context, q queryer, nums []row, ids []int, latest map[int]int64) error {
	var b strings.Builder
	b.Grow(256 + 48*len(nums) + 64*len(ids))
	for start := 0; start < len(nums); start += pgNumericChunk {
		chunk := nums[start:min(start+pgNumericChunk, len(nums))]
		b.WriteString(`INSERT INTO revisions (resource_id, "timestamp", num, size) SELECT r, t, n, 8 FROM unnest(`)
		pgArray(&b, len(chunk), func(i int) { litInt(&b, int64(chunk[i].rid)) }, "bigint")
		b.WriteByte(',')
		pgArray(&b, len(chunk), func(i int) { litInt(&b, chunk[i].ts) }, "bigint")
		b.WriteByte(',')
		pgArray(&b, len(chunk), func(i int) { litFloat(&b, chunk[i].num) }, "float8")
		b.WriteString(") AS u(r, t, n);\n")
	}
	keys, aggs := aggregate(nums)
	if len(keys) > 0 {
		b.WriteString(`INSERT INTO rollups (resource_id, bucket_seconds, bucket_start, "count", "sum", "min", "max") SELECT * FROM unnest(`)
		pgArray(&b, len(keys), func(i int) { litInt(&b, int64(keys[i].rid)) }, "bigint")
		b.WriteByte(',')
		pgArray(&b, len(keys), func(i int) { litInt(&b, keys[i].seconds) }, "bigint")
		b.WriteByte(',')
		pgArray(&b, len(keys), func(i int) { litInt(&b, keys[i].start) }, "bigint")
		b.WriteByte(',')
		pgArray(&b, len(keys), func(i int) { litInt(&b, aggs[i].count) }, "bigint")
		b.WriteByte(',')
		pgArray(&b, len(keys), func(i int) { litFloat(&b, aggs[i].sum) }, "float8")
		b.WriteByte(',')
		pgArray(&b, len(keys), func(i int) { litFloat(&b, aggs[i].min) }, "float8")
		b.WriteByte(',')
		pgArray(&b, len(keys), func(i int) { litFloat(&b, aggs[i].max) }, "float8")
		b.WriteString(")")
		b.WriteString(rollupConflict)
		b.WriteString(";\n")
	}
	for _, id := range ids {
		t := pgTimestamp(latest[id])
		b.WriteString(`UPDATE resources SET last_revision_at = `)
		b.WriteString(t)
		b.WriteString(` WHERE id = `)
		litInt(&b, int64(id))
		b.WriteString(` AND (last_revision_at IS NULL OR last_revision_at < `)
		b.WriteString(t)
		b.WriteString(");\n")
	}
	if b.Len() == 0 {
		return nil
	}
	if _, err := q.ExecContext(ctx, b.String()); err != nil {
		return fmt.Errorf("store %d numeric values, %d rollups and the last revision time of %d sequences: %w",
			len(nums), len(keys), len(ids), err)
	}
	return nil
}

// pgArray writes a typed PostgreSQL array literal of n elements, each written by elem.
func pgArray(b *strings.Builder, n int, elem func(i int), typ string) {
	b.WriteString(`'{`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		elem(i)
	}
	b.WriteString(`}'::`)
	b.WriteString(typ)
	b.WriteString(`[]`)
}

// pgTimestamp is the timestamptz literal of a stored timestamp (years 1 to 9999, µs).
func pgTimestamp(micros int64) string {
	return "'" + TimeOf(micros).Format("2006-01-02 15:04:05.999999") + "+00'::timestamptz"
}
