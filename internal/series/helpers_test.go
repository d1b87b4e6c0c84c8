package series_test

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/revision"
	"github.com/rhizoflex/rhizoflex/ent/rollup"
	"github.com/rhizoflex/rhizoflex/internal/account"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// base is an arbitrary fixed time with a sub-second part.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

// newOrg creates the organization every test's sequences live in.
func newOrg(t *testing.T, c *ent.Client) {
	t.Helper()
	if _, err := account.CreateOrganization(t.Context(), c, "lab", "Lab"); err != nil {
		t.Fatal(err)
	}
}

// newSeq creates /lab/<name> with data type dt and extra system attributes.
func newSeq(t testing.TB, c *ent.Client, name, dt string, extra map[string]any) *ent.Resource {
	t.Helper()
	attrs := tree.SequenceAttributes(dt, "", 2)
	for k, v := range extra {
		attrs[k] = v
	}
	r, err := tree.Create(context.Background(), c, tree.CreateParams{Path: "/lab/" + name, Type: tree.Sequence, SystemAttributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	// Reload so the attributes are what the database returns (numbers as float64).
	r, err = c.Resource.Get(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// numItems makes n numeric items of seq starting at t0, step apart, value f(i).
func numItems(seq *ent.Resource, t0 time.Time, step time.Duration, n int, f func(i int) float64) []series.Item {
	items := make([]series.Item, n)
	for i := range items {
		items[i] = series.Item{Resource: seq, Value: f(i), Time: new(t0.Add(time.Duration(i) * step))}
	}
	return items
}

func mustUpdate(t testing.TB, c *ent.Client, items []series.Item) {
	t.Helper()
	if errs, err := series.UpdateMany(context.Background(), c, items); err != nil {
		t.Fatalf("UpdateMany: %v %v", errs, err)
	}
}

func revisions(t *testing.T, c *ent.Client, rid int) []*ent.Revision {
	t.Helper()
	rs, err := c.Revision.Query().Where(revision.ResourceID(rid)).
		Order(revision.ByTimestamp(), revision.ByID()).All(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// checkRollups asserts that the stored rollups equal aggregates of the stored values.
func checkRollups(t *testing.T, c *ent.Client, rid int) {
	t.Helper()
	type key struct {
		sec   int
		start int64
	}
	type agg struct {
		n             int64
		sum, min, max float64
	}
	want := map[key]*agg{}
	for _, r := range revisions(t, c, rid) {
		if r.Num == nil {
			continue
		}
		for _, s := range series.RollupSeconds {
			w := s * 1e6
			start := r.Timestamp / w * w
			if r.Timestamp%w != 0 && r.Timestamp < 0 {
				start -= w
			}
			k := key{int(s), start}
			if a := want[k]; a != nil {
				a.n++
				a.sum += *r.Num
				a.min = min(a.min, *r.Num)
				a.max = max(a.max, *r.Num)
			} else {
				want[k] = &agg{1, *r.Num, *r.Num, *r.Num}
			}
		}
	}
	got, err := c.Rollup.Query().Where(rollup.ResourceID(rid)).All(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("%d rollup rows, want %d", len(got), len(want))
	}
	for _, g := range got {
		w := want[key{g.BucketSeconds, g.BucketStart}]
		if w == nil {
			t.Errorf("unexpected rollup %d s at %d: %+v", g.BucketSeconds, g.BucketStart, g)
			continue
		}
		if g.Count != w.n || !near(g.Sum, w.sum) || g.Min != w.min || g.Max != w.max {
			t.Errorf("rollup %d s at %d = n %d sum %v min %v max %v, want %+v", g.BucketSeconds, g.BucketStart, g.Count, g.Sum, g.Min, g.Max, *w)
		}
	}
}

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*max(1, math.Abs(a), math.Abs(b))
}

func sortedCopy(ts []int64) []int64 {
	c := slices.Clone(ts)
	slices.Sort(c)
	return c
}

// opt is t as an optional bound for test tables: the zero time stands for "absent".
func opt(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
