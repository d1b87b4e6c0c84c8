package series

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/account"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// benchBigEnv switches BenchmarkSeries to 10 M stored points (slow to load).
const benchBigEnv = "RHIZOFLEX_BENCH_BIG"

func benchDB(b *testing.B, d string, names ...string) (*database.DB, []*ent.Resource) {
	b.Helper()
	db := dbtest.Open(b, d)
	ctx := context.Background()
	if _, err := account.CreateOrganization(ctx, db.Client, "lab", ""); err != nil {
		b.Fatal(err)
	}
	seqs := make([]*ent.Resource, len(names))
	for i, n := range names {
		s, err := tree.Create(ctx, db.Client, tree.CreateParams{Path: "/lab/" + n, Type: tree.Sequence,
			SystemAttributes: tree.SequenceAttributes(tree.Numeric, "", 2)})
		if err != nil {
			b.Fatal(err)
		}
		seqs[i] = s
	}
	return db, seqs
}

func eachDialect(b *testing.B, fn func(b *testing.B, d string)) {
	for _, d := range dbtest.Dialects {
		b.Run(d, func(b *testing.B) { fn(b, d) })
	}
}

func BenchmarkUpdateMany1000(b *testing.B) {
	eachDialect(b, func(b *testing.B, d string) {
		db, seqs := benchDB(b, d, "s")
		ctx := context.Background()
		items := make([]Item, 1000)
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		n := 0
		b.ResetTimer()
		for b.Loop() {
			for i := range items {
				items[i] = Item{Resource: seqs[0], Value: float64(n % 1000), Time: new(t0.Add(time.Duration(n) * time.Second))}
				n++
			}
			if errs, err := UpdateMany(ctx, db.Client, items); err != nil {
				b.Fatal(errs, err)
			}
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "values/s")
	})
}

func BenchmarkUpdateConcurrent32(b *testing.B) {
	eachDialect(b, func(b *testing.B, d string) {
		names := make([]string, 32)
		for i := range names {
			names[i] = fmt.Sprintf("s%02d", i)
		}
		db, seqs := benchDB(b, d, names...)
		ctx := context.Background()
		var next atomic.Int64
		var mu sync.Mutex
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		start := time.Now()
		var wg sync.WaitGroup
		for w := range 32 {
			wg.Go(func() {
				var mine []time.Duration
				for {
					i := next.Add(1)
					if i > int64(b.N) {
						break
					}
					t := time.Now()
					if err := Update(ctx, db.Client, seqs[w], float64(i), nil); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(t))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		slices.Sort(lat)
		if len(lat) > 0 {
			b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
		}
	})
}

// loadPoints stores n numeric points 1 s apart from 2000-01-01 with one set-based INSERT
// and rebuilds the rollups, which is much faster than ingest for large benchmark data.
func loadPoints(b *testing.B, db *database.DB, seq *ent.Resource, n int64) (from, to time.Time) {
	b.Helper()
	ctx := context.Background()
	t0 := int64(946684800) * 1e6
	gen := fmt.Sprintf(`INSERT INTO revisions (resource_id, "timestamp", num, size)
 SELECT %d, %d + g * CAST(1000000 AS bigint), (g %% 1000) * 0.5, 8 FROM generate_series(0, %d) AS g`, seq.ID, t0, n-1)
	if db.Dialect == dialect.SQLite {
		gen = fmt.Sprintf(`WITH RECURSIVE g(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM g WHERE x < %d)
 INSERT INTO revisions (resource_id, "timestamp", num, size) SELECT %d, %d + x * 1000000, (x %% 1000) * 0.5, 8 FROM g`, n-1, seq.ID, t0)
	}
	start := time.Now()
	if _, err := db.Client.ExecContext(ctx, gen); err != nil {
		b.Fatal(err)
	}
	if err := rebuildRollups(ctx, db.Client, seq.ID, t0, t0+n*1e6); err != nil {
		b.Fatal(err)
	}
	if db.Dialect == dialect.Postgres {
		// What autovacuum does to a table that was written a while ago: statistics, and
		// the hint bits and visibility map that the first read would otherwise set (and
		// write back) row by row.
		for _, table := range []string{"revisions", "rollups"} {
			if _, err := db.Client.ExecContext(ctx, "VACUUM (ANALYZE) "+table); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Logf("loaded %d points in %v", n, time.Since(start))
	return TimeOf(t0), TimeOf(t0 + n*1e6)
}

func BenchmarkValuesPage1000(b *testing.B) {
	eachDialect(b, func(b *testing.B, d string) {
		db, seqs := benchDB(b, d, "s")
		from, _ := loadPoints(b, db, seqs[0], 200_000)
		ctx := context.Background()
		b.ResetTimer()
		i := 0
		for b.Loop() {
			q := PageQuery{First: 1000, From: new(from.Add(time.Duration(i%190) * 1000 * time.Second))}
			p, err := Values(ctx, db.Client, seqs[0], q)
			if err != nil || len(p.Values) != 1000 {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(i), "ms/page")
	})
}

func BenchmarkSeries2000(b *testing.B) {
	n := int64(1_000_000)
	if os.Getenv(benchBigEnv) == "1" {
		n = 10_000_000
	}
	eachDialect(b, func(b *testing.B, d string) {
		db, seqs := benchDB(b, d, "s")
		from, to := loadPoints(b, db, seqs[0], n)
		ctx := context.Background()
		b.ResetTimer()
		i := 0
		for b.Loop() {
			// Shift the range by a few minutes so the edges are unaligned and vary.
			f := from.Add(time.Duration(i%50) * 7 * time.Minute)
			bs, err := Series(ctx, db.Client, seqs[0], &f, &to, 2000)
			if err != nil || len(bs) == 0 || len(bs) > 2000 {
				b.Fatal(len(bs), err)
			}
			i++
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(i), "ms/series")
		b.ReportMetric(float64(n), "points")
	})
}

func BenchmarkReadNumeric(b *testing.B) {
	eachDialect(b, func(b *testing.B, d string) {
		db, seqs := benchDB(b, d, "s")
		const n = 200_000
		loadPoints(b, db, seqs[0], n)
		ctx := context.Background()
		b.ResetTimer()
		var total int
		for b.Loop() {
			err := ReadNumeric(ctx, db.Client, seqs[0], nil, nil, func(c []Point) error {
				total += len(c)
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "points/s")
	})
}
