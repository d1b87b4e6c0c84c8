package das3_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/das3"
	"github.com/rhizoflex/rhizoflex/streams/dastest"
)

// stream returns the header bytes and one record of a Dataset(1, items) stream.
func stream(b *testing.B, items int, opt das3.WriterOptions) (head, body []byte) {
	ds := dastest.Dataset(1, items)
	var buf bytes.Buffer
	w := das3.NewWriter(&buf, opt)
	if err := w.Stream(&das.Stream{Version: "3.0"}); err != nil {
		b.Fatal(err)
	}
	if err := w.Dataset(ds); err != nil {
		b.Fatal(err)
	}
	head = append([]byte(nil), buf.Bytes()...)
	buf.Reset()
	var rec das.Record
	rec.Reset(ds)
	dastest.Fill(&rec, 7)
	if err := w.Record(&rec); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return head, buf.Bytes()
}

var shapes = []struct {
	name  string
	items int
}{{"scalar", 1}, {"spectra64", 64}}

func BenchmarkDecodeBinary(b *testing.B) {
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			head, body := stream(b, s.items, das3.WriterOptions{})
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			var c dastest.Count
			if err := das3.Decode(b.Context(), dastest.NewRepeatReader(head, body, b.N), &c, das3.ReaderOptions{}); err != nil {
				b.Fatal(err)
			}
			if c.Records != int64(b.N) {
				b.Fatalf("%d records, want %d", c.Records, b.N)
			}
			b.ReportMetric(float64(b.N*(s.items+1))/b.Elapsed().Seconds(), "values/s")
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, s := range shapes {
		for _, text := range []bool{false, true} {
			name := s.name + "/binary"
			if text {
				name = s.name + "/text"
			}
			b.Run(name, func(b *testing.B) {
				ds := dastest.Dataset(1, s.items)
				w := das3.NewWriter(io.Discard, das3.WriterOptions{Text: text})
				if err := w.Stream(&das.Stream{Version: "3.0"}); err != nil {
					b.Fatal(err)
				}
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
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
				b.ReportMetric(float64(b.N*(s.items+1))/b.Elapsed().Seconds(), "values/s")
			})
		}
	}
}

func BenchmarkDecodeText(b *testing.B) {
	head, body := stream(b, 1, das3.WriterOptions{Text: true})
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	var c dastest.Count
	if err := das3.Decode(b.Context(), dastest.NewRepeatReader(head, body, b.N), &c, das3.ReaderOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
