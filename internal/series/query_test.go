package series_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

func TestValuesPaging(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		c := db.Client
		newOrg(t, c)
		seq := newSeq(t, c, "num", tree.Numeric, nil)
		other := newSeq(t, c, "other", tree.Numeric, nil)
		// 250 values; every tenth timestamp is stored twice, so the cursor must use ids.
		var items []series.Item
		for i := range 250 {
			at := base.Add(time.Duration(i/2*2) * time.Second)
			if i%10 != 0 {
				at = base.Add(time.Duration(i) * time.Second)
			}
			items = append(items, series.Item{Resource: seq, Value: float64(i), Time: new(at)})
		}
		mustUpdate(t, c, items)
		mustUpdate(t, c, numItems(other, base, time.Second, 50, func(int) float64 { return -1 }))
		all, err := series.Values(t.Context(), c, seq, series.PageQuery{First: series.MaxPageSize})
		if err != nil || len(all.Values) != 250 || all.HasNextPage || all.HasPreviousPage {
			t.Fatalf("all values: %d %v", len(all.Values), err)
		}
		for i := 1; i < len(all.Values); i++ {
			a, b := all.Values[i-1], all.Values[i]
			if a.Time.After(b.Time) || (a.Time.Equal(b.Time) && a.ID >= b.ID) {
				t.Fatalf("not in time order at %d", i)
			}
		}

		walk := func(t *testing.T, q series.PageQuery, forward bool) []int64 {
			var got []int64
			for pages := 0; ; pages++ {
				p, err := series.Values(t.Context(), c, seq, q)
				if err != nil {
					t.Fatal(err)
				}
				ids := make([]int64, len(p.Values))
				for i, v := range p.Values {
					ids[i] = v.ID
				}
				if forward {
					got = append(got, ids...)
					if pages > 0 && !p.HasPreviousPage {
						t.Errorf("page %d: HasPreviousPage false", pages)
					}
					if !p.HasNextPage {
						return got
					}
					q.After = p.EndCursor
				} else {
					got = append(ids, got...)
					if pages > 0 && !p.HasNextPage {
						t.Errorf("page %d: HasNextPage false", pages)
					}
					if !p.HasPreviousPage {
						return got
					}
					q.Before = p.StartCursor
				}
				if pages > 1000 {
					t.Fatal("paging does not end")
				}
			}
		}
		wantIDs := func(lo, hi time.Time) []int64 {
			var out []int64
			for _, v := range all.Values {
				if (lo.IsZero() || !v.Time.Before(lo)) && (hi.IsZero() || v.Time.Before(hi)) {
					out = append(out, v.ID)
				}
			}
			return out
		}
		cases := []struct {
			name     string
			q        series.PageQuery
			forward  bool
			from, to time.Time
		}{
			{"forward 100", series.PageQuery{First: 100}, true, time.Time{}, time.Time{}},
			{"forward 7", series.PageQuery{First: 7}, true, time.Time{}, time.Time{}},
			{"backward 100", series.PageQuery{Last: 100}, false, time.Time{}, time.Time{}},
			{"default size", series.PageQuery{}, true, time.Time{}, time.Time{}},
			{"range forward", series.PageQuery{First: 9, From: new(base.Add(30 * time.Second)), To: new(base.Add(120 * time.Second))}, true,
				base.Add(30 * time.Second), base.Add(120 * time.Second)},
			{"range backward", series.PageQuery{Last: 9, From: new(base.Add(30 * time.Second)), To: new(base.Add(120 * time.Second))}, false,
				base.Add(30 * time.Second), base.Add(120 * time.Second)},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, want := walk(t, tc.q, tc.forward), wantIDs(tc.from, tc.to)
				if !equalInts(got, want) {
					t.Fatalf("got %d ids %v..., want %d", len(got), got[:min(5, len(got))], len(want))
				}
			})
		}
		bad := []series.PageQuery{
			{First: 1, Last: 1}, {First: -1}, {First: series.MaxPageSize + 1}, {After: "nonsense"}, {Before: "djE6eDox"},
		}
		for _, q := range bad {
			if _, err := series.Values(t.Context(), c, seq, q); !fault.Is(err, fault.BadInput) {
				t.Errorf("Values(%+v) = %v, want BAD_USER_INPUT", q, err)
			}
		}
		empty, err := series.Values(t.Context(), c, seq, series.PageQuery{From: new(base.Add(time.Hour))})
		if err != nil || len(empty.Values) != 0 || empty.StartCursor != "" || empty.HasNextPage {
			t.Fatalf("empty page: %+v %v", empty, err)
		}
	})
}

// bruteSeries aggregates values into the given buckets in Go.
func bruteSeries(vals map[int64]float64, buckets []series.Bucket) []series.Bucket {
	out := make([]series.Bucket, len(buckets))
	for i, b := range buckets {
		o := series.Bucket{Start: b.Start, End: b.End, Min: math.Inf(1), Max: math.Inf(-1)}
		sum := 0.0
		for ts, v := range vals {
			if ts >= series.Micros(b.Start) && ts < series.Micros(b.End) {
				o.Count++
				sum += v
				o.Min, o.Max = min(o.Min, v), max(o.Max, v)
			}
		}
		o.Mean = sum / float64(o.Count)
		out[i] = o
	}
	return out
}

func TestSeries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		c := db.Client
		newOrg(t, c)
		seq := newSeq(t, c, "num", tree.Numeric, nil)
		t0 := time.Date(1969, 12, 30, 22, 13, 7, 250000, time.UTC) // spans 1970
		const n, step = 30000, 7 * time.Second                     // ~2.4 days
		vals := map[int64]float64{}
		items := numItems(seq, t0, step, n, func(i int) float64 { return math.Sin(float64(i)/500) * 100 })
		for _, it := range items {
			vals[series.Micros(*it.Time)] = it.Value.(float64)
		}
		for i := 0; i < n; i += 5000 { // several batches: rollups are upserted
			mustUpdate(t, c, items[i:i+5000])
		}
		checkRollups(t, c, seq.ID)
		end := t0.Add(n * step)
		cases := []struct {
			name      string
			from, to  time.Time
			maxPoints int
		}{
			{"raw buckets", t0.Add(time.Hour), t0.Add(2 * time.Hour), 100},
			{"minute rollups", t0.Add(13 * time.Second), end.Add(-11 * time.Minute), 2000},
			{"hour rollups", t0.Add(17 * time.Minute), end, 30},
			{"day rollups", time.Time{}, time.Time{}, 2},
			{"one point", time.Time{}, time.Time{}, 1},
			{"narrow unaligned", t0.Add(90 * time.Second), t0.Add(200 * time.Second), 3},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := series.Series(t.Context(), c, seq, opt(tc.from), opt(tc.to), tc.maxPoints)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) == 0 || len(got) > tc.maxPoints {
					t.Fatalf("%d buckets for maxPoints %d", len(got), tc.maxPoints)
				}
				lo, hi := tc.from, tc.to
				if lo.IsZero() {
					lo = t0
				}
				if hi.IsZero() {
					hi = t0.Add((n-1)*step + time.Microsecond)
				}
				total := int64(0)
				for i, b := range got {
					if b.Start.Before(lo) || b.End.After(hi) || !b.Start.Before(b.End) || (i > 0 && b.Start.Before(got[i-1].End)) {
						t.Fatalf("bucket %d [%v, %v) outside [%v, %v) or overlapping", i, b.Start, b.End, lo, hi)
					}
					total += b.Count
				}
				want := bruteSeries(vals, got)
				wantTotal := int64(0)
				for ts := range vals {
					if ts >= series.Micros(lo) && ts < series.Micros(hi) {
						wantTotal++
					}
				}
				if total != wantTotal {
					t.Errorf("buckets hold %d values, want %d", total, wantTotal)
				}
				for i := range got {
					g, w := got[i], want[i]
					if g.Count != w.Count || g.Min != w.Min || g.Max != w.Max || !near(g.Mean, w.Mean) {
						t.Fatalf("bucket %d = %+v, want %+v", i, g, w)
					}
				}
			})
		}
		if got, err := series.Series(t.Context(), c, seq, new(end.Add(time.Hour)), new(end.Add(2*time.Hour)), 10); err != nil || len(got) != 0 {
			t.Errorf("empty range: %v %v", got, err)
		}
		if _, err := series.Series(t.Context(), c, seq, &t0, &end, 0); !fault.Is(err, fault.BadInput) {
			t.Errorf("maxPoints 0: %v", err)
		}
		text := newSeq(t, c, "text", tree.Text, nil)
		if _, err := series.Series(t.Context(), c, text, &t0, &end, 10); !fault.Is(err, fault.BadInput) {
			t.Errorf("series of text: %v", err)
		}
	})
}

func TestReadNumeric(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		c := db.Client
		newOrg(t, c)
		seq := newSeq(t, c, "num", tree.Numeric, nil)
		n := 2*series.ReadChunk + 123
		items := numItems(seq, base, time.Millisecond, n, func(i int) float64 { return float64(i) })
		mustUpdate(t, c, items)
		cases := []struct {
			name     string
			from, to time.Time
			first    int
			count    int
		}{
			{"all", time.Time{}, time.Time{}, 0, n},
			{"range", base.Add(100 * time.Millisecond), base.Add(10000 * time.Millisecond), 100, 9900},
			{"empty", base.Add(time.Hour), time.Time{}, 0, 0},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				next := tc.first
				err := series.ReadNumeric(t.Context(), c, seq, opt(tc.from), opt(tc.to), func(chunk []series.Point) error {
					if len(chunk) == 0 || len(chunk) > series.ReadChunk {
						t.Fatalf("chunk of %d", len(chunk))
					}
					for _, p := range chunk {
						if p.Value != float64(next) {
							t.Fatalf("point %v, want value %d", p, next)
						}
						next++
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if next-tc.first != tc.count {
					t.Fatalf("read %d points, want %d", next-tc.first, tc.count)
				}
			})
		}
		stop := errors.New("client went away")
		err := series.ReadNumeric(t.Context(), c, seq, nil, nil, func([]series.Point) error { return stop })
		if !errors.Is(err, stop) {
			t.Fatalf("callback error: %v", err)
		}
	})
}

func TestDeleteRange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		c := db.Client
		newOrg(t, c)
		seq := newSeq(t, c, "num", tree.Numeric, nil)
		const n = 3000
		step := 97 * time.Second // ~3.4 days, crossing minute, hour and day buckets
		mustUpdate(t, c, numItems(seq, base, step, n, func(i int) float64 { return float64(i % 101) }))
		cases := []struct {
			name     string
			from, to time.Time
			want     int64
		}{
			{"nothing", base.Add(-time.Hour), base, 0},
			{"inner", base.Add(100*step + time.Second), base.Add(1000 * step), 899},
			{"one", base.Add(5 * step), base.Add(5*step + time.Microsecond), 1},
			{"head", time.Time{}, base.Add(3 * step), 3},
			{"tail", base.Add(2990 * step), time.Time{}, 10},
		}
		remaining := int64(n)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := series.DeleteRange(t.Context(), c, seq, opt(tc.from), opt(tc.to))
				if err != nil || got != tc.want {
					t.Fatalf("deleted %d (%v), want %d", got, err, tc.want)
				}
				remaining -= got
				if rs := revisions(t, c, seq.ID); int64(len(rs)) != remaining {
					t.Fatalf("%d values remain, want %d", len(rs), remaining)
				}
				checkRollups(t, c, seq.ID)
			})
		}
		last, err := series.LastValue(t.Context(), c, seq)
		if err != nil || !last.Time.Equal(base.Add(2989*step)) {
			t.Fatalf("last value %+v %v", last, err)
		}
		if r := resourceOf(t, c, seq.ID); r.LastRevisionAt == nil || !r.LastRevisionAt.Equal(last.Time) {
			t.Fatalf("last_revision_at %v, want %v", r.LastRevisionAt, last.Time)
		}
		if _, err := series.DeleteRange(t.Context(), c, seq, nil, nil); err != nil {
			t.Fatal(err)
		}
		if r := resourceOf(t, c, seq.ID); r.LastRevisionAt != nil {
			t.Fatalf("last_revision_at %v after deleting everything", r.LastRevisionAt)
		}
		checkRollups(t, c, seq.ID)
	})
}

func TestTrim(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		c := db.Client
		newOrg(t, c)
		cases := []struct {
			name   string
			attrs  map[string]any
			stored int
			want   int
		}{
			{"limited", map[string]any{"max_history": 100}, 1000, 100},
			{"under limit", map[string]any{"max_history": 100}, 40, 40},
			{"zero is unlimited", map[string]any{"max_history": 0}, 50, 50},
			{"no limit", nil, 70, 70},
			{"limit one", map[string]any{"max_history": 1}, 30, 1},
		}
		seqs := make([]*ent.Resource, len(cases))
		for i, tc := range cases {
			seqs[i] = newSeq(t, c, "s"+string(rune('a'+i)), tree.Numeric, tc.attrs)
			items := numItems(seqs[i], base, 61*time.Second, tc.stored, func(i int) float64 { return float64(i) })
			mustUpdate(t, c, items)
		}
		text := newSeq(t, c, "log", tree.Text, map[string]any{"max_history": 2})
		mustUpdate(t, c, []series.Item{{Resource: text, Value: "a"}, {Resource: text, Value: "b"}, {Resource: text, Value: "c"}})

		deleted, err := series.Trim(t.Context(), c)
		wantDeleted := int64(1)
		for _, tc := range cases {
			wantDeleted += int64(tc.stored - tc.want)
		}
		if err != nil || deleted != wantDeleted {
			t.Fatalf("Trim deleted %d (%v), want %d", deleted, err, wantDeleted)
		}
		for i, tc := range cases {
			rs := revisions(t, c, seqs[i].ID)
			if len(rs) != tc.want {
				t.Errorf("%s: %d values kept, want %d", tc.name, len(rs), tc.want)
				continue
			}
			if *rs[0].Num != float64(tc.stored-tc.want) || *rs[len(rs)-1].Num != float64(tc.stored-1) {
				t.Errorf("%s: kept %v..%v, want the newest", tc.name, *rs[0].Num, *rs[len(rs)-1].Num)
			}
			checkRollups(t, c, seqs[i].ID)
		}
		if rs := revisions(t, c, text.ID); len(rs) != 2 || *rs[0].Text != "b" {
			t.Errorf("text trim kept %d", len(rs))
		}
		if again, err := series.Trim(t.Context(), c); err != nil || again != 0 {
			t.Fatalf("second Trim deleted %d (%v)", again, err)
		}

		// The background loop trims new values and stops with its context.
		mustUpdate(t, c, numItems(seqs[0], base.Add(time.Hour*24*30), time.Second, 50, func(int) float64 { return 1 }))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			series.RunTrimmer(ctx, c, 10*time.Millisecond, slog.New(slog.DiscardHandler))
			close(done)
		}()
		deadline := time.Now().Add(10 * time.Second)
		for len(revisions(t, c, seqs[0].ID)) != 100 {
			if time.Now().After(deadline) {
				t.Fatal("RunTrimmer did not trim")
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("RunTrimmer did not stop")
		}
	})
}
