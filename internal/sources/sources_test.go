package sources_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/ent/revision"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fixture"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/sources"
	"github.com/rhizoflex/rhizoflex/internal/tree"
	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/das2"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// cancelAfter is a Sink that cancels the request after n records, like a client that
// goes away mid-stream.
type cancelAfter struct {
	n, seen int
	cancel  context.CancelFunc
}

func (c *cancelAfter) Stream(*das.Stream) error       { return nil }
func (c *cancelAfter) Dataset(*das.Dataset) error     { return nil }
func (c *cancelAfter) Comment(*das.Comment) error     { return nil }
func (c *cancelAfter) Exception(*das.Exception) error { return nil }
func (c *cancelAfter) Close() error                   { return nil }
func (c *cancelAfter) Record(*das.Record) error {
	c.seen++
	if c.seen == c.n {
		c.cancel()
	}
	return nil
}

func TestStreamStopsWhenTheClientGoesAway(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		fixture.Build(t, db)
		seq, err := tree.ByPath(t.Context(), db.Client, "/lab/data/temperature")
		if err != nil {
			t.Fatal(err)
		}
		const n = 4 * series.ReadChunk
		start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		vals := make([]series.Value, n)
		for i := range vals {
			v := float64(i)
			vals[i] = series.Value{Time: start.Add(time.Duration(i) * time.Millisecond), Num: &v}
		}
		if err := series.Append(t.Context(), db.Client, seq, vals); err != nil {
			t.Fatal(err)
		}
		svc := &sources.Service{Client: db.Client}
		rd := sources.Read{Min: dastime.Date(2024, 1, 1, 0, 0, 0, 0), Max: dastime.Date(2024, 1, 2, 0, 0, 0, 0)}

		var buf bytes.Buffer
		res, err := svc.Stream(t.Context(), sources.SourceOf(seq), rd, das2.NewWriter(&buf, das2.WriterOptions{}), das.ExceptionType2)
		if err != nil || res.Records != n || !res.Started || res.Reduced {
			t.Fatalf("full read: %+v %v", res, err)
		}

		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		sink := &cancelAfter{n: 10, cancel: cancel}
		res, err = svc.Stream(ctx, sources.SourceOf(seq), rd, sink, das.ExceptionType2)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want canceled", err)
		}
		// The read stops at the end of the chunk in which the client left: no further query.
		if res.Records != series.ReadChunk {
			t.Fatalf("read %d records after the client left at 10, want one chunk (%d)", res.Records, series.ReadChunk)
		}
	})
}

// collect gathers the (time, value) records a stream carries.
type collect struct {
	cancelAfter
	times  []dastime.Time
	values []float64
}

func (c *collect) Record(rec *das.Record) error {
	at, _ := rec.Time(rec.DS.TimeVar(), 0)
	c.times = append(c.times, at)
	c.values = append(c.values, rec.Floats[1])
	return nil
}

// A reduction whose bins are whole rollup buckets, aligned, is answered from the rollups:
// it still answers after the raw values are gone.
func TestStreamReducesFromRollups(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		fixture.Build(t, db)
		seq, err := tree.ByPath(t.Context(), db.Client, "/lab/data/temperature")
		if err != nil {
			t.Fatal(err)
		}
		const n = 3600
		start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		vals := make([]series.Value, n)
		for i := range vals {
			v := float64(i % 97)
			vals[i] = series.Value{Time: start.Add(time.Duration(i) * time.Second), Num: &v}
		}
		if err := series.Append(t.Context(), db.Client, seq, vals); err != nil {
			t.Fatal(err)
		}
		svc := &sources.Service{Client: db.Client}
		rd := sources.Read{Min: dastime.Date(2024, 1, 1, 0, 0, 0, 0), Max: dastime.Date(2024, 1, 1, 1, 0, 0, 0), Bin: 120}
		want := &collect{}
		if res, err := svc.Stream(t.Context(), sources.SourceOf(seq), rd, want, das.ExceptionType2); err != nil || !res.Reduced || res.Records != n {
			t.Fatalf("%+v %v", res, err)
		}
		if len(want.values) != 30 {
			t.Fatalf("%d bins, want 30", len(want.values))
		}
		for b := range 30 {
			sum := 0.0
			for i := b * 120; i < b*120+120; i++ {
				sum += float64(i % 97)
			}
			if math.Abs(want.values[b]-sum/120) > 1e-9 || want.times[b] != rd.Min.Add(float64(b*120+60)) {
				t.Fatalf("bin %d: %v at %v, want %v", b, want.values[b], want.times[b], sum/120)
			}
		}
		// Remove the raw values: the same request answers the same from the rollups.
		if _, err := db.Client.Revision.Delete().Where(revision.ResourceID(seq.ID)).Exec(t.Context()); err != nil {
			t.Fatal(err)
		}
		got := &collect{}
		if _, err := svc.Stream(t.Context(), sources.SourceOf(seq), rd, got, das.ExceptionType2); err != nil {
			t.Fatal(err)
		}
		if len(got.values) != 30 || got.values[7] != want.values[7] {
			t.Fatalf("from the rollups: %v", got.values)
		}
		// 90 s at most: whole 60 s rollup buckets (bin.time.max is the widest acceptable).
		rd.Bin = 90
		fine := &collect{}
		if res, err := svc.Stream(t.Context(), sources.SourceOf(seq), rd, fine, das.ExceptionType2); err != nil || !res.Reduced || len(fine.values) != 60 {
			t.Fatalf("90 s bins: %+v %v, %d bins", res, err, len(fine.values))
		}
		// A bin finer than every rollup reads the (now gone) raw values.
		rd.Bin = 30
		raw := &collect{}
		if res, err := svc.Stream(t.Context(), sources.SourceOf(seq), rd, raw, das.ExceptionType2); err != nil || res.Started {
			t.Fatalf("30 s bins: %+v %v", res, err)
		}
		// So does a request that does not start on a rollup boundary.
		rd.Bin, rd.Min = 120, rd.Min.Add(1)
		if res, err := svc.Stream(t.Context(), sources.SourceOf(seq), rd, &collect{}, das.ExceptionType2); err != nil || res.Started {
			t.Fatalf("unaligned: %+v %v", res, err)
		}
	})
}
