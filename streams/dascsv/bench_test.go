package dascsv_test

import (
	"io"
	"testing"

	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dascsv"
	"github.com/rhizoflex/rhizoflex/streams/dastest"
)

func BenchmarkWrite(b *testing.B) {
	for _, s := range []struct {
		name  string
		items int
	}{{"scalar", 1}, {"spectra64", 64}} {
		b.Run(s.name, func(b *testing.B) {
			ds := dastest.Dataset(1, s.items)
			w := dascsv.NewWriter(io.Discard, dascsv.Options{})
			if err := w.Dataset(ds); err != nil {
				b.Fatal(err)
			}
			var rec das.Record
			rec.Reset(ds)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				dastest.Fill(&rec, i)
				if err := w.Record(&rec); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
