package reduce_test

import (
	"testing"

	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dastest"
	"github.com/rhizoflex/rhizoflex/streams/reduce"
)

// BenchmarkReduce feeds one-second records into 60 s bins (das2_bin_avgsec 60).
func BenchmarkReduce(b *testing.B) {
	for _, s := range []struct {
		name  string
		items int
	}{{"scalar", 1}, {"spectra64", 64}} {
		b.Run(s.name, func(b *testing.B) {
			ds := dastest.Dataset(1, s.items)
			var c dastest.Count
			r, err := reduce.New(&c, reduce.Options{Width: 60})
			if err != nil {
				b.Fatal(err)
			}
			if err := r.Stream(&das.Stream{Version: "2.2"}); err != nil {
				b.Fatal(err)
			}
			if err := r.Dataset(ds); err != nil {
				b.Fatal(err)
			}
			var rec das.Record
			rec.Reset(ds)
			dastest.Fill(&rec, 0)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rec.Floats[0] = 757382400e6 + float64(i)*1e6
				if err := r.Record(&rec); err != nil {
					b.Fatal(err)
				}
			}
			if err := r.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(b.N*s.items)/b.Elapsed().Seconds(), "values/s")
		})
	}
}
