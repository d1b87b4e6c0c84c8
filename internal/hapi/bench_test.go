package hapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dastest"
)

// benchCatalog streams n records of a das header (scalar or 64-item spectra).
type benchCatalog struct {
	hdr *das.Dataset
	n   int
}

func (c *benchCatalog) List(context.Context, *http.Request) ([]Entry, error) { return nil, nil }
func (c *benchCatalog) Describe(context.Context, *http.Request, string) (*Dataset, error) {
	return &Dataset{ID: "b", Start: t0, Stop: t0.Add(1000 * 24 * time.Hour), Header: c.hdr}, nil
}
func (c *benchCatalog) Stream(_ context.Context, _ *http.Request, _ string, _, _ time.Time, sink das.Sink) error {
	if err := sink.Dataset(c.hdr); err != nil {
		return err
	}
	var rec das.Record
	rec.Reset(c.hdr)
	for i := range c.n {
		dastest.Fill(&rec, i)
		if err := sink.Record(&rec); err != nil {
			return err
		}
	}
	return nil
}

// discard is a ResponseWriter that drops the body.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkData serves one request of b.N records through the data endpoint.
func BenchmarkData(b *testing.B) {
	for _, shape := range []struct {
		name  string
		items int
	}{{"scalar", 1}, {"spectra64", 64}} {
		for _, format := range []string{"csv", "binary"} {
			b.Run(shape.name+"/"+format, func(b *testing.B) {
				cat := &benchCatalog{hdr: dastest.Dataset(0, shape.items), n: b.N}
				h := New(cat, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
				req := httptest.NewRequest(http.MethodGet, "/hapi/data?dataset=b&start=2024-01-01&stop=2026-01-01&format="+format, nil)
				b.ReportAllocs()
				b.ResetTimer()
				h.ServeHTTP(&discard{h: http.Header{}}, req)
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}
