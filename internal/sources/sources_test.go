package sources_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

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
