package readers

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/streams/convert"
)

var (
	benchReaderOnce sync.Once
	benchReader     string
)

// builtGenreader builds the example reader once (benchmarks run it as a real process).
func builtGenreader(b *testing.B) string {
	b.Helper()
	benchReaderOnce.Do(func() {
		dir, err := osMkdirTemp()
		if err != nil {
			b.Fatal(err)
		}
		benchReader = filepath.Join(dir, "genreader")
		if out, err := exec.Command("go", "build", "-o", benchReader, "../../examples/sources/genreader").CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	})
	return benchReader
}

// BenchmarkReader10M serves 10 M records of the example reader (one value a second over
// 115.7 days) through the pipeline into das2 binary and CSV writers: records/s end to end
// (reader process, decode, write) and the server side's heap growth.
func BenchmarkReader10M(b *testing.B) {
	reader := builtGenreader(b)
	def := &Definition{ID: "bench/waves", File: filepath.Join(b.TempDir(), "x.dsdf"), Reader: []string{reader, "waveform"}, Format: Das2}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 10_000_000
	req := Request{Start: ReaderTime(start), End: ReaderTime(start.Add(n * time.Second))}
	for _, f := range []struct {
		name string
		opt  convert.Options
	}{{"das2", convert.Options{Format: convert.Das2}}, {"csv", convert.Options{Format: convert.CSV}}} {
		b.Run(f.name, func(b *testing.B) {
			r := &Runner{}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var peak uint64
			for b.Loop() {
				w, err := convert.NewWriter(io.Discard, f.opt)
				if err != nil {
					b.Fatal(err)
				}
				res, err := Stream(context.Background(), r, def, req, w)
				if err != nil || res.Records != n {
					b.Fatalf("%+v %v", res, err)
				}
				_ = w.Close()
				runtime.ReadMemStats(&after)
				peak = max(peak, after.HeapInuse)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(int64(peak)-int64(before.HeapInuse))/(1<<20), "heap-growth-MB")
		})
	}
}

// BenchmarkCacheWarmYear answers a year of the example spectrogram reduced to 1 h from a
// warm monthly cache (12 blocks read, no reader run).
func BenchmarkCacheWarmYear(b *testing.B) {
	reader := builtGenreader(b)
	level := CacheLevel{Resolution: time.Hour, Period: "monthly", Params: "_noparam"}
	def := &Definition{ID: "bench/spec", File: filepath.Join(b.TempDir(), "x.dsdf"), Reader: []string{reader, "spectrogram"}, Format: Das2, CacheLevels: []CacheLevel{level}}
	c := &Cache{Dir: b.TempDir(), Runner: &Runner{}}
	start, end := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := c.Fill(context.Background(), def, level, start, end, ""); err != nil {
		b.Fatal(err)
	}
	computed := c.Stats().Computed
	for b.Loop() {
		w, err := convert.NewWriter(io.Discard, convert.Options{Format: convert.Das2})
		if err != nil {
			b.Fatal(err)
		}
		res, err := c.Serve(context.Background(), def, level, start, end, "", w)
		if err != nil || res.Records != 8760 {
			b.Fatalf("%+v %v", res, err)
		}
		_ = w.Close()
	}
	if c.Stats().Computed != computed {
		b.Fatal("a warm request ran the reader")
	}
}

func osMkdirTemp() (string, error) { return os.MkdirTemp("", "rhizoflex-bench-") }
