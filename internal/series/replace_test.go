package series_test

import (
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// A retried write (same sequence, same timestamp) replaces the stored value instead of
// storing it twice, and the rollups then count it once.
func TestRetriedWritesReplace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		c := db.Client
		newOrg(t, c)
		seq := newSeq(t, c, "num", tree.Numeric, nil)
		batch := numItems(seq, base, time.Second, 500, func(i int) float64 { return float64(i) })
		mustUpdate(t, c, batch)
		// The client lost the answer and sends the same batch again, then a corrected value.
		mustUpdate(t, c, batch)
		mustUpdate(t, c, []series.Item{{Resource: seq, Value: 1000.0, Time: batch[7].Time}})
		rs := revisions(t, c, seq.ID)
		if len(rs) != 500 {
			t.Fatalf("%d values stored after a retried batch of 500", len(rs))
		}
		if *rs[7].Num != 1000 || rs[7].Timestamp != series.Micros(*batch[7].Time) {
			t.Fatalf("value at the repeated time is %v at %d, want the last write 1000", *rs[7].Num, rs[7].Timestamp)
		}
		checkRollups(t, c, seq.ID)

		// Within one batch the last value of a timestamp wins.
		at := base.Add(time.Hour)
		mustUpdate(t, c, []series.Item{
			{Resource: seq, Value: 1.0, Time: &at},
			{Resource: seq, Value: 2.0, Time: &at},
			{Resource: seq, Value: 3.0, Time: new(at.Add(time.Microsecond))},
		})
		rs = revisions(t, c, seq.ID)
		if len(rs) != 502 || *rs[500].Num != 2 || *rs[501].Num != 3 {
			t.Fatalf("batch with a repeated time stored %d values, last %v", len(rs), *rs[len(rs)-1].Num)
		}
		checkRollups(t, c, seq.ID)

		// Text values replace as well.
		text := newSeq(t, c, "log", tree.Text, nil)
		mustUpdate(t, c, []series.Item{{Resource: text, Value: "first", Time: &at}})
		mustUpdate(t, c, []series.Item{{Resource: text, Value: "second", Time: &at}})
		if tr := revisions(t, c, text.ID); len(tr) != 1 || *tr[0].Text != "second" {
			t.Fatalf("text at a repeated time: %d values", len(tr))
		}
	})
}

// Values without a time never replace each other, even in one batch or at one instant.
func TestServerTimesAreDistinct(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		c := db.Client
		newOrg(t, c)
		seq := newSeq(t, c, "num", tree.Numeric, nil)
		items := make([]series.Item, 50)
		for i := range items {
			items[i] = series.Item{Resource: seq, Value: float64(i)}
		}
		mustUpdate(t, c, items)
		for i := range 10 {
			if err := series.Update(t.Context(), c, seq, float64(100+i), nil); err != nil {
				t.Fatal(err)
			}
		}
		rs := revisions(t, c, seq.ID)
		if len(rs) != 60 {
			t.Fatalf("%d of 60 server-timed values stored", len(rs))
		}
		for i := 1; i < len(rs); i++ {
			if rs[i].Timestamp <= rs[i-1].Timestamp {
				t.Fatalf("server times not increasing at %d: %d after %d", i, rs[i].Timestamp, rs[i-1].Timestamp)
			}
		}
		if d := time.Since(series.TimeOf(rs[len(rs)-1].Timestamp)); d < 0 || d > time.Minute {
			t.Fatalf("server time %v is not the wall clock", series.TimeOf(rs[len(rs)-1].Timestamp))
		}
	})
}

// A given time is used as given across the whole range, year 1 included: "absent" is not
// the zero time.
func TestGivenTimesAtTheEdges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		c := db.Client
		newOrg(t, c)
		seq := newSeq(t, c, "num", tree.Numeric, nil)
		year1 := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
		last := time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
		if err := series.Update(t.Context(), c, seq, 1.0, &year1); err != nil {
			t.Fatalf("year 1: %v", err)
		}
		if err := series.Update(t.Context(), c, seq, 2.0, &last); err != nil {
			t.Fatalf("year 9999: %v", err)
		}
		rs := revisions(t, c, seq.ID)
		if len(rs) != 2 || !series.TimeOf(rs[0].Timestamp).Equal(year1) || !series.TimeOf(rs[1].Timestamp).Equal(last) {
			t.Fatalf("stored %d values; first at %v", len(rs), series.TimeOf(rs[0].Timestamp))
		}
		checkRollups(t, c, seq.ID)
		// "Before year 1" is an empty range, not an unbounded one.
		n, err := series.DeleteRange(t.Context(), c, seq, nil, &year1)
		if err != nil || n != 0 {
			t.Fatalf("delete before year 1 deleted %d (%v)", n, err)
		}
		page, err := series.Values(t.Context(), c, seq, series.PageQuery{To: &year1})
		if err != nil || len(page.Values) != 0 {
			t.Fatalf("values before year 1: %d (%v)", len(page.Values), err)
		}
		page, err = series.Values(t.Context(), c, seq, series.PageQuery{From: &year1})
		if err != nil || len(page.Values) != 2 {
			t.Fatalf("values from year 1: %d (%v)", len(page.Values), err)
		}
	})
}

// A sequence read through the write path's cache does not know its newest value
// (tree.UnknownLastRevision), so a value at a given time is looked up and replaces the
// stored one; a time marked ServerTime is not looked up, as if none had been given.
func TestUnknownLastRevisionLooksUpAndServerTimeDoesNot(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		c := db.Client
		newOrg(t, c)
		seq := newSeq(t, c, "num", tree.Numeric, nil)
		mustUpdate(t, c, []series.Item{{Resource: seq, Value: 1.0, Time: new(base)}})
		// seq as read before that write (last_revision_at nil) would skip the lookup; the
		// cache's copy says "unknown" instead.
		cached := *seq
		cached.LastRevisionAt = new(tree.UnknownLastRevision)
		mustUpdate(t, c, []series.Item{{Resource: &cached, Value: 2.0, Time: new(base)}})
		if rs := revisions(t, c, seq.ID); len(rs) != 1 || *rs[0].Num != 2 {
			t.Fatalf("after a replacement through a cached sequence: %d values", len(rs))
		}
		_, err := series.UpdateMany(t.Context(), c, []series.Item{{Resource: &cached, Value: 3.0, Time: new(base), ServerTime: true}})
		if !fault.Is(err, fault.Conflict) {
			t.Fatalf("a server time that is already stored: %v, want CONFLICT (not looked up, not replaced)", err)
		}
	})
}
