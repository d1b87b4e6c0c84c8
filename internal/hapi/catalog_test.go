package hapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dastest"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// t0 is the first record time of every test dataset.
var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// testSet is one dataset of the test catalog: records built in memory.
type testSet struct {
	ds    Dataset
	n     int                          // records
	fill  func(rec *das.Record, i int) // sets record i (time included)
	extra func(sink das.Sink) error    // sent after the records, if set
	owner string                       // readable only by this Basic user ("" = public)
	login bool                         // anonymous callers get ErrUnauthorized
	fail  error                        // Stream fails with this after the records
}

// testCatalog is a Catalog over testSets in a fixed order.
type testCatalog struct {
	order []string
	sets  map[string]*testSet
}

func (c *testCatalog) visible(r *http.Request, s *testSet) error {
	if s.owner == "" {
		return nil
	}
	user, _, has := r.BasicAuth()
	switch {
	case user == s.owner:
		return nil
	case !has && s.login:
		return ErrUnauthorized
	}
	return ErrNotFound
}

func (c *testCatalog) List(_ context.Context, r *http.Request) ([]Entry, error) {
	var out []Entry
	for _, id := range c.order {
		s := c.sets[id]
		if c.visible(r, s) == nil {
			out = append(out, Entry{ID: id, Title: s.ds.Title})
		}
	}
	return out, nil
}

func (c *testCatalog) Describe(_ context.Context, r *http.Request, id string) (*Dataset, error) {
	s, found := c.sets[id]
	if !found {
		return nil, ErrNotFound
	}
	if err := c.visible(r, s); err != nil {
		return nil, err
	}
	ds := s.ds
	return &ds, nil
}

// Stream sends every record whatever the range: the handler must cut.
func (c *testCatalog) Stream(ctx context.Context, r *http.Request, id string, _, _ time.Time, sink das.Sink) error {
	s, found := c.sets[id]
	if !found {
		return ErrNotFound
	}
	if err := c.visible(r, s); err != nil {
		return err
	}
	if err := sink.Stream(&das.Stream{Version: "2.2"}); err != nil {
		return err
	}
	hdr := s.ds.Header
	if err := sink.Dataset(hdr); err != nil {
		return err
	}
	var rec das.Record
	for i := range s.n {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec.Reset(hdr)
		s.fill(&rec, i)
		if err := sink.Record(&rec); err != nil {
			return err
		}
	}
	if s.extra != nil {
		if err := s.extra(sink); err != nil {
			return err
		}
	}
	return s.fail
}

// at is t0 + sec seconds as a dastime.Time.
func at(sec float64) dastime.Time { return ToDas(t0) + dastime.Time(math.Round(sec*1e9)) }

// multiHeader is a das3-style dataset: time, a real with fill -999, a 2-byte
// integer with fill -1 and a 3-component vector.
func multiHeader() *das.Dataset {
	real8 := das.Encoding{Kind: das.EncReal, Size: 8}
	ds := &das.Dataset{ID: 3, Name: "multi", Rank: 1, Shape: []int{-1}, Dims: []*das.Dim{
		{Kind: das.Coord, PhysDim: "time", Name: "time", Vars: []*das.Variable{
			{Use: "center", Semantic: "datetime", Units: "us2000", Items: 1, Enc: real8}}},
		{Kind: das.Data, PhysDim: "density", Name: "density", Props: das.Properties{{Name: "summary", Value: "plasma density"}},
			Vars: []*das.Variable{{Use: "center", Semantic: "real", Units: "cm**-3", Items: 1, Enc: real8, Fill: "-999", FillVal: -999}}},
		{Kind: das.Data, PhysDim: "flag", Name: "flag", Vars: []*das.Variable{
			{Use: "center", Semantic: "integer", Items: 1, Enc: das.Encoding{Kind: das.EncInt, Size: 2}, Fill: "-1", FillVal: -1}}},
		{Kind: das.Data, PhysDim: "B", Name: "B", Vars: []*das.Variable{
			{Use: "center", Semantic: "real", Units: "nT", Items: 3, Components: 3, Enc: real8, FillVal: das.DefaultFill}}},
	}}
	if err := ds.Layout(); err != nil {
		panic(err)
	}
	return ds
}

// newTestCatalog builds the datasets every test uses.
func newTestCatalog() *testCatalog {
	wave := dastest.Dataset(0, 1)
	spec := dastest.Dataset(0, 4)
	multi := multiHeader()
	waveFill := func(rec *das.Record, i int) {
		rec.SetTime(wave.TimeVar(), 0, at(float64(i)))
		rec.Floats[1] = float64(i) * 1.5
		if i == 5 {
			rec.Floats[1] = float32AsDefaultFill
		}
	}
	sets := map[string]*testSet{
		"wave": {ds: Dataset{Title: "Waveform", Description: "a test waveform", Start: t0, Stop: t0.Add(24 * time.Hour),
			Cadence: time.Second, SampleStart: t0, SampleStop: t0.Add(10 * time.Second), Header: wave}, n: 10, fill: waveFill},
		"spec": {ds: Dataset{Title: "Spectrogram", Start: t0, Stop: t0.Add(24 * time.Hour), MaxRequest: 6 * time.Hour, Header: spec}, n: 6,
			fill: func(rec *das.Record, i int) {
				rec.SetTime(spec.TimeVar(), 0, at(float64(i)*60))
				for k := 1; k <= 4; k++ {
					rec.Floats[k] = float64(i*10 + k)
				}
			}},
		"multi": {ds: Dataset{Title: "Several kinds", Start: t0, Stop: t0.Add(24 * time.Hour), TimeDigits: 6, Header: multi}, n: 4,
			fill: func(rec *das.Record, i int) {
				rec.SetTime(multi.TimeVar(), 0, at(float64(i)*0.5+0.000001))
				rec.Floats[1] = []float64{1.25, -999, 1e-300, 123456789.123456789}[i]
				rec.Ints[0] = []int64{0, 1, -1, 32767}[i]
				rec.Floats[2], rec.Floats[3], rec.Floats[4] = float64(i), float64(-i), 0.1
			}},
		// Out of order and repeated records: the handler drops them.
		"jumpy": {ds: Dataset{Title: "Out of order", Start: t0, Stop: t0.Add(time.Hour), Header: wave}, n: 5,
			fill: func(rec *das.Record, i int) {
				rec.SetTime(wave.TimeVar(), 0, at([]float64{1, 2, 2, 1.5, 3}[i]))
				rec.Floats[1] = float64(i)
			}},
		"open": {ds: Dataset{Title: "Growing", Start: t0, Header: wave}, n: 3, fill: waveFill},
		"secret": {ds: Dataset{Title: "Protected", Start: t0, Stop: t0.Add(time.Hour), Header: wave}, n: 3, fill: waveFill,
			owner: "alice", login: true},
		"hidden": {ds: Dataset{Title: "Hidden", Start: t0, Stop: t0.Add(time.Hour), Header: wave}, n: 3, fill: waveFill,
			owner: "bob"},
		"broken": {ds: Dataset{Title: "Broken", Start: t0, Stop: t0.Add(time.Hour), Header: wave}, n: 0, fill: waveFill,
			fail: errors.New("reader exited with status 2")},
		"dying": {ds: Dataset{Title: "Dies mid-stream", Start: t0, Stop: t0.Add(time.Hour), Header: wave}, n: 3, fill: waveFill,
			fail: errors.New("reader killed")},
		"excepting": {ds: Dataset{Title: "Ends in an exception", Start: t0, Stop: t0.Add(time.Hour), Header: wave}, n: 0, fill: waveFill,
			extra: func(sink das.Sink) error {
				return sink.Exception(&das.Exception{Type: das.ServerError, Message: "disk on fire"})
			}},
		"busy": {ds: Dataset{Title: "All reader slots taken", Start: t0, Stop: t0.Add(time.Hour), Header: wave}, n: 0, fill: waveFill,
			fail: fmt.Errorf("run reader: %w", &BusyError{RetryAfter: 1500 * time.Millisecond})},
		"nodata": {ds: Dataset{Title: "Says no data", Start: t0, Stop: t0.Add(time.Hour), Header: wave}, n: 0, fill: waveFill,
			extra: func(sink das.Sink) error {
				return sink.Exception(&das.Exception{Type: das.NoDataInInterval, Message: "nothing"})
			}},
	}
	c := &testCatalog{sets: sets, order: []string{"wave", "spec", "multi", "jumpy", "open", "secret", "hidden", "broken", "dying", "excepting", "busy", "nodata"}}
	for id, s := range sets {
		s.ds.ID = id
	}
	return c
}

// float32AsDefaultFill is -1e31 as a real4 reads back: das fill by tolerance.
const float32AsDefaultFill = float64(float32(das.DefaultFill))

// now is the test clock (open-ended stopDate).
var now = time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)

func newServer(t *testing.T) (*httptest.Server, *testCatalog) {
	t.Helper()
	cat := newTestCatalog()
	h := New(cat, Options{ID: "test", Title: "Test server", Contact: "ops@example.org", FlushEvery: 2,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
	mux := http.NewServeMux()
	mux.Handle("/hapi", h)
	mux.Handle("/hapi/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, cat
}
