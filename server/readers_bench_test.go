package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
)

// BenchmarkReaderHTTP10M (issue 16): the example reader (genreader waveform, one value a
// second) producing 10 M records, served by `rhizoflex serve` (the real binary, built at
// the start, a separate process on SQLite) over loopback HTTP as das2 binary and as CSV,
// read to the end by this process. Reported: records/s end to end, and the server
// process's RSS growth (its VmRSS sampled every 20 ms during the request, peak minus the
// value before; the reader is a process of its own and not counted). See
// docs/BENCHMARKS.md.
func BenchmarkReaderHTTP10M(b *testing.B) {
	const n = 10_000_000
	bin := filepath.Join(b.TempDir(), "rhizoflex")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/rhizoflex/rhizoflex").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	srcDir := b.TempDir()
	def := "description = 'Benchmark waves'\nreader = '" + exampleReader(b) + " waveform'\ndas2Stream = 1\n" +
		"techContact = 'T <t@example.com>'\nexampleRange_00 = '2024-01-01 to 2024-01-02 UTC'\n"
	if err := os.WriteFile(filepath.Join(srcDir, "Waves.dsdf"), []byte(def), 0o644); err != nil {
		b.Fatal(err)
	}
	dbURL := dbtest.URL(b, "sqlite")
	db, err := database.Open(context.Background(), dbURL)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	url, pid := startRhizoflexProcess(b, bin, dbURL, "", "RHIZOFLEX_SOURCES_DIR="+srcDir, "RHIZOFLEX_SELFCHECK_INTERVAL=0")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	rng := "read.time.min=" + start.Format(time.RFC3339) + "&read.time.max=" + start.Add(n*time.Second).Format(time.RFC3339)
	b.Logf("load average before: %s", loadAverage())
	for _, f := range []struct {
		name, query string
		check       func(body int64, lines int64) bool
	}{
		// das2 binary: a 16-byte packet (`:01:`, real8 time, real4 value) per record.
		{"das2", "&format.version=2", func(body, _ int64) bool { return body >= n*16 }},
		{"csv", "&format.type=csv", func(_, lines int64) bool { return lines == n }},
	} {
		b.Run(f.name, func(b *testing.B) {
			var (
				peak  float64
				total time.Duration
				runs  int
			)
			for b.Loop() {
				before := processRSS([]int{pid})
				stop, peakOf := sampleRSS(pid)
				t0 := time.Now()
				resp, err := http.Get(url + "/das/source/Waves/flex?" + rng + f.query)
				if err != nil {
					b.Fatal(err)
				}
				var cnt lineCounter
				_, err = io.Copy(&cnt, resp.Body)
				_ = resp.Body.Close()
				elapsed := time.Since(t0)
				stop()
				if err != nil || resp.StatusCode != http.StatusOK || !f.check(cnt.bytes, cnt.lines) {
					b.Fatalf("%s: %d, %d bytes, %d lines, %v", f.name, resp.StatusCode, cnt.bytes, cnt.lines, err)
				}
				peak = max(peak, peakOf()-before)
				total += elapsed
				runs++
			}
			b.ReportMetric(float64(n*runs)/total.Seconds(), "records/s")
			b.ReportMetric(peak, "MB-rss-growth")
		})
	}
	b.Logf("load average after: %s", loadAverage())
}

// lineCounter counts the bytes and newlines written to it.
type lineCounter struct{ bytes, lines int64 }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.bytes += int64(len(p))
	c.lines += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

// sampleRSS samples pid's VmRSS every 20 ms until stop is called; peak returns the
// largest sample.
func sampleRSS(pid int) (stop func(), peak func() float64) {
	var (
		mu   sync.Mutex
		high = processRSS([]int{pid})
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				v := processRSS([]int{pid})
				mu.Lock()
				high = max(high, v)
				mu.Unlock()
			}
		}
	})
	return func() { close(done); wg.Wait() }, func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return high
	}
}
