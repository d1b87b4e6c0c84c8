package series

import (
	"context"
	"database/sql"
	"math"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/rhizoflex/rhizoflex/internal/account"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// TestQueriesUseIndex runs EXPLAIN on every range statement the package issues and
// asserts that it reads revisions through revision_resource_id_timestamp (rollups through
// their unique index). On PostgreSQL the tables are ANALYZEd and, on the explaining
// connection only, enable_seqscan is off: with a few thousand rows a sequential scan is
// the cheaper plan, and the check is that the index can serve each statement.
func TestQueriesUseIndex(t *testing.T) {
	const revIndex, rollupIndex = "revision_resource_id_timestamp", "rollup_resource_id_bucket_seconds_bucket_start"
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		c := db.Client
		if _, err := account.CreateOrganization(ctx, c, "lab", ""); err != nil {
			t.Fatal(err)
		}
		var rid int
		for _, name := range []string{"a", "b", "c"} {
			seq, err := tree.Create(ctx, c, tree.CreateParams{Path: "/lab/" + name, Type: tree.Sequence,
				SystemAttributes: tree.SequenceAttributes(tree.Numeric, "", 1)})
			if err != nil {
				t.Fatal(err)
			}
			items := make([]Item, 3000)
			for i := range items {
				items[i] = Item{Resource: seq, Value: float64(i), Time: new(time.Unix(int64(i)*10, 0))}
			}
			if errs, err := UpdateMany(ctx, c, items); err != nil {
				t.Fatal(errs, err)
			}
			rid = seq.ID
		}
		lo, hi := int64(5e6), int64(20000e6)
		cur := &cursor{ts: 7e6, id: 3}
		plan := planSeries(rid, lo, hi, 100)
		if plan.rollup == 0 || len(plan.queries()) != 3 {
			t.Fatalf("series plan without rollups and edges: %+v", plan)
		}
		raw := planSeries(rid, lo, lo+1000e6, 2000)
		if raw.rollup != 0 {
			t.Fatalf("narrow series plan uses rollups: %+v", raw)
		}
		statements := []struct {
			name, sql, index string
		}{
			{"last value", lastValueSQL(rid), revIndex},
			{"first timestamp", firstTsSQL(rid, false), revIndex},
			{"page forward", pageSQL(pageWindow{rid: rid, lo: lo, hi: hi, after: cur}, false, 101), revIndex},
			{"page backward", pageSQL(pageWindow{rid: rid, lo: lo, hi: hi, before: cur}, true, 101), revIndex},
			{"page exists", existsSQL(pageWindow{rid: rid, lo: lo, hi: hi, before: cur}), revIndex},
			{"series rollups", plan.queries()[0], rollupIndex},
			{"series edge", plan.queries()[1], revIndex},
			{"series raw", raw.queries()[0], revIndex},
			{"read chunk", readChunkSQL(rid, lo, hi, ReadChunk), revIndex},
			{"read plan", planSQL(rid, lo, hi), rollupIndex},
			{"read plan unbounded", planSQL(rid, math.MinInt64, math.MaxInt64), rollupIndex},
			{"range edge", rangeEdgeSQL(rid, lo, hi, true), revIndex},
			{"delete range", deleteRangeSQL(rid, lo, hi), revIndex},
			{"trim cut", trimCutSQL(rid, 100), revIndex},
			{"trim delete", trimDeleteSQL(rid, *cur), revIndex},
			{"min storage interval", strings.ReplaceAll(`SELECT max("timestamp") FROM revisions WHERE resource_id = $1`, "$1", "3"), revIndex},
		}
		conn, err := db.SQL.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close() }()
		prefix := "EXPLAIN QUERY PLAN "
		if db.Dialect == dialect.Postgres {
			prefix = "EXPLAIN "
			for _, s := range []string{"ANALYZE revisions", "ANALYZE rollups", "SET enable_seqscan = off"} {
				if _, err := conn.ExecContext(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, st := range statements {
			t.Run(st.name, func(t *testing.T) {
				plan := explain(ctx, t, conn, prefix+st.sql)
				if !strings.Contains(plan, st.index) {
					t.Fatalf("plan does not use %s:\n%s\n%s", st.index, st.sql, plan)
				}
				if st.name == "read chunk" && (strings.Contains(plan, "Sort") || strings.Contains(plan, "TEMP B-TREE")) {
					t.Fatalf("the das read sorts instead of following the index:\n%s", plan)
				}
				if strings.Contains(plan, "Seq Scan on revisions") || strings.Contains(plan, "SCAN revisions\n") {
					t.Fatalf("plan scans revisions:\n%s", plan)
				}
			})
		}
	})
}

func explain(ctx context.Context, t *testing.T, conn *sql.Conn, query string) string {
	t.Helper()
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer func() { _ = rows.Close() }()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		// SQLite: id, parent, notused, detail; PostgreSQL: one text column.
		switch v := vals[len(vals)-1].(type) {
		case []byte:
			b.Write(v)
		case string:
			b.WriteString(v)
		}
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
