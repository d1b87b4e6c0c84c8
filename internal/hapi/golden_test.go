package hapi

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/streams/convert"
	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dastest"
)

// goldenCatalog serves the golden das streams as datasets, decoding the stream
// bytes on every request as a reader's output would be: the shape the integrator's
// reader Catalog has.
type goldenCatalog struct {
	names []string
	sets  map[string]*Dataset
	body  map[string][]byte
}

func (c *goldenCatalog) List(context.Context, *http.Request) ([]Entry, error) {
	var out []Entry
	for _, n := range c.names {
		out = append(out, Entry{ID: n})
	}
	return out, nil
}

func (c *goldenCatalog) Describe(_ context.Context, _ *http.Request, id string) (*Dataset, error) {
	ds, found := c.sets[id]
	if !found {
		return nil, ErrNotFound
	}
	return ds, nil
}

func (c *goldenCatalog) Stream(ctx context.Context, _ *http.Request, id string, _, _ time.Time, sink das.Sink) error {
	b, found := c.body[id]
	if !found {
		return ErrNotFound
	}
	_, err := convert.Decode(ctx, bytes.NewReader(b), sink, nil)
	return err
}

// span records the time range of a stream's records.
type span struct {
	min, max time.Time
	n        int
}

func (s *span) Stream(*das.Stream) error       { return nil }
func (s *span) Dataset(*das.Dataset) error     { return nil }
func (s *span) Comment(*das.Comment) error     { return nil }
func (s *span) Exception(*das.Exception) error { return nil }
func (s *span) Close() error                   { return nil }
func (s *span) Record(r *das.Record) error {
	v := r.DS.TimeVar()
	if v == nil {
		return nil
	}
	dt, good := r.Time(v, 0)
	if !good {
		return nil
	}
	tm := FromDas(dt)
	if s.n == 0 || tm.Before(s.min) {
		s.min = tm
	}
	if s.n == 0 || tm.After(s.max) {
		s.max = tm
	}
	s.n++
	return nil
}

var goldenFiles = []string{
	"d22_scalar_text.d2t", "d22_scalar_le.d2s", "d22_scalar_be.d2s", "d22_spectrogram_text.d2t",
	"d22_spectrogram_le.d2s", "d22_time_encodings.d2s", "d3_scalar_text.d3t", "d3_scalar_us2000.d3b",
	"d3_scalar_tt2000.d3b", "d3_spectrogram_text.d3t", "d3_spectrogram_bin.d3b",
}

func newGoldenServer(t *testing.T) (*httptest.Server, *goldenCatalog) {
	t.Helper()
	c := &goldenCatalog{sets: map[string]*Dataset{}, body: map[string][]byte{}}
	for _, f := range goldenFiles {
		b := dastest.ReadGolden(t, f)
		id := strings.TrimSuffix(f, f[strings.LastIndexByte(f, '.'):])
		hdr, err := FirstHeader(func(s das.Sink) error {
			_, err := convert.Decode(t.Context(), bytes.NewReader(b), s, nil)
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var sp span
		if _, err := convert.Decode(t.Context(), bytes.NewReader(b), &sp, nil); err != nil || sp.n == 0 {
			t.Fatalf("%s: %v, %d records", f, err, sp.n)
		}
		c.names = append(c.names, id)
		c.body[id] = b
		c.sets[id] = &Dataset{ID: id, Start: sp.min.Truncate(time.Hour), Stop: sp.max.Truncate(time.Hour).Add(time.Hour), Header: hdr}
	}
	srv := httptest.NewServer(New(c, Options{Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	return srv, c
}

func TestFirstHeader(t *testing.T) {
	b := dastest.ReadGolden(t, "d22_nodata.d2t")
	_, err := FirstHeader(func(s das.Sink) error {
		_, err := convert.Decode(t.Context(), bytes.NewReader(b), s, nil)
		return err
	})
	if !errors.Is(err, ErrNoHeader) {
		t.Errorf("nodata stream: %v", err)
	}
	boom := errors.New("reader failed")
	if _, err := FirstHeader(func(das.Sink) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("failing run: %v", err)
	}
}

// TestGoldenStreamsPassVerifierRules serves every golden das2/das3 sample through
// HAPI and applies the verifier's rules to info and to data in every format.
func TestGoldenStreamsPassVerifierRules(t *testing.T) {
	srv, c := newGoldenServer(t)
	for _, id := range c.names {
		t.Run(id, func(t *testing.T) {
			ds := c.sets[id]
			in := verifyInfo(t, get(t, srv.URL, "/hapi/info?dataset="+id).body)
			q := "/hapi/data?dataset=" + id + "&start=" + formatDate(ds.Start) + "&stop=" + formatDate(ds.Stop)
			rows := verifyCSV(t, in, string(get(t, srv.URL, q).body), ds.Start, ds.Stop)
			if len(rows) == 0 {
				t.Fatal("no rows")
			}
			bin := decodeBinary(t, in, get(t, srv.URL, q+"&format=binary").body, ds.Start, ds.Stop)
			for i := range bin {
				if strings.Join(bin[i], ",") != strings.Join(rows[i], ",") {
					t.Errorf("row %d: binary %v, csv %v", i, bin[i], rows[i])
				}
			}
			if _, js := verifyJSON(t, get(t, srv.URL, q+"&format=json").body, ds.Start, ds.Stop); len(js) != len(rows) {
				t.Errorf("json %d rows, csv %d", len(js), len(rows))
			}
		})
	}
	// Known values: the text scalar sample, and the text spectrogram's bins.
	a := get(t, srv.URL, "/hapi/data?dataset=d22_scalar_text&start=2024-01-01&stop=2024-01-01T01")
	want := "2024-01-01T00:00:00.000Z,12.34\n2024-01-01T00:01:00.000Z,12.5\n2024-01-01T00:02:00.000Z,12.61\n" +
		"2024-01-01T00:03:00.000Z,12.7\n2024-01-01T00:04:00.000Z,12.66\n"
	if string(a.body) != want {
		t.Errorf("d22_scalar_text csv\n%s\nwant\n%s", a.body, want)
	}
	// 4-byte reals print as the float32 they are, in CSV and JSON.
	for _, id := range []string{"d22_scalar_le", "d3_scalar_tt2000"} {
		if a := get(t, srv.URL, "/hapi/data?dataset="+id+"&start=2024-01-01&stop=2024-01-01T01"); string(a.body) != want {
			t.Errorf("%s csv\n%s\nwant\n%s", id, a.body, want)
		}
	}
	if a := get(t, srv.URL, "/hapi/data?dataset=d22_scalar_le&start=2024-01-01&stop=2024-01-01T00:01&format=json"); !strings.Contains(string(a.body), `["2024-01-01T00:00:00.000Z",12.34]`) {
		t.Errorf("json\n%s", a.body)
	}
	in := verifyInfo(t, get(t, srv.URL, "/hapi/info?dataset=d22_spectrogram_text").body)
	if p := in.Parameters[1]; len(p.Bins) != 1 || len(p.Bins[0].Centers) != 4 || p.Bins[0].Centers[3] != 10000 {
		t.Errorf("spectrogram parameter %+v", p)
	}
	in = verifyInfo(t, get(t, srv.URL, "/hapi/info?dataset=d3_spectrogram_bin").body)
	if p := in.Parameters[1]; len(p.Bins) != 1 || len(p.Bins[0].Centers) != 4 || p.Bins[0].Centers[0] != 12.5 {
		t.Errorf("das3 spectrogram parameter %+v", p)
	}
}
